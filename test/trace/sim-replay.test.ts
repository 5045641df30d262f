// Acceptance: simulate, record, replay. A SimCluster run with a small workload records node k's
// ports; replaying node k alone from its trace sends exactly the same datagrams (time, sockets,
// bytes) — for 100 seeds, each run a few virtual seconds.

import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { writeRequest } from '../../src/sip/index.ts';
import { recordNode } from '../../src/trace/sim-record.ts';
import { decodeTrace, encodeTrace, b64 } from '../../src/trace/format.ts';
import { runReplay, setupFromNodeTrace, stopReplay } from '../../src/trace/replay.ts';
import { SeededRandom } from '../../src/ports/random.ts';

const cfg = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 1500 },
  rpc: { listen: '' },
  registrar: { default_expires: 300 },
  htable: { enable_dmq: true, tables: { lab: { dmqreplicate: true } } },
});

export async function simRecordReplay(seed: string) {
  const rnd = new SeededRandom(`wl/${seed}`);
  const k = rnd.int(3);
  let c!: SimCluster;
  const rec = recordNode(() => c, k);
  c = new SimCluster({
    seed,
    config: cfg,
    link: { delayMs: 1, jitterMs: 0.8, loss: 0.02 },
    ports: (i, p) => rec.wrap(i, p),
  });
  for (let i = 0; i < 3; i++) {
    await c.start(i);
    await c.run(200 + rnd.int(300));
  }
  const ua = c.net.transport();
  const uaEp = await ua.bind({ host: '127.0.1.200', port: 5070 });
  for (let n = 0; n < 4; n++) {
    const node = rnd.int(3);
    const user = `u${rnd.int(3)}`;
    ua.send(uaEp, { host: simIp(node), port: 5060 }, writeRequest({
      method: 'REGISTER',
      uri: `sip:${simIp(node)}`,
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-${seed}-${n}`],
        ['From', `<sip:${user}@${simIp(node)}>;tag=t${n}`],
        ['To', `<sip:${user}@${simIp(node)}>`],
        ['Call-ID', `call-${user}`],
        ['CSeq', `${n + 1} REGISTER`],
        ['Contact', `<sip:${user}@127.0.1.200:5070>;expires=${rnd.int(2) ? 300 : 0}`],
        ['Max-Forwards', '70'],
      ],
    }));
    await c.run(100 + rnd.int(400));
  }
  if (rnd.int(4) === 0) {
    await c.crash((k + 1) % 3);
  }
  await c.run(1500);
  const trace = rec.trace(c.clock.now());
  // through the file format, as a real replay would read it
  const decoded = decodeTrace(encodeTrace(trace));
  if (!decoded.ok) throw new Error(decoded.error);
  const setup = setupFromNodeTrace(decoded.value);
  if (!setup.ok) throw new Error(setup.error);
  const run = await runReplay(setup.setup);
  const got = run.sent.map((s) => ({ t: s.t, local: s.local, remote: s.remote, data: b64(s.data) }));
  const want = trace.records.filter((r) => r.r === 'out').map((r) => ({ t: r.t, local: r.local, remote: r.remote, data: r.data }));
  await stopReplay(run);
  for (const m of c.live()) await c.stop(m.index);
  return { got, want, inputs: setup.setup.inputs.length };
}

describe('simulate, record, replay', () => {
  it('replaying node k alone sends exactly what it sent in the cluster, for 100 seeds', async () => {
    for (let s = 0; s < 100; s++) {
      const { got, want, inputs } = await simRecordReplay(`rr-${s}`);
      expect(inputs, `seed rr-${s}`).toBeGreaterThan(0);
      expect(want.length, `seed rr-${s}`).toBeGreaterThan(0);
      expect(got, `seed rr-${s}`).toEqual(want);
    }
  }, 120_000);
});
