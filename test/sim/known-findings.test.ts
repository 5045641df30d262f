// Known finding KF-01 (specs/invariants.md): Kamailio-compatible replication cannot merge writes
// made on both sides of a partition. One AoR registered with different contacts on each side:
// after the heal the nodes list each other active again but disagree on the AoR's bindings until
// the UAs re-register. The checker reports it as KF-01, and as a liveness failure with --strict.
// The checker turns kdmq's anti-entropy on by default (which merges them, specs/anti-entropy.md):
// these runs turn it off (`antientropy: 0`, `kdmq check --antientropy 0`) to keep Kamailio's
// replication only; the last case shows the same plan converging with it on.

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

describe('known finding KF-01: writes on both sides of a partition are not merged', () => {
  it('is reported as KF-01 (not a failure by default), membership heals, bindings disagree', async () => {
    const r = await runPlan(KF01_PLAN, { record: true, antientropy: 0 });
    expect(r.verdict).toBe('pass');
    expect(r.known?.id).toBe('KF-01');
    expect(r.known!.violation.inv).toBe('INV-09');
    expect(r.known!.violation.detail).toMatch(/"aor":"u0"/);
    expect(r.violations.map((v) => v.inv)).not.toContain('INV-08');
    expect(r.known!.reasons.join(' ')).toMatch(/not active there|timed out/);
  }, 30_000);

  it('is a liveness failure (exit 5) with --strict', async () => {
    const r = await runPlan(KF01_PLAN, { strict: true, antientropy: 0 });
    expect(r.verdict).toBe('liveness');
    expect(r.violations.find((v) => v.kind === 'liveness')?.inv).toBe('INV-09');
  }, 30_000);

  it("converges with the checker's default anti-entropy (3 s): no KF-01, strict pass", async () => {
    const r = await runPlan(KF01_PLAN, { strict: true });
    expect(r.known).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
  }, 30_000);
});
