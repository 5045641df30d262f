// Anti-entropy on the simulator (specs/anti-entropy.md): three kdmq nodes, a partition with
// writes, re-registrations, unregisters and htable writes/deletes on both sides, then the heal:
// every node holds the same bindings and htable items within two anti-entropy intervals.

import { describe, expect, it } from 'vitest';
import { World, nodeConfig, HT_TABLE } from '../../src/sim/world.ts';
import { simIp } from '../../src/sim/cluster.ts';
import * as inv from '../../src/sim/invariants.ts';

const INTERVAL = 3;
const cfg = (_: number, ip: string) => ({ ...nodeConfig(ip), antientropy: { interval: INTERVAL } });

async function world(seed: string, n = 3) {
  const w = await World.create({ nodes: n, seed, config: cfg });
  for (let i = 0; i < n; i++) await w.join(i);
  await w.run(5000);
  return w;
}

function cut(w: World, a: number[], b: number[], on: boolean) {
  for (const x of a) for (const y of b) {
    if (on) (w.cluster.net.block(simIp(x), simIp(y)), w.cluster.net.block(simIp(y), simIp(x)));
  }
  if (!on) w.cluster.net.heal();
}

const converged = (w: World) => {
  const b = inv.checkBindingsConverged(w.bindings(), Math.floor(w.clock.now() / 1000) + 2);
  const h = inv.checkHtableConverged(w.htableItems());
  return b ?? h;
};

describe('anti-entropy after a partition (simulated)', () => {
  it('writes on both sides of a partition converge within two intervals of the heal', async () => {
    const w = await world('ae-basic');
    w.register(0, 0, 300, false);
    w.register(1, 1, 300, false);
    w.htSet(0, 'gone', 'x');
    await w.run(1000);
    expect(converged(w)).toBeNull();
    cut(w, [0], [1, 2], true);
    await w.run(500);
    w.register(0, 2, 300, false); // only side A
    w.register(1, 3, 300, false); // only side B
    w.register(2, 0, 0, false); // side B unregisters ua0 (registered before the cut)
    w.register(0, 1, 600, false); // side A refreshes ua1
    w.htSet(0, 'a', '1');
    w.htSet(2, 'b', '2');
    w.htDelete(1, 'gone');
    await w.run(3000);
    expect(converged(w)).not.toBeNull();
    cut(w, [0], [1, 2], false);
    await w.run(2 * INTERVAL * 1000 + 2000);
    expect(converged(w)).toBeNull();
    const recs = w.bindings()[0].records;
    expect(recs.map((r) => r.c).sort()).toEqual(['sip:ua1@127.0.1.250:5070', 'sip:ua2@127.0.1.250:5070', 'sip:ua3@127.0.1.250:5070']);
    expect(recs.find((r) => r.c.startsWith('sip:ua1@'))!.cseq).toBe(2);
    const items = w.htableItems()[1].items.sort();
    expect(items).toEqual(['a={"type":2,"strval":"1"}', 'b={"type":2,"strval":"2"}']);
    const ae = w.apps[0]!.antientropy!;
    expect(ae.stats.rounds).toBeGreaterThan(0);
  }, 30_000);

  it('with anti-entropy off the same partition converges too: the replication outbox keeps what the cut held back', async () => {
    const w = await World.create({ nodes: 2, seed: 'ae-off', config: (_, ip) => ({ ...nodeConfig(ip), antientropy: { interval: 0 } }) });
    await w.join(0);
    await w.join(1);
    await w.run(5000);
    cut(w, [0], [1], true);
    await w.run(500);
    w.register(0, 0, 300, false);
    w.htSet(1, 'b', '2');
    await w.run(2000);
    cut(w, [0], [1], false);
    await w.run(2 * INTERVAL * 1000 + 2000);
    expect(converged(w)).toBeNull();
    expect(w.apps[0]!.antientropy).toBeNull();
  }, 30_000);

  it('kdmq nodes recognise each other by the ;kdmq=1 node-list parameter', async () => {
    const w = await world('ae-mark', 2);
    const v = w.node(0)!.list.peers();
    expect(v.map((p) => p.kdmq)).toEqual([true]);
    expect(w.node(0)!.cycle.body()).toContain(';kdmq=1;status=active\r\n');
    void HT_TABLE;
  }, 30_000);
});
