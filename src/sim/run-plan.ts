// Runs one plan (src/sim/plan.ts) in a fresh World: the fault phase (steps at their times, link
// faults on), then faults stop (heal, clean links, DNS answers) and the quiet period runs, then the
// liveness invariants. Safety invariants are checked as events happen; the first safety violation
// ends the run. Same plan = same run, to the byte (the trace hash says so).

import { simIp } from './cluster.ts';
import { nodeConfig, World } from './world.ts';
import type { Plan } from './plan.ts';
import { schedule, type PlanFaults } from './plan-schedule.ts';
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

class Faults implements PlanFaults {
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
