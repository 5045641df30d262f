// Known finding KF-01 (specs/invariants.md): Kamailio-compatible replication cannot merge writes
// made on both sides of a partition: a change is sent once, to the nodes active at that moment.
// kdmq's replication outbox (specs/replication.md R1) owes each change to every node that was
// active, keeps it (coalesced) while the node is disabled and sends it when the node is active
// again, so in a kdmq cluster the plan below now converges even with anti-entropy off. The plan
// stays as a regression: before the outbox it was reported as KF-01 (INV-09 on AoR u0).

import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/sim/run-plan.ts';
import type { Plan } from '../../src/sim/plan.ts';

/** seed kf01-partition: partition {0} | {1,2} from 2 s to 10 s; u0 registered on both sides */
export const KF01_PLAN: Plan = {
  seed: 'kf01-partition', nodes: 3, initial: 3, faultMs: 12_000, quietMs: 10_000, offsetsMs: [0, 0, 0],
  link: { loss: 0, duplicate: 0, jitterMs: 0 },
  steps: [
    { at: 2000, op: 'partition', side: [0], ms: 8000 },
    { at: 6000, op: 'register', node: 0, ua: 0, expires: 300, newCall: true },
    { at: 6500, op: 'register', node: 1, ua: 3, expires: 300, newCall: true },
  ],
};

describe('known finding KF-01: writes on both sides of a partition', () => {
  it('converge with anti-entropy off: the outbox delivers what the partition held back (strict pass)', async () => {
    const r = await runPlan(KF01_PLAN, { record: true, strict: true, antientropy: 0 });
    expect(r.known).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
  }, 30_000);

  it("converge with the checker's default anti-entropy (3 s): no KF-01, strict pass", async () => {
    const r = await runPlan(KF01_PLAN, { strict: true });
    expect(r.known).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
  }, 30_000);
});
