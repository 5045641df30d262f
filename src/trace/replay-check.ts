// `kdmq replay CAPTURE --check`: the model checker's invariants (specs/invariants.md, the
// checker functions of src/sim/invariants.ts) evaluated on the captured history of a real
// cluster. Each invariant gets one verdict: pass, FAIL (with the frames that show each
// violation) or not decidable, when it needs what a capture cannot hold (a node's internal
// status, the tables it held before the capture, a quiet period the capture does not reach).
// This file: the membership and wire invariants; replay-check-data.ts: the table invariants.

import { checkDatagramSize, checkNodeListBody, checkDataSender, INVARIANTS } from '../sim/invariants.ts';
import { clock, frameRange, nodeName, type Frame } from './history-frames.ts';
import type { History, NodeHistory } from './history.ts';
import { dataVerdicts, liveNodes } from './replay-check-data.ts';
import { verdictOf, type CaptureViolation, type Verdict } from './replay-verdict.ts';

export type { Verdict } from './replay-verdict.ts';

/** INV-01 on a capture: a node that timed out may not be listed active again without a sign of life of its own (M02/M11, C2) */
function inv01(h: History): Verdict {
  const out: CaptureViolation[] = [];
  let timeouts = 0;
  for (const n of h.perNode) {
    const reported = new Set<number>();
    for (const e of n.events) {
      if (e.k !== 'timeout') continue;
      timeouts++;
      const x = h.nodes[e.peer].id;
      const sent = e.tx.sends[0].t;
      const lifeSign = (t: number) => h.frames.some((f) => f.src === e.peer && f.dst === n.i && f.t > sent && f.t <= t);
      const after = n.lists.filter((l) => l.f.t > e.t);
      const bad = after.find((l) => l.active.includes(x) && !lifeSign(l.f.t));
      if (!bad || lifeSign(e.t) || reported.has(e.peer)) continue;
      reported.add(e.peer);
      const what = kind(h, n, e.peer, e.t, bad.f.t);
      out.push({
        f: bad.f,
        text: `${n.node.name} lists ${nodeName(h, e.peer)} active at ${clock(bad.f.t)} although its KDMQ ${e.tx.channel} to it (sent ${clock(sent)}) went unanswered (timed out by ${clock(e.t)}) and ${nodeName(h, e.peer)} has sent ${n.node.name} nothing since: ${what}`,
        frames: `${frameRange(e.tx.sends)} unanswered, #${bad.f.n} the list`,
      });
      for (const r of n.events) if (r.k === 'timeout' && r.peer === e.peer) reported.add(r.peer);
    }
  }
  const lists = h.perNode.reduce((s, n) => s + n.lists.length, 0);
  if (timeouts === 0) return verdictOf('INV-01', out, `no request went unanswered in the capture; the triggers of other status changes are inside the nodes (${lists} node lists seen)`, false);
  return verdictOf('INV-01', out, `${timeouts} unanswered requests and the ${lists} node lists sent after them; other status changes happen inside the nodes`);
}

/** why n lists x active again: what the capture shows of n's configuration (its startup's destinations) and of its pings */
function kind(h: History, n: NodeHistory, x: number, from: number, to: number): string {
  const name = nodeName(h, x);
  const seed = n.seeds?.has(x);
  if (seed === false || (seed === undefined && removedBetween(h, n, x, from, to))) {
    return `a ghost node: ${name} is no notification address of ${n.node.name} (its startup went ${n.seeds ? `to ${[...n.seeds].map((i) => nodeName(h, i)).join(', ')} only` : 'elsewhere'}), so 5.6.3 disabled it, deleted it at the next time-out and re-created it active from another node's list (specs/membership.md C2: only as a pending suspect; kamailio-dmq-protocol.md §8 #5)`;
  }
  const why = seed
    ? `${name} is a notification address of ${n.node.name}: 5.6.3 keeps it pending and the other nodes' lists flip it back to active`
    : `with IP notification addresses 5.6.3 keeps a dead seed pending and the other nodes' lists flip it back to active (the capture began after ${n.node.name}'s startup: whether ${name} is its seed it does not show)`;
  return `a dead node never disabled: ${n.node.name} went on pinging it and still lists it active (${why}; specs/membership.md M02/M11, kamailio-dmq-protocol.md §8 #6)`;
}

/** Kamailio pings every node it lists, whatever its status: a pause in n's requests to x longer than two ping intervals means n had removed x */
function removedBetween(h: History, n: NodeHistory, x: number, from: number, to: number): boolean {
  const { period } = liveNodes(h);
  const ts = h.frames.filter((f) => f.src === n.i && f.dst === x && f.req && f.tx?.sends[0] === f && f.t > from && f.t < to).map((f) => f.t);
  let prev = from;
  for (const t of [...ts, to]) {
    if (t - prev > 2 * period) return true;
    prev = t;
  }
  return false;
}

/** INV-02 on the wire: every node list a node sends names it once, active (disabled: a leave notice) */
function inv02(h: History): Verdict {
  const out: CaptureViolation[] = [];
  let n = 0;
  for (const nh of h.perNode) {
    for (const l of nh.lists) {
      n++;
      const ok = l.self.length === 1 && (l.self[0] === 'active' || (l.self[0] === 'disabled' && l === nh.lists[nh.lists.length - 1]));
      if (!ok) out.push({ f: l.f, text: `${nh.node.name}'s node list names it ${l.self.length} times${l.self.length ? ` (${l.self.join(', ')})` : ''}`, frames: `#${l.f.n}` });
    }
  }
  return verdictOf('INV-02', out, `${n} node lists`, n > 0);
}

/** what node `n` held active at time t: its last list, and the lines it received since (Kamailio merges them) */
function viewAt(h: History, n: NodeHistory, t: number): Set<string> | null {
  const last = [...n.lists].reverse().find((l) => l.f.t <= t);
  const since = last ? last.f.t : -Infinity;
  const got = h.frames.filter((f) => f.dst === n.i && f.channel === 'notification_peer' && f.t > since && f.t <= t && f.body);
  if (!last && got.length === 0) return null;
  const view = new Set(last?.active ?? []);
  for (const f of got) for (const m of f.body.matchAll(/^sip:([^;\r\n]+);status=active\r?$/gm)) view.add(`sip:${m[1]}`);
  return view;
}

/** INV-03: data from a node the receiver did not hold active, answered 200 (applied) */
function inv03(h: History): Verdict {
  const out: CaptureViolation[] = [];
  let checked = 0;
  for (const f of h.frames) {
    if (!f.req || (f.channel !== 'usrloc' && f.channel !== 'htable') || f.src < 0 || f.dst < 0 || (f.tx && f.tx.sends[0] !== f)) continue;
    if (f.tx?.answer && f.tx.answer.res!.status >= 300) continue;
    const view = viewAt(h, h.perNode[f.dst], f.t);
    if (!view) continue;
    checked++;
    const sender = h.nodes[f.src].id;
    const why = checkDataSender(f.channel, sender, view.has(sender) ? 'active' : undefined, f.src === f.dst);
    if (why) out.push({ f, text: `${nodeName(h, f.dst)}: ${why} (answered ${f.tx?.answer ? f.tx.answer.res!.status : 'nothing'}; its view: its last list and the lists it received since)`, frames: `#${f.n}${f.tx?.answer ? `, #${f.tx.answer.n}` : ''}` });
  }
  return verdictOf('INV-03', out, `${checked} data KDMQ whose receiver's view the capture shows`, checked > 0);
}

/** INV-06 and INV-07: every datagram's size; every node-list body on the wire */
function wire(h: History): Verdict[] {
  const size: CaptureViolation[] = [];
  const lists: CaptureViolation[] = [];
  let bodies = 0;
  for (const f of h.frames) {
    const s = checkDatagramSize(f.size, Buffer.byteLength(f.body));
    if (s) size.push({ f, text: `${f.from} → ${f.to}: ${s}`, frames: `#${f.n}` });
    const isNotify = f.req !== null && f.channel === 'notification_peer';
    const is200 = f.res !== null && f.res.status === 200 && f.tx?.method === 'KDMQ' && f.body !== '';
    if (!isNotify && !is200) continue;
    bodies++;
    const why = checkNodeListBody(f.body, isNotify);
    if (why) lists.push({ f, text: `${f.from} → ${f.to}: ${why}${aftermath(h, f)}`, frames: `#${f.n}` });
  }
  return [verdictOf('INV-06', size, `${h.frames.length} datagrams`), verdictOf('INV-07', lists, `${bodies} node-list bodies`)];
}

/** what the receiver of a bad node list did next: a 5.6.3 node holds its list lock and goes quiet */
function aftermath(h: History, f: Frame): string {
  if (f.dst < 0) return '';
  const next = h.frames.find((x) => x.src === f.dst && x.t > f.t + 500 && (x.channel !== null || x.tx?.method === 'KDMQ'));
  const left = (h.end - f.t) / 1000;
  if (next) return '';
  const unanswered = h.frames.filter((x) => x.dst === f.dst && x.req?.method === 'KDMQ' && x.t > f.t && !x.tx?.answer).length;
  return `; ${nodeName(h, f.dst)} sent no DMQ datagram in the ${left.toFixed(1)} s of capture after it${unanswered ? ` and left ${unanswered} KDMQ transmissions to it unanswered` : ''} (the node-list lock-up of kamailio-dmq-protocol.md §8 #1)`;
}

/** INV-08: at the end, every live node's last list names every other live node active (after a quiet period) */
function inv08(h: History): Verdict {
  const { live, period, quietSince } = liveNodes(h);
  if (live.length < 2) return verdictOf('INV-08', [], `${live.length} node live at the end of the capture`, false);
  const out: CaptureViolation[] = [];
  for (const n of live) {
    const last = n.lists[n.lists.length - 1];
    if (!last || last.f.t < h.end - 2 * period) return verdictOf('INV-08', [], `${n.node.name} sent no node list in the last ${((2 * period) / 1000).toFixed(0)} s of the capture`, false);
    const missing = live.filter((o) => o !== n && !last.active.includes(o.node.id));
    if (missing.length) out.push({ f: last.f, text: `${n.node.name}'s last list does not name ${missing.map((o) => o.node.name).join(', ')} active (live at the end: ${live.map((o) => o.node.name).join(', ')})`, frames: `#${last.f.n}` });
  }
  const quiet = h.end - quietSince;
  if (out.length && quiet < period + 32_000) {
    return verdictOf('INV-08', [], `the capture ends ${(quiet / 1000).toFixed(1)} s after the last membership change (${clock(quietSince)}): the quiet period (a ping interval and a time-out) is not in it; ${out.map((v) => v.text).join('; ')}`, false);
  }
  return verdictOf('INV-08', out, `the last lists of ${live.map((n) => n.node.name).join(', ')} (live at the end)`);
}

export function checkCapture(h: History): Verdict[] {
  return [inv01(h), inv02(h), inv03(h), ...wire(h), inv08(h), ...dataVerdicts(h)].sort((a, b) => a.inv.localeCompare(b.inv));
}

/** the verdict lines, each violation after its invariant with the frames that show it */
export function formatVerdicts(vs: Verdict[], maxPerInvariant = 10): string {
  const out: string[] = [];
  for (const v of vs) {
    const first = v.violations[0];
    const head = v.verdict === 'FAIL' ? `${v.inv} FAIL at frame #${first.f.n} (${clock(first.f.t)}): ${v.violations.length} violation${v.violations.length > 1 ? 's' : ''}` : `${v.inv} ${v.verdict}`;
    out.push(`${head} — ${INVARIANTS[v.inv]?.title ?? ''}${v.detail ? ` [${v.detail}]` : ''}`);
    for (const x of v.violations.slice(0, maxPerInvariant)) out.push(`    frame #${x.f.n} ${clock(x.f.t)}: ${x.text}\n      frames: ${x.frames}`);
    if (v.violations.length > maxPerInvariant) out.push(`    … ${v.violations.length - maxPerInvariant} more`);
  }
  return out.join('\n') + '\n';
}

