// Test helper: one short simulator run (3 nodes, a few REGISTERs) recording node 1's ports.

import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { writeRequest } from '../../src/sip/index.ts';
import { recordNode } from '../../src/trace/sim-record.ts';
import type { Trace } from '../../src/trace/format.ts';

export async function simRecordReplayTrace(seed: string, k = 1): Promise<Trace> {
  let c!: SimCluster;
  const rec = recordNode(() => c, k);
  c = new SimCluster({
    seed,
    config: (i, ip) => ({
      listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
      dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
      rpc: { listen: '' },
    }),
    link: { delayMs: 1, jitterMs: 0.5 },
    ports: (i, p) => rec.wrap(i, p),
  });
  for (let i = 0; i < 3; i++) await c.start(i);
  const ua = c.net.transport();
  const uaEp = await ua.bind({ host: '127.0.1.200', port: 5070 });
  for (let n = 0; n < 3; n++) {
    ua.send(uaEp, { host: simIp(k), port: 5060 }, writeRequest({
      method: 'REGISTER',
      uri: `sip:${simIp(k)}`,
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-${n}`],
        ['From', `<sip:u${n}@${simIp(k)}>;tag=t${n}`],
        ['To', `<sip:u${n}@${simIp(k)}>`],
        ['Call-ID', `c${n}`],
        ['CSeq', '1 REGISTER'],
        ['Contact', `<sip:u${n}@127.0.1.200:5070>;expires=300`],
      ],
    }));
    await c.run(300);
  }
  await c.run(2000);
  const t = rec.trace(c.clock.now());
  for (const m of c.live()) await c.stop(m.index);
  return t;
}
