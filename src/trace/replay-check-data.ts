// The table invariants of `kdmq replay CAPTURE --check` (see replay-check.ts): CSeq order and
// resurrection per node (INV-04, INV-05), one replacement order across nodes (INV-12) on the
// binding changes the capture shows; convergence of the live nodes' tables at the end (INV-09,
// INV-10) when every live node's tables are known whole; and no replicated change dropped
// (INV-11): a data KDMQ that timed out must reach its node later, once that node is back.

import { checkBindingsConverged, checkCseqMonotonic, checkHtableConverged, checkNoResurrection, DeleteMemory, type CseqMemory } from '../sim/invariants.ts';
import { VersionGraph } from '../sim/version-graph.ts';
import type { BindingChange } from '../actors/location/store.ts';
import { clock, frameRange, nodeName, timedOutAt, type Frame } from './history-frames.ts';
import type { History, NodeHistory } from './history.ts';
import { verdictOf, type CaptureViolation, type Verdict } from './replay-verdict.ts';

/** the ping interval the nodes use (the most common gap between a node's pings to one node), and the live nodes at the end */
export function liveNodes(h: History): { live: NodeHistory[]; period: number; quietSince: number } {
  const gaps: number[] = [];
  const lastPing = new Map<string, number>();
  for (const f of h.frames) {
    if (!f.req || f.channel !== 'notification_peer' || (f.tx && f.tx.sends[0] !== f)) continue;
    const k = `${f.from} ${f.to}`;
    const p = lastPing.get(k);
    if (p !== undefined && f.t - p >= 900) gaps.push(Math.round((f.t - p) / 1000) * 1000);
    lastPing.set(k, f.t);
  }
  const count = new Map<number, number>();
  for (const g of gaps) count.set(g, (count.get(g) ?? 0) + 1);
  const period = [...count].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 60_000;
  const live = h.perNode.filter((n) => n.lastSent !== null && n.lastSent >= h.end - period - 5000);
  let quietSince = h.start;
  for (const n of h.perNode) {
    for (const e of n.events) if (e.k === 'start' || e.k === 'timeout') quietSince = Math.max(quietSince, e.t);
    if (!live.includes(n) && n.lastSent !== null) quietSince = Math.max(quietSince, n.lastSent);
  }
  return { live, period, quietSince };
}

/** every node's binding changes in frame order; null = a node (re)started */
function allChanges(h: History): Array<{ node: number; f: Frame; change: BindingChange | null }> {
  return h.perNode.flatMap((n) => n.changes.map((c) => ({ node: n.i, ...c }))).sort((a, b) => a.f.n - b.f.n);
}

function perNodeOrder(h: History): Verdict[] {
  const cseq = new Map<number, CseqMemory>();
  const dels = new Map<number, DeleteMemory>();
  const seenAt = new Map<string, Frame>();
  const graph = new VersionGraph();
  const v04: CaptureViolation[] = [];
  const v05: CaptureViolation[] = [];
  const v12: CaptureViolation[] = [];
  let n = 0;
  for (const { node, f, change } of allChanges(h)) {
    if (change === null) {
      cseq.set(node, new Map());
      dels.set(node, new DeleteMemory());
      graph.started(node);
      continue;
    }
    n++;
    const who = nodeName(h, node);
    const key = (x: string) => `${node} ${change.contact.ruid} ${x}`;
    const a = checkCseqMonotonic(cseq.get(node) ?? cseq.set(node, new Map()).get(node)!, change);
    if (a) v04.push({ f, text: `${who} took ${a}`, frames: `${seenAt.has(key('v')) ? `#${seenAt.get(key('v'))!.n} the newer version, ` : ''}#${f.n} the older one` });
    const b = checkNoResurrection(dels.get(node) ?? dels.set(node, new DeleteMemory()).get(node)!, change);
    if (b) v05.push({ f, text: `${who}: ${b}`, frames: `${seenAt.has(key('d')) ? `#${seenAt.get(key('d'))!.n} the delete, ` : ''}#${f.n} the update` });
    const c = graph.onChange(node, change);
    if (c) v12.push({ f, text: `${who}: ${c}`, frames: `#${f.n}` });
    if (change.kind === 'delete') seenAt.set(key('d'), f);
    else if (change.kind !== 'expire') seenAt.set(key('v'), f);
  }
  const none = n === 0;
  const d = none ? 'no usrloc KDMQ in the capture' : `${n} binding changes on ${h.perNode.filter((x) => x.changes.some((c) => c.change)).length} nodes`;
  return [verdictOf('INV-04', v04, d, !none), verdictOf('INV-05', v05, d, !none), verdictOf('INV-12', v12, d, !none)];
}

function converged(h: History): Verdict[] {
  const { live } = liveNodes(h);
  const out: Verdict[] = [];
  for (const [inv, what, known] of [['INV-09', 'bindings', (n: NodeHistory) => n.knownSince.usrloc], ['INV-10', 'htable items', (n: NodeHistory) => n.knownSince.htable]] as const) {
    const unknown = live.filter((n) => known(n) === null);
    if (live.length < 2 || unknown.length) {
      out.push(verdictOf(inv, [], live.length < 2 ? `${live.length} node live at the end` : `the ${what} ${unknown.map((n) => n.node.name).join(', ')} held before ${clock(h.start)} are unknown (no startup or complete sync answer in the capture)`, false));
      continue;
    }
    const last = h.frames[h.frames.length - 1];
    const why = inv === 'INV-09'
      ? checkBindingsConverged(live.map((n) => ({ key: n.node.name, records: n.tables.allBindings() })), Math.floor(h.end / 1000) + 2)
      : checkHtableConverged(live.map((n) => ({ key: n.node.name, items: n.tables.htableItems() })));
    out.push(verdictOf(inv, why ? [{ f: last, text: why, frames: 'the tables at the end of the capture' }] : [], `${live.map((n) => n.node.name).join(', ')} live at the end, their ${what} known whole`));
  }
  return out;
}

/** INV-11: a change sent to a node that did not answer must be sent again once the node is back */
function inv11(h: History): Verdict {
  const out: CaptureViolation[] = [];
  let lost = 0;
  let open = 0;
  for (const tx of h.txs) {
    const f = tx.sends[0];
    if ((tx.channel !== 'usrloc' && tx.channel !== 'htable') || f.src < 0 || f.dst < 0 || /^\{"action":[13]\}$/.test(f.body.trim())) continue;
    const t = timedOutAt(tx, h.end);
    if (t === null) continue;
    lost++;
    const back = h.frames.find((x) => x.src === f.dst && x.t > t);
    if (!back) {
      open++;
      continue;
    }
    const keys = [...f.body.matchAll(/"(?:ruid|cname)":"([^"]*)"/g)].map((m) => m[1]);
    const resent = h.frames.some((x) => x.src === f.src && x.dst === f.dst && x.t > t && x.channel === tx.channel && x.tx?.answer && x.tx.answer.res!.status < 300 && keys.every((k) => x.body.includes(`"${k}"`)));
    if (!resent) out.push({ f, text: `${nodeName(h, f.src)}'s ${tx.channel} change (${keys.join(', ') || 'body'}) to ${nodeName(h, f.dst)} went unanswered (timed out by ${clock(t)}); ${nodeName(h, f.dst)} was back at ${clock(back.t)} (#${back.n}) and never got it again`, frames: `${frameRange(tx.sends)} unanswered, #${back.n} back` });
  }
  const d = `${lost} data KDMQ unanswered${open ? `, ${open} to nodes that did not come back in the capture (not decidable for those)` : ''}`;
  return verdictOf('INV-11', out, d, lost === 0 || open < lost);
}

export function dataVerdicts(h: History): Verdict[] {
  return [...perNodeOrder(h), ...converged(h), inv11(h)];
}
