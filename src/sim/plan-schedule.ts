// The steps of a plan (src/sim/plan.ts) as timed actions on a World, in the order run-plan.ts
// runs them: REGISTERs of the user agents (each waits for its answer), htable writes, membership
// (join, crash, restart, leave) and the faults, each set at its time and lifted after it.

import type { World } from './world.ts';
import type { Plan, Step } from './plan.ts';

export interface Timed {
  at: number;
  seq: number;
  fn: () => Promise<void> | void;
}

/** what the fault steps switch (run-plan.ts keeps the count of each cut, spike and DNS fault) */
export interface PlanFaults {
  block(a: number, b: number, d: 1 | -1): void;
  spike(a: number, b: number, delayMs: number): void;
  dnsFault(f: 'servfail' | 'timeout' | 'nxdomain' | null): void;
}

export function schedule(plan: Plan, w: World, f: PlanFaults): Timed[] {
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

type At = (t: number, fn: Timed['fn']) => void;
type StepOf<Op extends Step['op']> = Extract<Step, { op: Op }>;

function scheduleStep(st: Step, w: World, f: PlanFaults, at: At, s: StepState): void {
  switch (st.op) {
    case 'register':
    case 'unregister':
    case 'burst':
    case 'lb':
    case 'flood':
      return scheduleRegisters(st, w, at, s);
    case 'htset':
    case 'htdel':
      return scheduleHtable(st, w, at, s);
    case 'join':
      return at(st.at, () => w.join(st.node));
    case 'restart':
      return at(st.at, () => (w.inDns.has(st.node) && !w.node(st.node) ? w.join(st.node) : undefined));
    case 'crash':
      return at(st.at, () => w.crash(st.node));
    case 'leave':
      return at(st.at, () => w.leave(st.node));
    default:
      return scheduleFault(st, f, at, s);
  }
}

/** the user agents' REGISTERs: each UA waits for its answer before the next one */
function scheduleRegisters(st: StepOf<'register' | 'unregister' | 'burst' | 'lb' | 'flood'>, w: World, at: At, s: StepState): void {
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
    case 'flood': {
      const base = FLOOD_UA + 1000 * (s.floods = (s.floods ?? 0) + 1);
      const count = Math.min(st.count, 999);
      for (let j = 0; j < count; j++) at(st.at + Math.floor((j * st.spanMs) / count), () => w.register(st.node, base + j, 60, true));
      return;
    }
  }
}

/** htable writes: each key set once (htable has no versions, KF-02), deleted 3 s after at the earliest */
function scheduleHtable(st: StepOf<'htset' | 'htdel'>, w: World, at: At, s: StepState): void {
  if (st.op === 'htset') {
    if (s.htSet.has(st.key)) return; // each key written once: htable has no versions (KF-02)
    s.htSet.set(st.key, st.at);
    return at(st.at, () => w.htSet(st.node, `k${st.key}`, `v${st.value}`));
  }
  const setAt = s.htSet.get(st.key);
  if (setAt === undefined || setAt > st.at - 3000) return;
  s.htSet.set(st.key, Infinity);
  return at(st.at, () => w.htDelete(st.node, `k${st.key}`));
}

/** network and DNS faults: each one set at `at` and lifted after its time */
function scheduleFault(st: StepOf<'partition' | 'oneway' | 'spike' | 'swizzle' | 'dns'>, f: PlanFaults, at: At, s: StepState): void {
  switch (st.op) {
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
  }
}
