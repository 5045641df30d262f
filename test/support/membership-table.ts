// Reads the transition table of specs/membership.md and evaluates it as a reference: given a
// node's state, context and an event, which row applies. Used by the table test, the property
// test and (later) the model checker's INV-01.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeContext, NodeEvent } from '../../src/actors/membership/node-machine.ts';

export interface Row {
  id: string;
  from: string;
  trigger: string;
  guards: string[];
  to: string;
  origin: string;
}

export function readMembershipRows(): Row[] {
  const path = fileURLToPath(new URL('../../specs/membership.md', import.meta.url));
  const rows: Row[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\|\s*(M\d+)\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const cells = m[2].split('|').map((c) => c.trim());
    const [from, trigger, guard, to, origin] = cells;
    rows.push({ id: m[1], from, trigger, guards: guard ? guard.split(',').map((g) => g.trim()) : [], to, origin });
  }
  return rows;
}

export function triggerOf(e: NodeEvent): string {
  switch (e.type) {
    case 'node.listed':
      return `listed:${e.status}`;
    case 'node.replied':
      return 'replied';
    case 'node.heard':
      return 'heard';
    case 'node.timedOut':
      return 'timedOut';
    case 'node.remove':
      return 'remove';
  }
}

function guardHolds(g: string, ctx: NodeContext, e: NodeEvent): boolean {
  const stale = e.type === 'node.timedOut' && e.sentAt < ctx.aliveAt;
  const seedKept = ctx.seed && !ctx.failRemove;
  const sentWhileDisabled = e.type === 'node.timedOut' && e.sentWhile === 'disabled';
  const trusted = ctx.failedAt <= ctx.aliveAt;
  switch (g) {
    case 'trusted':
      return trusted;
    case 'suspect':
      return !trusted;
    case 'stale':
      return stale;
    case 'seedKept':
      return seedKept;
    case 'not seedKept':
      return !seedKept;
    case 'sentWhileDisabled':
      return sentWhileDisabled;
    case 'not sentWhileDisabled':
      return !sentWhileDisabled;
    default:
      throw new Error(`unknown guard "${g}" in specs/membership.md`);
  }
}

/** the rows that apply; a time-out row without `stale` requires a fresh time-out */
export function matchingRows(rows: Row[], state: string, ctx: NodeContext, e: NodeEvent): Row[] {
  const t = triggerOf(e);
  return rows.filter((r) => {
    if (r.from !== state || r.trigger !== t) return false;
    if (t === 'timedOut' && !r.guards.includes('stale') && e.type === 'node.timedOut' && e.sentAt < ctx.aliveAt) return false;
    return r.guards.every((g) => guardHolds(g, ctx, e));
  });
}
