// Runs one plan (src/sim/plan.ts) in a fresh World: the fault phase (steps at their times, link
// faults on), then faults stop (heal, clean links, DNS answers) and the quiet period runs, then the
// liveness invariants. Safety invariants are checked as events happen; the first safety violation
// ends the run. Same plan = same run, to the byte (the trace hash says so).

import { simIp } from './cluster.ts';
import { nodeConfig, World } from './world.ts';
import type { Plan, Step } from './plan.ts';
import * as inv from './invariants.ts';
import type { PlantedBug } from '../ports/faults.ts';

export type Verdict = 'pass' | 'crash' | 'safety' | 'liveness';
export const EXIT_CODE: Record<Verdict, number> = { pass: 0, crash: 3, safety: 4, liveness: 5 };

export interface KnownFinding {
  id: 'KF-01';
  violation: inv.Violation;
  reasons: string[];
}

export interface RunResult {
  verdict: Verdict;
  violations: inv.Violation[];
  /** a data-convergence failure explained by KF-01 (anti-entropy off, a partition); not a failure unless strict */
  known: KnownFinding | null;
  error?: string;
  /** the trace hash (8 hex digits), '' when the run neither recorded nor asked for it (RunOptions.hash) */
  hash: string;
  datagrams: number;
  simMs: number;
  trace: string[] | null;
}

export interface RunOptions {
  record?: boolean;
  /** compute the trace hash without recording (implied by record; without either RunResult.hash is '') */
  hash?: boolean;
  /** count KF-01 (unmerged writes across a partition) as a liveness failure */
  strict?: boolean;
  /** antientropy.interval of every node, seconds (default CHECK_AE_INTERVAL_S); 0 = off:
   * Kamailio-compatible replication only, where KF-01 applies */
  antientropy?: number;
  /** bugs planted in every node (the checker's own tests: src/sim/planted-bugs.ts) */
  plant?: readonly PlantedBug[];
}

/** the checker's anti-entropy interval: short enough for two rounds within the quiet period */
export const CHECK_AE_INTERVAL_S = 3;

interface Timed {
  at: number;
  seq: number;
  fn: () => Promise<void> | void;
}

class Faults {
  private readonly blocks = new Map<string, number>();
  private readonly spikes = new Set<string>();
  private dns = 0;
  constructor(private readonly w: World) {}

  block(a: number, b: number, d: 1 | -1): void {
    const k = `${a}>${b}`;
    this.blocks.set(k, (this.blocks.get(k) ?? 0) + d);
    this.apply();
  }
  private apply(): void {
    const net = this.w.cluster.net;
    net.heal();
    for (const [k, c] of this.blocks) {
      if (c <= 0) continue;
      const [a, b] = k.split('>').map(Number);
      net.block(simIp(a), simIp(b));
    }
  }
  spike(a: number, b: number, delayMs: number): void {
    this.spikes.add(`${a}>${b}`);
    this.w.cluster.net.setLink(simIp(a), simIp(b), { delayMs });
  }
  dnsFault(f: 'servfail' | 'timeout' | 'nxdomain' | null): void {
    this.dns += f ? 1 : -1;
    this.w.setDnsFault(this.dns > 0 ? (f ?? 'servfail') : null);
  }
  /** faults stop: every cut healed, every link clean, DNS answers */
  stopAll(): void {
    this.blocks.clear();
    this.apply();
    for (const k of this.spikes) {
      const [a, b] = k.split('>').map(Number);
      this.w.cluster.net.setLink(simIp(a), simIp(b), { delayMs: 1 });
    }
    this.w.cluster.net.setDefaults({ loss: 0, duplicate: 0, jitterMs: 0, delayMs: 1 });
    this.dns = 0;
    this.w.setDnsFault(null);
  }
}

function schedule(plan: Plan, w: World, f: Faults): Timed[] {
  const out: Timed[] = [];
  let seq = 0;
  const at = (t: number, fn: Timed['fn']) => out.push({ at: t, seq: seq++, fn });
  const uaLast = new Map<number, number>();
  const htSet = new Map<number, number>();
  const n = plan.nodes;
  const ok = (x: number) => x >= 0 && x < n;
  for (const st of [...plan.steps].sort((a, b) => a.at - b.at)) {
    if ('node' in st && !ok(st.node)) continue;
    scheduleStep(st, w, f, at, { uaLast, htSet, n });
  }
  return out.sort((a, b) => a.at - b.at || a.seq - b.seq);
}

interface StepState {
  uaLast: Map<number, number>;
  htSet: Map<number, number>;
  n: number;
  /** floods scheduled so far (each uses its own UA numbers) */
  floods?: number;
}

/** UAs of flood steps are numbered from here (the workload's own UAs are 0 … uas-1) */
const FLOOD_UA = 1000;

function scheduleStep(st: Step, w: World, f: Faults, at: (t: number, fn: Timed['fn']) => void, s: StepState): void {
  switch (st.op) {
    case 'register':
    case 'unregister': {
      // a UA waits for its answer before the next REGISTER (RFC 3261 §10.2): plain steps 300 ms apart
      if ((s.uaLast.get(st.ua) ?? -1e9) > st.at - 300) return;
      s.uaLast.set(st.ua, st.at);
      const expires = st.op === 'register' ? st.expires : 0;
      const newCall = st.op === 'register' && st.newCall;
      return at(st.at, () => w.register(st.node, st.ua, expires, newCall));
    }
    case 'burst': {
      if ((s.uaLast.get(st.ua) ?? -1e9) > st.at - 300) return;
      s.uaLast.set(st.ua, st.at + st.gapMs);
      at(st.at, () => w.register(st.node, st.ua, 120, false));
      return at(st.at + st.gapMs, () => w.register(st.node2, st.ua, st.then === 'refresh' ? 180 : 0, false));
    }
    case 'lb': {
      if ((s.uaLast.get(st.ua) ?? -1e9) > st.at - 300) return;
      s.uaLast.set(st.ua, st.at + 2 * st.gapMs);
      at(st.at, () => w.register(st.node, st.ua, 120, false));
      at(st.at + st.gapMs, () => w.register(st.node2, st.ua, 120, false));
      return at(st.at + 2 * st.gapMs, () => w.register(st.node3, st.ua, 120, true));
    }
    case 'htset':
      if (s.htSet.has(st.key)) return; // each key written once: htable has no versions (KF-02)
      s.htSet.set(st.key, st.at);
      return at(st.at, () => w.htSet(st.node, `k${st.key}`, `v${st.value}`));
    case 'htdel': {
      const setAt = s.htSet.get(st.key);
      if (setAt === undefined || setAt > st.at - 3000) return;
      s.htSet.set(st.key, Infinity);
      return at(st.at, () => w.htDelete(st.node, `k${st.key}`));
    }
    case 'join':
      return at(st.at, () => w.join(st.node));
    case 'restart':
      return at(st.at, () => (w.inDns.has(st.node) && !w.node(st.node) ? w.join(st.node) : undefined));
    case 'crash':
      return at(st.at, () => w.crash(st.node));
    case 'leave':
      return at(st.at, () => w.leave(st.node));
    case 'partition': {
      const a = st.side.filter((x) => x < s.n);
      const b = [...Array(s.n).keys()].filter((x) => !a.includes(x));
      const cut = (d: 1 | -1) => () => {
        for (const x of a) for (const y of b) (f.block(x, y, d), f.block(y, x, d));
      };
      at(st.at, cut(1));
      return at(st.at + st.ms, cut(-1));
    }
    case 'oneway':
      if (st.from === st.to || !(st.from < s.n && st.to < s.n)) return;
      at(st.at, () => f.block(st.from, st.to, 1));
      return at(st.at + st.ms, () => f.block(st.from, st.to, -1));
    case 'spike':
      if (st.from === st.to || !(st.from < s.n && st.to < s.n)) return;
      at(st.at, () => f.spike(st.from, st.to, st.delayMs));
      return at(st.at + st.ms, () => f.spike(st.from, st.to, 1));
    case 'swizzle': {
      const others = st.order.filter((x) => x !== st.node && x < s.n);
      const cutOrder = [...others].sort((x, y) => x - y);
      cutOrder.forEach((o, j) => at(st.at + j * st.stepMs, () => (f.block(st.node, o, 1), f.block(o, st.node, 1))));
      const t0 = st.at + cutOrder.length * st.stepMs;
      others.forEach((o, j) => at(t0 + j * st.stepMs, () => (f.block(st.node, o, -1), f.block(o, st.node, -1))));
      return;
    }
    case 'dns':
      at(st.at, () => f.dnsFault(st.fault));
      return at(st.at + st.ms, () => f.dnsFault(null));
    case 'flood': {
      const base = FLOOD_UA + 1000 * (s.floods = (s.floods ?? 0) + 1);
      const count = Math.min(st.count, 999);
      for (let j = 0; j < count; j++) at(st.at + Math.floor((j * st.spanMs) / count), () => w.register(st.node, base + j, 60, true));
      return;
    }
  }
}

function checkSelf(w: World): void {
  for (const m of w.live()) {
    const bad = inv.checkSelfListed(m.node.list.views(), m.node.list.localKey);
    if (bad) w.monitor.violate('INV-02', bad, m.index);
  }
}

/** run `ms` of virtual time in chunks, checking INV-02; false when a safety violation was found */
async function advance(w: World, ms: number): Promise<boolean> {
  const end = w.clock.now() + ms;
  while (w.clock.now() < end) {
    await w.run(Math.min(500, end - w.clock.now()));
    checkSelf(w);
    if (w.monitor.firstSafety()) return false;
  }
  return true;
}

export async function runPlan(plan: Plan, o: RunOptions = {}): Promise<RunResult> {
  const ae = o.antientropy ?? CHECK_AE_INTERVAL_S;
  const w = await World.create({
    nodes: plan.nodes, seed: plan.seed, offsetsMs: plan.offsetsMs, record: o.record, hash: o.hash, plant: o.plant,
    config: (_, ip) => ({ ...nodeConfig(ip), antientropy: { interval: ae } }),
  });
  const base: Omit<RunResult, 'verdict' | 'violations' | 'known'> = { hash: '', datagrams: 0, simMs: 0, trace: null };
  const done = (verdict: Verdict, known: KnownFinding | null = null, error?: string): RunResult => ({
    ...base, verdict, violations: w.monitor.violations, known, error,
    hash: w.monitor.hashing ? w.monitor.hash.toString(16).padStart(8, '0') : '', datagrams: w.monitor.datagrams,
    simMs: w.clock.now() - t0, trace: o.record ? w.monitor.lines : null,
  });
  const t0 = w.clock.now();
  w.monitor.note({ k: 'plan', plan });
  try {
    const faults = new Faults(w);
    w.cluster.net.setDefaults({ loss: plan.link.loss, duplicate: plan.link.duplicate, jitterMs: plan.link.jitterMs });
    for (let i = 0; i < Math.min(plan.initial, plan.nodes); i++) await w.join(i);
    for (const e of schedule(plan, w, faults)) {
      if (e.at >= plan.faultMs) break;
      if (!(await advance(w, t0 + e.at - w.clock.now()))) return done('safety');
      await e.fn();
    }
    if (!(await advance(w, t0 + plan.faultMs - w.clock.now()))) return done('safety');
    faults.stopAll();
    w.monitor.note({ k: 'phase', phase: 'quiet' });
    if (!(await advance(w, plan.quietMs))) return done('safety');
    return done(...liveness(w, o.strict ?? false, plan, ae > 0));
  } catch (err) {
    const e = err as Error;
    w.monitor.note({ k: 'crash', error: String(e?.stack ?? e) });
    return done('crash', null, String(e?.stack ?? e).split('\n').slice(0, 4).join(' | '));
  }
}

function liveness(w: World, strict: boolean, plan: Plan, antientropy: boolean): [Verdict, KnownFinding | null] {
  const m = inv.checkMembershipConverged(w.membershipViews());
  if (m) w.monitor.violate('INV-08', m);
  const skewSec = Math.ceil(Math.max(0, ...plan.offsetsMs.map(Math.abs)) / 1000);
  const b = inv.checkBindingsConverged(w.bindings(), Math.floor(w.clock.now() / 1000) + skewSec + 2);
  if (b) w.monitor.violate('INV-09', b);
  const h = inv.checkHtableConverged(w.htableItems());
  if (h) w.monitor.violate('INV-10', h);
  if (m) return ['liveness', null];
  const data = w.monitor.violations.find((v) => v.inv === 'INV-09' || v.inv === 'INV-10');
  if (!data) return ['pass', null];
  if (antientropy) return ['liveness', null]; // anti-entropy merges what KF-01 describes: no excuse
  const timeouts = w.totalDataTimeouts();
  const reasons = [...w.dataRisk, ...(timeouts > 0 ? [`${timeouts} usrloc/htable KDMQs timed out`] : [])];
  if (reasons.length === 0) return ['liveness', null];
  const known: KnownFinding = { id: 'KF-01', violation: data, reasons };
  return [strict ? 'liveness' : 'pass', known];
}
