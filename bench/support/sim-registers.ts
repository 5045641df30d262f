// n REGISTERs of new users from one simulated UA to node 0 of a SimCluster, 50 at a time with 20 ms
// of virtual time between bursts, then 500 ms to settle; returns the wall seconds it took. Shared
// by the simulated-REGISTER figures (trace, outbox-cost) so they time the same work.
import type { SimCluster } from '../../src/sim/cluster.ts';
import { simIp } from '../../src/sim/cluster.ts';
import { writeRequest } from '../../src/sip/index.ts';

export async function simRegisters(c: SimCluster, n: number, tag: string): Promise<number> {
  const ua = c.net.transport();
  const ep = await ua.bind({ host: '127.0.1.200', port: 5070 });
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    ua.send(ep, { host: simIp(0), port: 5060 }, writeRequest({
      method: 'REGISTER',
      uri: `sip:${simIp(0)}`,
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-${tag}${k}`],
        ['From', `<sip:user${k}@${simIp(0)}>;tag=f${k}`],
        ['To', `<sip:user${k}@${simIp(0)}>`],
        ['Call-ID', `${tag}-${k}`],
        ['CSeq', '1 REGISTER'],
        ['Contact', `<sip:user${k}@127.0.1.200:5070>;expires=300`],
      ],
    }));
    if (k % 50 === 49) await c.run(20);
  }
  await c.run(500);
  return (performance.now() - t0) / 1000;
}
