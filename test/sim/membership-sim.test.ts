// Issue "DMQ membership" item 8: kdmq nodes on the sim transport and virtual clock form a
// cluster from one seed address; a property over start orders, loss and healing partitions; and
// failure detection timing with ping_interval 1 (dead node disabled in < 5 s, later removed).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { StatusChange } from '../../src/actors/membership/node-list.ts';
import { matchingRows, readMembershipRows } from '../support/membership-table.ts';

const fast = (i: number, ip: string, seeds: number[] = [0]) => ({
  listen: [`udp:${ip}:5090`],
  dmq: {
    server_address: `sip:${ip}:5090`,
    notification_address: seeds.filter((s) => s !== i).map((s) => `sip:${simIp(s)}:5090`),
    ping_interval: 1,
  },
  sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
  rpc: { listen: '' },
});

function allActive(c: SimCluster, n: number): boolean {
  const live = c.live();
  if (live.length !== n) return false;
  return live.every((m) => {
    const v = m.node.list.views();
    const others = live.filter((o) => o !== m).map((o) => `${o.ip}:5090`);
    return others.every((k) => v.some((x) => x.key === k && x.status === 'active')) && v.filter((x) => x.local).length === 1;
  });
}

describe('simulated membership', () => {
  it('five nodes form one cluster from one seed address', async () => {
    const c = new SimCluster({ seed: 'form-5', config: (i, ip) => fast(i, ip) });
    for (let i = 0; i < 5; i++) await c.start(i);
    await c.run(3000);
    expect(allActive(c, 5)).toBe(true);
    for (const m of c.live()) expect(m.node.list.views().length).toBe(5);
  });

  it('a killed node is disabled within 5 s with ping_interval 1 and removed later; a restart rejoins', async () => {
    const c = new SimCluster({ seed: 'kill', config: (i, ip) => fast(i, ip) });
    for (let i = 0; i < 3; i++) await c.start(i);
    await c.run(3000);
    expect(allActive(c, 3)).toBe(true);
    const changes: Array<StatusChange & { on: number }> = [];
    for (const m of c.live()) m.node.onStatusChange((ch) => changes.push({ ...ch, on: m.index }));
    const killedAt = c.clock.now();
    await c.crash(2);
    await c.run(10_000);
    const dead = `${simIp(2)}:5090`;
    for (const on of [0, 1]) {
      const dis = changes.find((x) => x.on === on && x.key === dead && x.to === 'disabled');
      const rem = changes.find((x) => x.on === on && x.key === dead && x.to === 'removed');
      expect(dis, `node ${on} disabled the dead node`).toBeDefined();
      expect(dis!.at - killedAt).toBeLessThan(5000);
      expect(rem, `node ${on} removed the dead node`).toBeDefined();
      // no survivor flips the dead node back to active by gossip
      expect(changes.filter((x) => x.on === on && x.key === dead && x.to === 'active')).toEqual([]);
    }
    await c.start(2);
    await c.run(4000);
    expect(allActive(c, 3)).toBe(true);
  });

  it('property: random start orders, 20 % loss and healed partitions converge within 3 ping intervals; every transition is a table row', async () => {
    const rows = readMembershipRows();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.subarray([1, 2, 3, 4]),
        async (seed, order, loss, sideB) => {
          const c = new SimCluster({ seed, config: (i, ip) => fast(i, ip), link: { loss, delayMs: 2, jitterMs: 3 } });
          const bad: string[] = [];
          const check = (on: number) => (ch: StatusChange) => {
            if (ch.from === 'removed') return; // creation rows C1–C4
            if (!rows.some((r) => r.from === ch.from && r.to === ch.to)) bad.push(`${on}: ${ch.key} ${ch.from}->${ch.to} (${ch.event})`);
          };
          for (const i of order) {
            const n = await c.start(i);
            n.onStatusChange(check(i));
            await c.run(300);
          }
          const a = [0, ...[1, 2, 3, 4].filter((x) => !sideB.includes(x))].map(simIp);
          const b = sideB.map(simIp);
          if (b.length > 0) c.net.partition(a, b);
          await c.run(8000);
          c.net.heal();
          c.net.setDefaults({ loss: 0 });
          let ok = false;
          for (let t = 0; t < 30 && !ok; t++) {
            await c.run(100);
            ok = allActive(c, 5);
          }
          expect(bad).toEqual([]);
          expect(ok).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);
  void matchingRows;
});
