// Figure: model-checker speed with a REGISTER workload: simulated node-seconds per wall-clock
// second of the checker's World (real node factory + installApp, simulated network/clock/DNS, the
// invariant monitor on every datagram), 5 and 50 nodes, ping_interval 10 s, the cluster receiving
// 0.5 REGISTER per node per simulated second from simulated UAs (new, refresh, unregister), each
// broadcast to every other node. Formation is not timed.

import { SeededRandom } from '../../src/ports/random.ts';
import { simIp } from '../../src/sim/cluster.ts';
import { World, nodeConfig } from '../../src/sim/world.ts';
import type { Figure, Samples } from '../lib.ts';
import { simInChild } from '../support/sim-child.ts';

/** node-seconds simulated per wall second for an n-node cluster under REGISTER load */
export async function simSpeedRegister(n: number, budgetMs: number, seed: string): Promise<{ rate: number; simSeconds: number; registers: number }> {
  const config = (i: number, ip: string) => {
    const c = nodeConfig(ip, i === 0 ? [] : [`sip:${simIp(0)}:5090`]) as { dmq: { ping_interval: number } };
    c.dmq.ping_interval = 10;
    return c;
  };
  const w = await World.create({ nodes: n, seed, config });
  const rnd = new SeededRandom(seed);
  for (let i = 0; i < n; i++) await w.join(i);
  await w.run(3000);
  const t0 = performance.now();
  let sim = 0;
  let registers = 0;
  while (performance.now() - t0 < budgetMs && sim < 3600) {
    for (let k = 0; k < n / 10; k++) {
      const ua = rnd.int(20 * n);
      w.register(rnd.int(n), ua, rnd.next() < 0.15 ? 0 : 60 + rnd.int(240), rnd.next() < 0.1);
      registers++;
    }
    await w.run(200);
    sim += 0.2;
  }
  const wall = (performance.now() - t0) / 1000;
  const safety = w.monitor.firstSafety();
  if (safety) throw new Error(`safety violation during the bench: ${safety.inv} ${safety.detail}`);
  for (const m of w.live()) await w.crash(m.index);
  return { rate: (n * sim) / wall, simSeconds: sim, registers };
}

export const simSpeedRegisterFigure: Figure = {
  id: 'sim-register',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'model checker speed (REGISTER workload, 0.5 per node per simulated second, ping_interval 10)',
  runs: () => 3,
  rows: () => [
    { label: 'checker sim speed, 5 nodes', unit: 'node-s/s', kdmq: 'n5', kamailioNote: 'no counterpart' },
    { label: 'checker sim speed, 50 nodes (information; the target is on sim-check, the checker as it runs)', unit: 'node-s/s', kdmq: 'n50', kamailioNote: 'no counterpart' },
  ],
  async run(ctx): Promise<Samples> {
    const budget = ctx.quick ? 3000 : 10_000;
    type R = Awaited<ReturnType<typeof simSpeedRegister>>;
    const a = await simInChild<R>('register', 5, budget, `bench-reg-5-${ctx.run}`);
    ctx.log(`5 nodes: ${a.simSeconds.toFixed(1)} virtual s, ${a.registers} REGISTERs`);
    const b = await simInChild<R>('register', 50, budget, `bench-reg-50-${ctx.run}`);
    ctx.log(`50 nodes: ${b.simSeconds.toFixed(1)} virtual s, ${b.registers} REGISTERs`);
    return { n5: a.rate, n50: b.rate };
  },
};
