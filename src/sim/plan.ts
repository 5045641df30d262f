// A checker run's plan: the seed, the cluster shape, link fault levels, clock offsets and a timed
// list of steps (workload: REGISTER / unregister / bursts / load-balanced UAs / htable writes;
// faults: joins, crashes, restarts, leaves, partitions, one-way cuts, delay spikes, the swizzle,
// DNS failures), and the fast-check arbitrary that generates it. Any sub-list of steps is a valid
// plan, so fast-check can shrink it.

import fc from 'fast-check';

export const FAULT_KINDS = ['loss', 'dup', 'reorder', 'spike', 'partition', 'oneway', 'swizzle', 'crash', 'churn', 'clock', 'dns', 'overload'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Step =
  | { at: number; op: 'register'; node: number; ua: number; expires: number; newCall: boolean }
  | { at: number; op: 'unregister'; node: number; ua: number }
  /** a REGISTER at `node`, then gapMs later a refresh or an unregister at `node2` (a UA moving fast) */
  | { at: number; op: 'burst'; node: number; node2: number; ua: number; gapMs: number; then: 'refresh' | 'unregister' }
  /**
   * a phone behind a load balancer: a REGISTER at `node`, a refresh (same Call-ID) at `node2` gapMs
   * later, a REGISTER with a new Call-ID (it restarted) at `node3` gapMs after that; with clock
   * offsets and slow links these are the versions of specs/replication.md R3's cyclic example
   */
  | { at: number; op: 'lb'; node: number; node2: number; node3: number; ua: number; gapMs: number }
  | { at: number; op: 'htset'; node: number; key: number; value: number }
  | { at: number; op: 'htdel'; node: number; key: number }
  | { at: number; op: 'join' | 'crash' | 'restart' | 'leave'; node: number }
  | { at: number; op: 'partition'; side: number[]; ms: number }
  | { at: number; op: 'oneway'; from: number; to: number; ms: number }
  | { at: number; op: 'spike'; from: number; to: number; delayMs: number; ms: number }
  | { at: number; op: 'swizzle'; node: number; order: number[]; stepMs: number }
  | { at: number; op: 'dns'; fault: 'servfail' | 'timeout' | 'nxdomain'; ms: number }
  /** overload: `count` REGISTERs of fresh UAs (new Call-IDs) at `node` within spanMs, far more than its flow-control windows hold */
  | { at: number; op: 'flood'; node: number; count: number; spanMs: number };

export interface Plan {
  seed: string;
  nodes: number;
  /** nodes 0..initial-1 run from the start; the others only if a `join` step starts them */
  initial: number;
  /** steps happen in [0, faultMs); then faults stop and the quiet period runs */
  faultMs: number;
  quietMs: number;
  offsetsMs: number[];
  link: { loss: number; duplicate: number; jitterMs: number };
  steps: Step[];
}

export interface PlanShape {
  nodes: number;
  faults: readonly FaultKind[];
  faultMs: number;
  quietMs: number;
  /** at most this many steps */
  maxSteps?: number;
  uas?: number;
}

/** a load-balanced phone: its three REGISTERs land on nodes other than the first one's (when there are) */
function lbArb(at: fc.Arbitrary<number>, n: number, ua: fc.Arbitrary<number>): fc.Arbitrary<Step> {
  const other = fc.integer({ min: 1, max: Math.max(1, n - 1) });
  return fc.record({ at, node: fc.integer({ min: 0, max: n - 1 }), d2: other, d3: other, ua, gapMs: fc.integer({ min: 1, max: 30 }) })
    .map(({ at: t, node, d2, d3, ua: u, gapMs }) => ({ at: t, op: 'lb' as const, node, node2: (node + d2) % n, node3: (node + d3) % n, ua: u, gapMs }));
}

function stepArb(s: PlanShape): fc.Arbitrary<Step> {
  const n = s.nodes;
  const has = (k: FaultKind) => s.faults.includes(k);
  const at = fc.integer({ min: 0, max: Math.max(0, s.faultMs - 1) });
  const node = fc.integer({ min: 0, max: n - 1 });
  const ua = fc.integer({ min: 0, max: (s.uas ?? 6) - 1 });
  const span = fc.integer({ min: 200, max: Math.max(300, Math.floor(s.faultMs / 2)) });
  const work: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 6, arbitrary: fc.record({ at, op: fc.constant('register' as const), node, ua, expires: fc.integer({ min: 20, max: 300 }), newCall: fc.integer({ min: 0, max: 4 }).map((x) => x === 0) }) },
    { weight: 2, arbitrary: fc.record({ at, op: fc.constant('unregister' as const), node, ua }) },
    {
      weight: 3,
      arbitrary: fc.record({ at, op: fc.constant('burst' as const), node, node2: node, ua, gapMs: fc.integer({ min: 5, max: 300 }), then: fc.constantFrom('refresh' as const, 'unregister' as const) }),
    },
    { weight: 5, arbitrary: lbArb(at, n, ua) },
    { weight: 3, arbitrary: fc.record({ at, op: fc.constant('htset' as const), node, key: fc.integer({ min: 0, max: 99 }), value: fc.integer({ min: 0, max: 9 }) }) },
    { weight: 1, arbitrary: fc.record({ at, op: fc.constant('htdel' as const), node, key: fc.integer({ min: 0, max: 99 }) }) },
  ];
  const faults: Array<fc.WeightedArbitrary<Step>> = [];
  if (has('crash')) {
    faults.push({ weight: 2, arbitrary: fc.record({ at, op: fc.constant('crash' as const), node }) });
    faults.push({ weight: 2, arbitrary: fc.record({ at, op: fc.constant('restart' as const), node }) });
  }
  if (has('churn')) {
    faults.push({ weight: 2, arbitrary: fc.record({ at, op: fc.constant('join' as const), node }) });
    faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('leave' as const), node }) });
  }
  if (has('partition')) {
    const side = fc.subarray([...Array(n).keys()], { minLength: 1, maxLength: Math.max(1, n - 1) });
    faults.push({ weight: 2, arbitrary: fc.record({ at, op: fc.constant('partition' as const), side, ms: span }) });
  }
  if (has('oneway')) faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('oneway' as const), from: node, to: node, ms: span }) });
  if (has('spike')) {
    faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('spike' as const), from: node, to: node, delayMs: fc.integer({ min: 50, max: 3000 }), ms: span }) });
  }
  if (has('swizzle')) {
    const order = fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });
    faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('swizzle' as const), node, order, stepMs: fc.integer({ min: 100, max: 1500 }) }) });
  }
  if (has('dns')) {
    const fault = fc.constantFrom('servfail' as const, 'timeout' as const, 'nxdomain' as const);
    faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('dns' as const), fault, ms: span }) });
  }
  if (has('overload')) {
    faults.push({ weight: 1, arbitrary: fc.record({ at, op: fc.constant('flood' as const), node, count: fc.integer({ min: 20, max: 300 }), spanMs: fc.integer({ min: 1, max: 400 }) }) });
  }
  return fc.oneof(...work, ...faults);
}

export function planArb(s: PlanShape): fc.Arbitrary<Plan> {
  const n = s.nodes;
  const has = (k: FaultKind) => s.faults.includes(k);
  const prob = (k: FaultKind, max: number) => (has(k) ? fc.double({ min: 0, max, noNaN: true }) : fc.constant(0));
  return fc.record({
    seed: fc.nat({ max: 0xffffff }).map((x) => `s${x}`),
    nodes: fc.constant(n),
    initial: has('churn') ? fc.integer({ min: 1, max: n }) : fc.constant(n),
    faultMs: fc.constant(s.faultMs),
    quietMs: fc.constant(s.quietMs),
    offsetsMs: fc.array(has('clock') ? fc.integer({ min: -3000, max: 3000 }) : fc.constant(0), { minLength: n, maxLength: n }),
    link: fc.record({
      loss: prob('loss', 0.15),
      duplicate: prob('dup', 0.1),
      jitterMs: has('reorder') ? fc.integer({ min: 0, max: 200 }) : fc.constant(0),
    }),
    steps: fc.array(stepArb(s), { maxLength: s.maxSteps ?? 40, size: 'medium' }),
  });
}

/** one line per step, for reports */
export function describeStep(st: Step): string {
  const { at, op, ...rest } = st;
  return `${String(at).padStart(6)} ms ${op} ${JSON.stringify(rest)}`;
}
