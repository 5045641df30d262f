// Outgoing flow control and the node-list cap on the simulator (specs/hostile-networks.md
// "Outgoing flow control", "Node lists", specs/replication.md R1): a kdmq node with the registrar
// and a scripted peer that answers pings but not data (an overloaded Kamailio). A REGISTER flood:
// at most limits.peer_in_flight data requests reach the peer, the rest are owed in the outbox
// (nothing dropped), pings keep flowing so the peer stays active, and once the oldest owed change
// is older than limits.replication_max_lag new REGISTERs get 503 + Retry-After before anything is
// stored. When the peer answers again, it receives every acknowledged binding, in `multi` batches.
// Then node lists naming many nodes: the list stops at limits.max_nodes; host names from a third
// party never create entries.

import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { App } from '../../src/actors/node/install-app.ts';
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
  const got = { pings: 0, data: 0, dataLive: new Set<string>(), maxDataLive: 0, answerData: false, aors: new Set<string>(), bodies: 0 };
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
    } else if (!got.answerData) {
      const cid = req.get('call-id') ?? '';
      if (!got.dataLive.has(cid)) got.data++; // retransmissions are the same Call-ID
      got.dataLive.add(cid);
      got.maxDataLive = Math.max(got.maxDataLive, got.dataLive.size);
    } else {
      if (channel === 'usrloc') {
        got.bodies++;
        for (const m of req.bodyText().matchAll(/"aor":"([^"]+)"/g)) got.aors.add(m[1]);
      }
      t.send(ep, d.remote, writeResponse(responseTo(req, 200, 'OK', { toTag: 'p' })));
    }
  });
  return { ep, got };
}

async function setup(seed: string) {
  const apps: App[] = [];
  const c = new SimCluster({ seed, config: cfg, install: (node, i) => (apps[i] = node.app) });
  const peer = await scriptedPeer(c.net.transport());
  const node = await c.start(0);
  await c.run(3000);
  const ua = c.net.transport();
  const uaEp = await ua.bind({ host: '127.0.1.200', port: 5070 });
  const send = (to: Endpoint, text: Uint8Array) => ua.send(uaEp, to, text);
  return { c, apps, node, peer, send };
}

/** a UA socket that records each REGISTER's final answer by Call-ID */
async function uaAnswers(c: SimCluster) {
  const ua = c.net.transport();
  const ep = await ua.bind({ host: '127.0.1.201', port: 5070 });
  const codes = new Map<string, number>();
  const retryAfter = new Map<string, string>();
  ua.onDatagram((d) => {
    const m = parseMessage(d.data);
    if (!m.ok || m.value.kind !== 'response') return;
    const cid = m.value.get('call-id') ?? '';
    codes.set(cid, m.value.status);
    const ra = m.value.get('retry-after');
    if (ra !== undefined) retryAfter.set(cid, ra);
  });
  return { codes, retryAfter, send: (text: Uint8Array) => ua.send(ep, { host: simIp(0), port: 5060 }, text) };
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
  it('a node that does not answer data: nothing dropped, in flight ≤ peer_in_flight, 503 past replication_max_lag, all delivered when it answers', async () => {
    const { c, apps, node, peer, send } = await setup('flow-stuck');
    expect(node.list.activePeers().map((p) => p.key)).toEqual([`${PEER}:5090`]);
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.attach(node, apps[0], () => c.clock.now());
    const answers = await uaAnswers(c);
    const pingsBefore = peer.got.pings;
    for (let i = 0; i < 1000; i++) {
      answers.send(register(i));
      if (i % 50 === 49) await c.run(5);
    }
    await c.run(10_000);
    expect(apps[0].registrar.store.contactCount()).toBe(1000);
    expect([...answers.codes.values()].filter((x) => x === 200)).toHaveLength(1000);
    // the peer saw exactly peer_in_flight distinct data requests, never more at once
    expect(peer.got.data).toBe(8);
    expect(peer.got.maxDataLive).toBe(8);
    expect(node.kdmq.inFlight()).toBeLessThanOrEqual(8 + 1);
    // nothing dropped: every acknowledged binding is owed to the peer (the sync request and the
    // htable sync request took one data slot each)
    expect(node.kdmq.flow.dropped.size).toBe(0);
    expect(node.replication.outbox.backlog(`${PEER}:5090`)).toBe(1000);
    // membership kept working: about one ping a second, the peer is still active
    expect(peer.got.pings - pingsBefore).toBeGreaterThanOrEqual(9);
    expect(node.list.activePeers().map((p) => p.key)).toEqual([`${PEER}:5090`]);
    // admission control: the oldest owed change waits > 2 s, so a new REGISTER is refused first
    answers.send(register(5000));
    await c.run(50);
    expect(answers.codes.get('call-5000')).toBe(503);
    expect(answers.retryAfter.get('call-5000')).toMatch(/^\d+$/);
    expect(apps[0].registrar.store.get('user5000')).toHaveLength(0);
    expect(node.limits.refusals.replication_lag).toBe(1);
    const text = await metrics.text();
    expect(text).toContain('kdmq_limit_refusals_total{limit="replication_lag"} 1');
    // the peer answers again: it gets every acknowledged binding, in multi batches
    peer.got.answerData = true;
    await c.run(5000);
    expect(peer.got.aors).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => `user${i}`)));
    expect(peer.got.bodies).toBeLessThan(100);
    expect(node.replication.outbox.backlog(`${PEER}:5090`)).toBe(0);
    answers.send(register(5001));
    await c.run(50);
    expect(answers.codes.get('call-5001')).toBe(200);
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
