// Figure: what "acknowledged means replicated" costs (issue #14 acceptance: "say what admission
// control costs"). The same REGISTERs through node 1 of a simulated 3-node cluster (real factory,
// registrar, usrloc replication to 2 peers), timed in wall clock two ways: today's path (each
// change owed in the replication outbox, admission control asked before each REGISTER) and the
// path before issue #14 (one KDMQ per change per peer straight into the peer's queue: the planted
// bug 'drop-on-full', with limits.peer_queue so large that nothing is dropped, i.e. equal work).
// Both send the same KDMQ bodies (the peers keep up, so the outbox sends each change alone).

import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { noFaults, plantFaults } from '../../src/ports/faults.ts';
import type { Figure, Samples } from '../lib.ts';
import { simRegisters } from '../support/sim-registers.ts';

const config = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 5 },
  sip: { t1: 100, kdmq_timeout: 2000 },
  rpc: { listen: '' },
  antientropy: { interval: 0 },
  limits: { peer_queue: 10_000_000, register_rate: 0 },
});

type Mode = 'outbox' | 'direct';

async function registersPerSecond(mode: Mode, n: number, seed: string): Promise<{ rate: number; kdmq: number; dropped: number }> {
  const faults = mode === 'direct' ? plantFaults(['drop-on-full']) : noFaults;
  const c: SimCluster = new SimCluster({
    seed, config, faults: () => faults, // the factory installs the applications
  });
  try {
    for (let i = 0; i < 3; i++) await c.start(i);
    await c.run(3000);
    const wall = await simRegisters(c, n, 'outbox');
    const node = c.members[0]!.node!;
    const dropped = [...node.kdmq.flow.dropped.values()].reduce((a, byCh) => a + (byCh.usrloc ?? 0), 0);
    return { rate: n / wall, kdmq: node.kdmq.stats.sent.usrloc ?? 0, dropped };
  } finally {
    for (const m of c.live()) await c.crash(m.index);
  }
}

export const outboxCostFigure: Figure = {
  id: 'outbox-cost',
  title: 'cost of the replication outbox + admission control (simulated REGISTERs through node 1 of 3, same work both ways)',
  runs: () => 3,
  rows: () => [
    { label: 'REGISTER/s, outbox + admission control (today)', unit: 'req/s', kdmq: 'outbox', kamailioNote: 'no counterpart' },
    { label: 'REGISTER/s, direct per-peer queue (before #14, nothing dropped)', unit: 'req/s', kdmq: 'direct', kamailioNote: 'no counterpart' },
    { label: 'cost of the outbox path', unit: '%', kdmq: 'cost', kamailioNote: 'no counterpart' },
  ],
  async run(ctx): Promise<Samples> {
    const n = ctx.quick ? 1000 : 5000;
    const seed = `bench-outbox-${ctx.run}`;
    await registersPerSecond('outbox', n, `${seed}-warm`);
    await registersPerSecond('direct', n, `${seed}-warm`);
    const order: Mode[] = ctx.run % 2 === 0 ? ['outbox', 'direct'] : ['direct', 'outbox'];
    const r: Record<Mode, { rate: number; kdmq: number; dropped: number }> = { outbox: { rate: 0, kdmq: 0, dropped: 0 }, direct: { rate: 0, kdmq: 0, dropped: 0 } };
    for (const m of order) r[m] = await registersPerSecond(m, n, seed);
    ctx.log(`usrloc KDMQ sent: outbox ${r.outbox.kdmq}, direct ${r.direct.kdmq} (dropped ${r.direct.dropped}); work is equal when both are ${2 * n}`);
    if (r.direct.dropped > 0) throw new Error('the direct path dropped messages: not equal work');
    return { outbox: r.outbox.rate, direct: r.direct.rate, cost: ((r.direct.rate - r.outbox.rate) / r.direct.rate) * 100 };
  },
};
