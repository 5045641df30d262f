// GET /metrics (Prometheus text, parsed by a small strict parser), GET /status.json and GET /
// on the RPC listener of two in-process nodes on fresh loopback addresses (real UDP).
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.ts';
import { createNode, type KdmqNode } from '../../src/actors/node/create-node.ts';
import { SystemClock } from '../../src/ports/system-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { DnsResolver } from '../../src/ports/dns-resolver.ts';
import { UdpTransport } from '../../src/transport/udp-transport.ts';
import { createRegistry } from '../../src/control/rpc.ts';
import { registerDmqMethods } from '../../src/control/dmq-methods.ts';
import { startRpcServer, type RpcServer } from '../../src/control/rpc-http.ts';
import { installServices, type Services } from '../../src/cli/services.ts';
import { silentLog } from '../../src/ports/log.ts';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { waitFor } from '../support/wait.ts';
import { parseProm, promValue } from './helpers.ts';

interface Running {
  ip: string;
  node: KdmqNode;
  services: Services;
  rpc: RpcServer;
  transport: UdpTransport;
  base: string;
}

const running: Running[] = [];

async function start(ip: string, peers: string[]): Promise<Running> {
  const port = await freeTcpPort(ip);
  const cfg = loadConfigText(
    JSON.stringify({
      listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
      dmq: { server_address: `sip:${ip}:5090`, notification_address: peers, ping_interval: 1 },
      htable: { tables: { t: { size: 4, dmqreplicate: true } } },
      rpc: { listen: `${ip}:${port}` },
    }),
  );
  if (!cfg.ok) throw new Error(cfg.error);
  const clock = new SystemClock();
  const transport = new UdpTransport();
  const random = new SeededRandom(`metrics-${ip}`);
  const node = await createNode(cfg.config, { clock, random, resolver: new DnsResolver({ servers: ['127.0.0.1:53'] }), transport, log: silentLog });
  const reg = createRegistry();
  registerDmqMethods(reg, node, () => clock.now());
  const services = installServices(node, reg, { clock, defaultMetrics: running.length === 0 });
  const rpc = await startRpcServer(reg, cfg.config.rpc.listen, services.httpRoutes);
  const r = { ip, node, services, rpc, transport, base: `http://${ip}:${port}` };
  running.push(r);
  return r;
}

let a: Running;
let b: Running;

beforeAll(async () => {
  const [ipA, ipB] = allocLoopbackIps(2);
  a = await start(ipA, []);
  b = await start(ipB, [`sip:${ipA}:5090`]);
  await waitFor(() => a.node.list.activePeers().length === 1 && b.node.list.activePeers().length === 1, { timeoutMs: 10_000, what: 'two nodes active' });
});

afterAll(async () => {
  for (const r of running) {
    await r.node.stop();
    await r.services.stop();
    await r.rpc.close();
    await r.transport.close();
  }
});

function register(ip: string, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no reply'))), 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString().split('\r\n')[0]);
    });
    s.bind(0, ip, () => {
      const p = s.address().port;
      s.send(
        [`REGISTER sip:${ip} SIP/2.0`, `Via: SIP/2.0/UDP ${ip}:${p};branch=z9hG4bK${user}${p}`, 'Max-Forwards: 70', `From: <sip:${user}@${ip}>;tag=1`, `To: <sip:${user}@${ip}>`,
          `Call-ID: ${user}-${p}@x`, 'CSeq: 1 REGISTER', `Contact: <sip:${user}@${ip}:${p}>`, 'Expires: 600', 'Content-Length: 0', '', ''].join('\r\n'),
        5060,
        ip,
      );
    });
  });
}

describe('GET /metrics', () => {
  it('is valid Prometheus text with the node, data, KDMQ, error and event-loop families', async () => {
    expect(await register(a.ip, 'alice')).toBe('SIP/2.0 200 OK');
    a.services.app.htable.store.set('t', 'k', { type: 2, strval: 'v' });
    await waitFor(() => b.services.app.registrar.store.contactCount() === 1 && b.services.app.htable.store.stats()[0].all === 1, { timeoutMs: 5000, what: 'replicated to b' });
    // a garbage datagram: a parse error on b
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send('garbage\r\n\r\n', 5090, b.ip, () => (s.close(), r())));
    await waitFor(() => (b.node.transactionStats()?.parseErrors ?? 0) > 0, { timeoutMs: 3000, what: 'parse error counted' });

    const res = await fetch(`${b.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const fams = parseProm(text);
    const type = (n: string) => fams.get(n)?.type;
    expect(type('kdmq_nodes')).toBe('gauge');
    expect(promValue(fams, 'kdmq_nodes', { status: 'active' })).toBe(1);
    expect(promValue(fams, 'kdmq_nodes', { status: 'timeout' })).toBe(0);
    expect(promValue(fams, 'kdmq_usrloc_bindings')).toBe(1);
    expect(promValue(fams, 'kdmq_usrloc_aors')).toBe(1);
    expect(promValue(fams, 'kdmq_htable_items', { table: 't' })).toBe(1);
    expect(type('kdmq_requests_received_total')).toBe('counter');
    expect(promValue(fams, 'kdmq_requests_received_total', { channel: 'usrloc' })).toBeGreaterThanOrEqual(1);
    expect(promValue(fams, 'kdmq_requests_received_total', { channel: 'htable' })).toBeGreaterThanOrEqual(1);
    expect(promValue(fams, 'kdmq_requests_sent_total', { channel: 'notification_peer' })).toBeGreaterThanOrEqual(1);
    expect(promValue(fams, 'kdmq_sip_parse_errors_total')).toBeGreaterThanOrEqual(1);
    expect(fams.has('kdmq_sip_bad_requests_total')).toBe(true);
    expect(fams.has('kdmq_rejected_senders_total')).toBe(true);
    expect(fams.has('kdmq_requests_timed_out_total')).toBe(true);
    expect(fams.has('kdmq_sip_retransmissions_sent_total')).toBe(true);
    expect(type('kdmq_request_duration_seconds')).toBe('histogram');
    expect(type('kdmq_sync_duration_seconds')).toBe('histogram');
    expect(promValue(fams, 'kdmq_membership_changes_total', { to: 'active' })).toBeGreaterThanOrEqual(1);
    // the sender's round trips
    const fa = parseProm(await (await fetch(`${a.base}/metrics`)).text());
    expect(promValue(fa, 'kdmq_request_duration_seconds_count', { channel: 'usrloc' })).toBeGreaterThanOrEqual(1);
    expect(promValue(fa, 'kdmq_request_duration_seconds_bucket', { channel: 'usrloc', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(promValue(fa, 'kdmq_requests_answered_total', { channel: 'usrloc' })).toBeGreaterThanOrEqual(1);
    expect(type('nodejs_eventloop_lag_seconds') ?? fa.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });

  it('the parser rejects malformed exposition lines', () => {
    expect(() => parseProm('foo{a="1" 2\n')).toThrow(/not a sample|bad labels/);
    expect(() => parseProm('foo abc\n')).toThrow(/bad value/);
    expect(() => parseProm('# TYPE foo weird\n')).toThrow(/bad type/);
  });
});

describe('status', () => {
  it('/status.json and / show the cluster as this node sees it', async () => {
    const s = (await (await fetch(`${a.base}/status.json`)).json()) as any;
    expect(s.node).toBe(`${a.ip}:5090`);
    expect(s.nodes.map((n: any) => [n.key, n.status])).toEqual([[`${b.ip}:5090`, 'active'], [`${a.ip}:5090`, 'active']]);
    expect(s.changes.length).toBeGreaterThanOrEqual(1);
    expect(s.changes[0]).toMatchObject({ node: `${b.ip}:5090`, to: 'active' });
    const page = await (await fetch(`${a.base}/`)).text();
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain(`data-key="${b.ip}:5090" data-status="active"`);
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // self-contained
    const rpc = await fetch(`${a.base}/RPC`, { method: 'POST', body: '{"jsonrpc":"2.0","method":"core.version","id":1}' });
    expect(((await rpc.json()) as any).result).toMatch(/^kdmq /);
    expect((await fetch(`${a.base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
