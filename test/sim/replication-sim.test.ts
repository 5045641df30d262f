// Replication on the simulator: three kdmq nodes with the registrar and the usrloc channel, built
// by the same factory (createNode, its applications included) as `kdmq serve`. A REGISTER on one node reaches the others
// with every field equal; an unregister removes it everywhere; a restarted node gets everything
// back by startup sync; 2 000 bindings sync with no loss under the send window.

import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { App } from '../../src/actors/node/install-app.ts';
import { writeRequest } from '../../src/sip/index.ts';
import { toRecord } from '../../src/actors/location/binding.ts';
import type { Endpoint } from '../../src/transport/transport.ts';

const cfg = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
  rpc: { listen: '' },
  registrar: { default_expires: 300 },
});

async function cluster(seed: string, n = 3) {
  const apps: App[] = [];
  const c = new SimCluster({ seed, config: cfg, install: (node, i) => (apps[i] = node.app) });
  for (let i = 0; i < n; i++) await c.start(i);
  await c.run(3000);
  const ua = c.net.transport();
  const uaEp: Endpoint = await ua.bind({ host: '127.0.1.200', port: 5070 });
  let seq = 0;
  const register = (node: number, user: string, opts: { cseq?: number; expires?: number; callId?: string; contact?: string } = {}) => {
    seq++;
    const contact = opts.contact ?? `sip:${user}@127.0.1.200:5070`;
    ua.send(uaEp, { host: simIp(node), port: 5060 }, writeRequest({
      method: 'REGISTER',
      uri: `sip:${simIp(node)}`,
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-ua-${seq}`],
        ['From', `<sip:${user}@${simIp(node)}>;tag=ua${seq}`],
        ['To', `<sip:${user}@${simIp(node)}>`],
        ['Call-ID', opts.callId ?? `call-${user}`],
        ['CSeq', `${opts.cseq ?? 1} REGISTER`],
        ['Contact', `<${contact}>;expires=${opts.expires ?? 300}`],
        ['Max-Forwards', '70'],
        ['User-Agent', 'sim-ua'],
      ],
    }));
  };
  return { c, apps, register };
}

const dump = (a: App) => Array.from(a.registrar.store.all(), (b) => toRecord(b)).sort((x, y) => x.ruid.localeCompare(y.ruid));

describe('usrloc replication (simulated)', () => {
  it('a REGISTER, a refresh and an unregister on one node reach the others with every field equal', async () => {
    const { c, apps, register } = await cluster('ul-basic');
    register(1, 'alice');
    await c.run(200);
    expect(dump(apps[1]).length).toBe(1);
    expect(dump(apps[0])).toEqual(dump(apps[1]));
    expect(dump(apps[2])).toEqual(dump(apps[1]));
    register(1, 'alice', { cseq: 2, expires: 600 });
    await c.run(200);
    expect(dump(apps[1])[0].cseq).toBe(2);
    expect(dump(apps[0])).toEqual(dump(apps[1]));
    expect(dump(apps[2])).toEqual(dump(apps[1]));
    register(2, 'alice', { cseq: 3, expires: 0 });
    await c.run(200);
    for (const a of apps) expect(dump(a)).toEqual([]);
  });

  it('a restarted node gets every binding back by startup sync, without loss', async () => {
    const { c, apps, register } = await cluster('ul-sync');
    for (let i = 0; i < 2000; i++) register(i % 2, `user${i}`);
    await c.run(2000);
    expect(apps[2].registrar.store.contactCount()).toBe(2000);
    await c.crash(2);
    await c.run(3000);
    await c.start(2);
    await c.run(5000);
    expect(apps[2].registrar.store.contactCount()).toBe(2000);
    expect(dump(apps[2])).toEqual(dump(apps[0]));
    expect(apps[0].usrloc.stats.syncRequestsAnswered + apps[1].usrloc.stats.syncRequestsAnswered).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
