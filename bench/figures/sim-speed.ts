// Figure 3, simulator speed: simulated node-seconds per wall-clock second of SimCluster (the real
// node factory on the simulated network and virtual clock), membership only, ping_interval 1,
// for 5 and 50 nodes. The cluster forms first (not timed); then virtual time runs in 200 ms steps
// until a wall budget is spent. A run whose cluster is not fully active is rejected (not a number).

import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { Figure, Samples } from '../lib.ts';
import { simInChild } from '../support/sim-child.ts';

const config = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
  sip: { t1: 100, kdmq_timeout: 2000 },
  dmq_usrloc: { enable: false },
  htable: { enable_dmq: false },
  rpc: { listen: '' },
});

function formed(c: SimCluster, n: number): boolean {
  const live = c.live();
  return live.length === n && live.every((m) => m.node.list.views().filter((v) => v.status === 'active' || v.local).length === n);
}

/** node-seconds simulated per wall second for an n-node cluster, within `budgetMs` of wall time */
export async function simSpeed(n: number, budgetMs: number, seed: string): Promise<{ rate: number; simSeconds: number; formMs: number }> {
  const c = new SimCluster({ seed, config });
  try {
    for (let i = 0; i < n; i++) await c.start(i);
    let formMs = 0;
    const formDeadline = performance.now() + 120_000; // bounded: give up after 2 min of wall time
    while (!formed(c, n)) {
      if (formMs >= 60_000 || performance.now() > formDeadline) throw new Error(`${n} simulated nodes not formed after ${formMs} virtual ms`);
      await c.run(500);
      formMs += 500;
    }
    await c.run(1000); // settle into the steady ping pattern
    const t0 = performance.now();
    let sim = 0;
    while (performance.now() - t0 < budgetMs && sim < 3600) {
      await c.run(200);
      sim += 0.2;
    }
    const wall = (performance.now() - t0) / 1000;
    if (!formed(c, n)) throw new Error(`${n}-node simulated cluster no longer fully active after ${sim} s`);
    return { rate: (n * sim) / wall, simSeconds: sim, formMs };
  } finally {
    for (const m of c.live()) await c.crash(m.index);
  }
}

export const simSpeedFigure: Figure = {
  id: 'sim',
  title: 'simulator speed (membership only, ping_interval 1)',
  runs: () => 3,
  rows: () => [
    { label: 'sim speed, 5 nodes', unit: 'node-s/s', kdmq: 'n5', kamailioNote: 'no counterpart' },
    { label: 'sim speed, 50 nodes', unit: 'node-s/s', kdmq: 'n50', kamailioNote: 'no counterpart' },
  ],
  async run(ctx): Promise<Samples> {
    const budget = ctx.quick ? 3000 : 10_000;
    type R = Awaited<ReturnType<typeof simSpeed>>;
    const a = await simInChild<R>('membership', 5, budget, `bench-5-${ctx.run}`);
    ctx.log(`5 nodes: ${a.simSeconds} virtual s, formed after ${a.formMs} ms`);
    const b = await simInChild<R>('membership', 50, budget, `bench-50-${ctx.run}`);
    ctx.log(`50 nodes: ${b.simSeconds} virtual s, formed after ${b.formMs} ms`);
    return { n5: a.rate, n50: b.rate };
  },
};
