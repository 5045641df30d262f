// `kdmq replay CAPTURE`: the timeline of every DMQ node of a capture, as text. Per node: its
// starts, every change of the node list it sent (its membership view), its requests that went
// unanswered, its binding and htable changes (a sync answer in one line), then its final state,
// with what the capture cannot know said where it applies.

import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import { clock, frameRange, nodeName, nodeOfUri, type Frame } from './history-frames.ts';
import type { History, HistoryEvent, NodeHistory } from './history.ts';

/** binding and htable lines printed per node before the rest are counted */
const MAX_DATA_LINES = 60;

const fr = (f: Frame | undefined) => (f ? `#${f.n}` : '');
const short = (h: History, id: string) => {
  const i = nodeOfUri(h, id);
  return i >= 0 ? nodeName(h, i) : id;
};
const bindingText = (c: UsrlocContact) => `${c.aor} ${c.c} (Call-ID ${c.callid}, CSeq ${c.cseq}${c.expires ? `, expires ${clock(c.expires * 1000).slice(0, 8)}` : ''})`;

export function timelineHeader(h: History, source: string): string {
  const span = ((h.end - h.start) / 1000).toFixed(1);
  return [
    `${source}: ${h.frames.length} SIP datagrams from ${clock(h.start)} to ${clock(h.end)} UTC (${span} s), ${h.nodes.length} DMQ nodes: ${h.nodes.map((n) => `${n.name}=${n.id}`).join(' ')}`,
    'frames (#N) are numbered as kdmq trace show draws them: #1 is the first SIP datagram of the capture',
  ].join('\n');
}

function eventLine(h: History, n: NodeHistory, e: HistoryEvent): string | null {
  switch (e.k) {
    case 'start':
      if (e.rejoin) return `${fr(e.f)} startup notification again (the node found itself alone and rejoins; its tables are kept)`;
      return `${fr(e.f)} ${e.restart ? 'restarted' : 'started'} (startup notification, Max-Forwards 2): holds nothing from before (Kamailio starts with empty tables unless it loads a database)`;
    case 'list': {
      if (e.first) return `${fr(e.f)} lists ${e.active.length ? e.active.map((x) => `${short(h, x)} active`).join(', ') : 'only itself'}`;
      const parts = [...e.added.map((x) => `${short(h, x)} active`), ...e.removed.map((x) => `${short(h, x)} no longer active (pending, disabled or removed: a list does not say which)`)];
      return `${fr(e.f)} lists ${parts.join('; ')}`;
    }
    case 'timeout':
      return `KDMQ ${e.tx.channel ?? ''} to ${nodeName(h, e.peer)} sent at ${clock(e.tx.sends[0].t)} (${frameRange(e.tx.sends)}, ${e.tx.sends.length} transmissions) never answered: timed out by about now`;
    case 'binding': {
      if (e.sync) return null;
      const c = e.change.contact;
      if (e.change.kind === 'expire') return `binding expired: ${bindingText(c)}`;
      const who = e.change.origin === 'local' ? 'its own change' : `from ${nodeName(h, e.from)}`;
      const sign = e.change.kind === 'delete' ? '-' : e.change.kind === 'insert' ? '+' : '~';
      return `${fr(e.f)} ${sign} ${bindingText(c)} ${who}`;
    }
    case 'htable':
      if (e.sync) return null;
      return `${fr(e.f)} htable ${e.lines.join(', ')} ${e.from === n.i ? 'its own change' : `from ${nodeName(h, e.from)}`}`;
    case 'synced': {
      const what = e.channel === 'usrloc' ? 'bindings' : 'htable items';
      if (e.from === n.i) return `${fr(e.f)} sent its sync answer to ${nodeName(h, e.to)}: ${e.sent} ${what} (${frameRange(e.frames) || 'no frames'}), its whole ${e.channel === 'usrloc' ? 'location table' : 'replicated htable'} then`;
      return `${fr(e.f)} ${e.learned} ${what} learned from ${nodeName(h, e.from)}'s sync answer (${e.sent} sent, ${frameRange(e.frames) || 'no frames'})`;
    }
  }
}

function knowledge(h: History, n: NodeHistory): string[] {
  const out: string[] = [];
  const first = n.events.find((e) => e.k === 'start');
  if (!first || first.t > (n.firstSent ?? h.start) + 1) {
    out.push(`bindings and htable items held before ${clock(h.start)} unknown (no startup notification from this node: it was running when the capture began)`);
  }
  return out;
}

export function nodeTimeline(h: History, n: NodeHistory): string {
  const out = [`== ${n.node.name} ${n.node.id} (${n.node.endpoints.join(', ')})`];
  for (const k of knowledge(h, n)) out.push(`  ${clock(h.start)}  ${k}`);
  let data = 0;
  let hidden = 0;
  for (const e of n.events) {
    const line = eventLine(h, n, e);
    if (line === null) continue;
    if (e.k === 'binding' || e.k === 'htable') {
      if (data++ >= MAX_DATA_LINES) {
        hidden++;
        continue;
      }
    }
    out.push(`  ${clock(e.t)}  ${line}`);
  }
  if (hidden) out.push(`  … ${hidden} more binding and htable changes`);
  if (n.lastSent !== null && h.end - n.lastSent > 15_000) out.push(`  ${clock(n.lastSent)}  last datagram this node sent (silent for the last ${((h.end - n.lastSent) / 1000).toFixed(1)} s of the capture)`);
  if (n.firstSent === null) out.push('  (this node sent nothing in the capture: it is known only from what others sent it)');
  out.push(...finalState(h, n).map((l) => `  ${l}`));
  return out.join('\n');
}

export function finalState(h: History, n: NodeHistory): string[] {
  const out = [`final state at ${clock(h.end)}:`];
  const last = n.lists[n.lists.length - 1];
  out.push(last ? `  membership (its last list, ${fr(last.f)} at ${clock(last.f.t)}): ${[`${n.node.name} (itself)`, ...last.active.map((x) => `${short(h, x)} active`)].join(', ')}` : '  membership: unknown (it sent no node list)');
  const bs = n.tables.allBindings();
  const ku = n.knownSince.usrloc;
  out.push(`  bindings: ${bs.length}${ku === null ? ` as far as the capture shows (those held before ${clock(h.start)} unknown)` : ` (known whole since ${clock(ku)})`}`);
  for (const b of bs) out.push(`    ${bindingText(b)} ruid ${b.ruid}`);
  const items = n.tables.htableItems();
  const kh = n.knownSince.htable;
  out.push(`  htable items: ${items.length}${kh === null ? ` as far as the capture shows (those held before ${clock(h.start)} unknown)` : ` (known whole since ${clock(kh)})`}`);
  for (const i of items) out.push(`    ${i}`);
  return out;
}

export function timelineText(h: History, source: string): string {
  return [timelineHeader(h, source), ...h.perNode.map((n) => nodeTimeline(h, n))].join('\n\n') + '\n';
}
