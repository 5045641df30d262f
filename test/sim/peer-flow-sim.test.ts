// Outgoing flow control and the node-list cap on the simulator (specs/hostile-networks.md
// "Outgoing flow control", "Node lists"): a kdmq node with the registrar and a scripted peer that
// answers pings but never answers data (an overloaded Kamailio). A REGISTER flood: at most
// limits.peer_in_flight data requests reach the peer, at most limits.peer_queue wait, the rest
// are dropped and counted in /metrics, and the pings keep flowing so the peer stays active.
// Then node lists naming many nodes: the list stops at limits.max_nodes; host names from a third
// party never create entries.

import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { installApp, type App } from '../../src/app/install.ts';
import { parseMessage, responseTo, writeRequest, writeResponse } from '../../src/sip/index.ts';
import type { SipRequest } from '../../src/sip/types.ts';
import type { Endpoint, Transport } from '../../src/transport/transport.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

const PEER = '127.0.1.100';

const cfg = (_: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: [`sip:${PEER}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 60_000 },
  rpc: { listen: '' },
  registrar: { default_expires: 300 },
  antientropy: { interval: 0 },
  limits: { peer_in_flight: 8, peer_queue: 100, max_nodes: 10 },
});

/** a DMQ peer that answers the notification channel (with its own line active) and never answers anything else */
async function scriptedPeer(t: Transport) {
  const ep: Endpoint = await t.bind({ host: PEER, port: 5090 });
  const got = { pings: 0, data: 0, dataLive: new Set<string>(), maxDataLive: 0 };
  t.onDatagram((d) => {
    const m = parseMessage(d.data);
    if (!m.ok || m.value.kind !== 'request') return;
    const req = m.value as SipRequest;
    const uri = req.requestUri();
    const channel = uri.ok ? uri.value.user : null;
    if (channel === 'notification_peer') {
      got.pings++;
      const body = `sip:${PEER}:5090;status=active\r\n`;
      t.send(ep, d.remote, writeResponse(responseTo(req, 200, 'OK', { toTag: 'p', headers: [['Content-Type', 'text/plain']], body })));
    } else {
      const cid = req.get('call-id') ?? '';
      if (!got.dataLive.has(cid)) got.data++; // retransmissions are the same Call-ID
      got.dataLive.add(cid);
      got.maxDataLive = Math.max(got.maxDataLive, got.dataLive.size);
    }
  });
  return { ep, got };
}

async function setup(seed: string) {
  const apps: App[] = [];
  const c = new SimCluster({ seed, config: cfg, install: (node, i) => (apps[i] = installApp(node, { clock: c.clock, random: c.random.fork(`app${i}`) })) });
  const peer = await scriptedPeer(c.net.transport());
  const node = await c.start(0);
  await c.run(3000);
  const ua = c.net.transport();
  const uaEp = await ua.bind({ host: '127.0.1.200', port: 5070 });
  const send = (to: Endpoint, text: Uint8Array) => ua.send(uaEp, to, text);
  return { c, apps, node, peer, send };
}

const register = (i: number) => writeRequest({
  method: 'REGISTER',
  uri: `sip:${simIp(0)}`,
  headers: [
    ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-ua-${i}`],
    ['From', `<sip:user${i}@${simIp(0)}>;tag=ua${i}`],
    ['To', `<sip:user${i}@${simIp(0)}>`],
    ['Call-ID', `call-${i}`],
    ['CSeq', '1 REGISTER'],
    ['Contact', `<sip:user${i}@127.0.1.200:5070>;expires=300`],
    ['Max-Forwards', '70'],
  ],
});

const nodeList = (lines: string[], i: number) => writeRequest({
  method: 'KDMQ',
  uri: `sip:notification_peer@${simIp(0)}:5090`,
  headers: [
    ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-nl-${i}`],
    ['From', `<sip:notification_peer@127.0.1.200:5070>;tag=nl${i}`],
    ['To', `<sip:notification_peer@${simIp(0)}:5090>`],
    ['Call-ID', `nl-${i}`],
    ['CSeq', '10 KDMQ'],
    ['Max-Forwards', '1'],
    ['Content-Type', 'text/plain'],
  ],
  body: lines.map((l) => `${l}\r\n`).join(''),
});

describe('outgoing flow control (simulated)', () => {
  it('a peer that never answers data: in flight ≤ peer_in_flight, queue ≤ peer_queue, drops counted, pings still flow', async () => {
    const { c, apps, node, peer, send } = await setup('flow-stuck');
    expect(node.list.activePeers().map((p) => p.key)).toEqual([`${PEER}:5090`]);
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.attach(node, apps[0], () => c.clock.now());
    const pingsBefore = peer.got.pings;
    for (let i = 0; i < 1000; i++) {
      send({ host: simIp(0), port: 5060 }, register(i));
      if (i % 50 === 49) await c.run(5);
    }
    await c.run(10_000);
    expect(apps[0].registrar.store.contactCount()).toBe(1000);
    // the peer saw exactly peer_in_flight distinct data requests, never more at once
    expect(peer.got.data).toBe(8);
    expect(peer.got.maxDataLive).toBe(8);
    expect(node.kdmq.inFlight()).toBeLessThanOrEqual(8 + 1);
    expect(node.kdmq.queued()).toBe(100);
    const dropped = node.kdmq.flow.dropped.get(`${PEER}:5090`);
    // 1 000 broadcasts + the join-time usrloc sync request; the htable sync request took one slot
    const u = apps[0].usrloc.stats;
    expect(u.broadcasts + u.syncRequestsSent).toBe(1001);
    expect(node.kdmq.stats.sent).toMatchObject({ usrloc: 7, htable: 1 });
    expect(dropped).toEqual({ usrloc: 1001 - 7 - 100 });
    // membership kept working: about one ping a second, the peer is still active
    expect(peer.got.pings - pingsBefore).toBeGreaterThanOrEqual(9);
    expect(node.list.activePeers().map((p) => p.key)).toEqual([`${PEER}:5090`]);
    const text = await metrics.text();
    expect(text).toContain(`kdmq_peer_queue_dropped_total{peer="${PEER}:5090",channel="usrloc"} 894`);
    expect(text).toMatch(/kdmq_kdmq_queued 100\n/);
    metrics.stop();
  });

  it('node lists create at most limits.max_nodes entries; a host name from a third party creates none', async () => {
    const { c, apps, node, send } = await setup('flow-nodes');
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.attach(node, apps[0], () => c.clock.now());
    const lines = Array.from({ length: 40 }, (_, i) => `sip:127.0.2.${i + 1}:5090;status=active`);
    send({ host: simIp(0), port: 5090 }, nodeList(lines.slice(0, 20), 1));
    send({ host: simIp(0), port: 5090 }, nodeList([...lines.slice(20), 'sip:evil.example.com:5090;status=active'], 2));
    await c.run(50);
    // local + the scripted peer + 8 listed = 10
    expect(node.list.views()).toHaveLength(10);
    expect(node.list.views().some((v) => v.host === 'evil.example.com')).toBe(false);
    expect(node.counters.nodeListRefused).toEqual({ max_nodes: 32, hostname: 1 });
    // listed active by a third party: active here, but not passed on until they answer us
    expect(node.list.activePeers().filter((p) => p.host.startsWith('127.0.2.'))).toHaveLength(8);
    expect(node.cycle.body()).toBe(`sip:${PEER}:5090;status=active\r\nsip:${simIp(0)}:5090;kdmq=1;status=active\r\n`);
    const text = await metrics.text();
    expect(text).toContain('kdmq_node_list_refused_total{why="max_nodes"} 32');
    expect(text).toContain('kdmq_node_list_refused_total{why="hostname"} 1');
    metrics.stop();
    // the seed still fits when the list is full: it is re-added after it is removed
    expect(node.list.has({ host: PEER, port: '5090', transport: null })).toBe(true);
  });
});
