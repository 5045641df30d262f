// The model checker's world (issue "kdmq check" items 1, 3, 5): the same plan gives the same
// run to the byte (recorded traces compared), offset clocks shift a node's absolute times only,
// the liveness phase converges on a clean plan, and the CLI's exit codes and replay line.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planArb, FAULT_KINDS, type Plan } from '../../src/sim/plan.ts';
import { runPlan } from '../../src/sim/run-plan.ts';
import { runCheck } from '../../src/sim/check.ts';
import { OffsetClock } from '../../src/sim/offset-clock.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { checkStatusChange, checkNodeListOnWire, INVARIANTS } from '../../src/sim/invariants.ts';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const shape = { nodes: 4, faults: FAULT_KINDS, faultMs: 8000, quietMs: 10_000 };

describe('kdmq check: simulated world', () => {
  it('the same plan gives the same trace to the byte (datagrams, status changes, steps)', async () => {
    const [plan] = fc.sample(planArb({ ...shape, maxSteps: 25 }), { seed: 4242, numRuns: 1 });
    const a = await runPlan(plan, { record: true });
    const b = await runPlan(plan, { record: true });
    expect(a.trace!.length).toBeGreaterThan(50);
    expect(a.trace!.some((l) => l.includes('"k":"dgram"'))).toBe(true);
    expect(b.trace).toEqual(a.trace);
    expect(b.hash).toBe(a.hash);
    const c = await runPlan({ ...plan, seed: `${plan.seed}x` }, { record: true });
    expect(c.hash).not.toBe(a.hash);
  }, 60_000);

  it('a fault-free plan with writes converges and passes every invariant', async () => {
    const plan: Plan = {
      seed: 'clean', nodes: 3, initial: 3, faultMs: 5000, quietMs: 5000, offsetsMs: [0, 1500, -1500],
      link: { loss: 0, duplicate: 0, jitterMs: 0 },
      steps: [
        { at: 1000, op: 'register', node: 0, ua: 0, expires: 100, newCall: true },
        { at: 1500, op: 'burst', node: 1, node2: 2, ua: 1, gapMs: 20, then: 'unregister' },
        { at: 2000, op: 'htset', node: 2, key: 1, value: 3 },
      ],
    };
    const r = await runPlan(plan, { record: true });
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
  }, 30_000);

  it('an offset clock shifts now() and keeps timers on the shared clock', () => {
    const base = new VirtualClock(1000);
    const c = new OffsetClock(base, -300);
    let fired = 0;
    c.setTimeout(() => fired++, 50);
    expect(c.now()).toBe(700);
    base.advance(50);
    expect(fired).toBe(1);
  });

  it('checkers: a status change outside the table and an unsafe node list are reported', () => {
    expect(checkStatusChange({ key: 'k', from: 'disabled', to: 'active', event: 'node.listed', at: 0 })).toMatch(/no row/);
    expect(checkStatusChange({ key: 'k', from: 'disabled', to: 'active', event: 'node.heard', at: 0 })).toBeNull();
    expect(checkNodeListOnWire('SIP/2.0 200 OK\r\nCSeq: 10 KDMQ\r\n\r\nsip:1.2.3.4:5090;status=active')).toMatch(/unsafe/);
    expect(checkNodeListOnWire('SIP/2.0 200 OK\r\nCSeq: 10 KDMQ\r\n\r\nsip:1.2.3.4:5090;status=active\r\n')).toBeNull();
    expect(Object.keys(INVARIANTS).length).toBeGreaterThanOrEqual(11);
    const spec = readFileSync(new URL('../../specs/invariants.md', import.meta.url), 'utf8');
    for (const id of Object.keys(INVARIANTS)) expect(spec).toContain(`| ${id} |`);
  });

  it('random runs pass on a small cluster; the report counts runs and simulated time', async () => {
    const r = await runCheck({ nodes: 3, runs: 8, seed: 99, faults: FAULT_KINDS, faultMs: 6000, quietMs: 10_000, outDir: tmpdir() });
    expect(r.failure).toBeNull();
    expect(r.exitCode).toBe(0);
    expect(r.runs).toBe(8);
    expect(r.simNodeSeconds).toBeGreaterThan(8 * 3 * 15);
  }, 60_000);
});
