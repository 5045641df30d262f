// `kdmq serve` as a process on a fresh loopback address (foundation issue acceptance): survives
// 1 000 random and mutated datagrams and still answers OPTIONS; retransmissions are answered from
// the server transaction; 404 for an unknown KDMQ channel; routing.other_reply (and --set of it);
// 400 with a reason for bad-but-answerable requests; `kdmq ctl`; SIGTERM exits 0 and frees ports.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../support/loopback.ts';
import { pidAlive } from '../support/proc.ts';
import { waitFor } from '../support/wait.ts';
import { fuzzDatagram, type FuzzCase } from './fuzz.ts';
import { freshIp, parseResponse, runKdmq, SipClient, startKdmq, type KdmqProc } from './kdmq-proc.ts';

const config = (ip: string, rpcPort: number) =>
  `listen:\n  - udp:${ip}:5060\n  - udp:${ip}:5090\nrpc:\n  listen: ${ip}:${rpcPort}\n`;

let n = 0;
const opts = (c: SipClient, host: string, port = 5060, branch = `z9hG4bKe2e${++n}`) => {
  const callId = `e2e-${n}-${Math.random().toString(36).slice(2)}`;
  return { callId, branch, data: c.build({ method: 'OPTIONS', uri: `sip:${host}:${port}`, callId, branch, rport: true }) };
};

// generous time-outs: the processes share two cores with whatever else runs; deadlines that are
// part of the behaviour (SIGTERM within 2 s) are asserted on their own
describe('kdmq serve on loopback', { timeout: 60_000 }, () => {
  const ip = freshIp();
  const busyIp = freshIp();
  let rpcPort = 0;
  let node: KdmqProc | undefined;
  let busy: KdmqProc | undefined;
  let client: SipClient;
  const alive = () => node !== undefined && node.exit() === null && pidAlive(node.pid);

  async function ready(p: KdmqProc, host: string): Promise<void> {
    await waitFor(
      async () => {
        if (p.exit() !== null) throw new Error(`kdmq exited ${JSON.stringify(p.exit())}: ${p.stderr()}`);
        const o = opts(client, host);
        await client.send(o.data, host, 5060);
        return client.received.some((m) => m.text.startsWith('SIP/2.0 200') && m.text.includes(`${host}:5060`));
      },
      { what: `kdmq on ${host} answering OPTIONS`, timeoutMs: 60_000, intervalMs: 150 },
    );
  }

  beforeAll(async () => {
    rpcPort = await freeTcpPort(ip);
    node = startKdmq(['serve', '--log-level', 'warn'], config(ip, rpcPort));
    busy = startKdmq(['serve', '--log-level', 'warn', '--set', 'routing.other_reply=486 Busy Here', '--set', 'rpc.listen=""'], config(busyIp, 0));
    client = await SipClient.open(ip);
    await Promise.all([ready(node, ip), ready(busy, busyIp)]);
  });

  afterAll(async () => {
    await client?.close();
    await node?.kill();
    await busy?.kill();
  });

  it('survives 1 000 random and mutated datagrams, then answers OPTIONS with a matching 200', async () => {
    const seed = Date.now() ^ (Math.random() * 2 ** 31);
    const cases: FuzzCase[] = fc.sample(fuzzDatagram, { numRuns: 1000, seed });
    let sent = 0;
    for (let batch = 0; batch < 100; batch++) {
      const port = batch % 2 === 0 ? 5060 : 5090;
      for (const c of cases.slice(batch * 10, batch * 10 + 10)) await client.send(c.render(client, ip, sent++), ip, port);
      // datagrams on one socket are read in order: the probe's answer means the batch was read
      const probe = opts(client, ip, port);
      await client.exchange(probe.data, ip, port, probe.callId, alive);
    }
    expect(sent, `seed ${seed}`).toBe(1000);
    const answered = client.received.filter((m) => !/^Call-ID: e2e-/m.test(m.text));
    const statuses = new Set(answered.map((m) => m.text.slice(8, 11)));
    // the fuzz reached request handling: many answers (~15 %), among them 200s and 400s
    expect(answered.length, `seed ${seed}`).toBeGreaterThan(50);
    expect(statuses.has('200') && statuses.has('400'), `seed ${seed}: ${[...statuses]}`).toBe(true);

    const o = opts(client, ip);
    const [resp] = await client.exchange(o.data, ip, 5060, o.callId, alive);
    const r = parseResponse(resp.text);
    expect([r.status, r.reason], `seed ${seed}`).toEqual([200, 'OK']);
    expect(r.headers.get('call-id')).toEqual([o.callId]);
    expect(r.headers.get('via')?.[0]).toContain(`branch=${o.branch}`);
    expect(r.headers.get('cseq')).toEqual(['1 OPTIONS']);
    expect(alive()).toBe(true);
  });

  it('answers a retransmission from the server transaction, to where the first answer went', async () => {
    const o = opts(client, ip);
    await client.send(o.data, ip, 5060);
    const two = await client.exchange(o.data, ip, 5060, o.callId, alive, 2);
    expect(two[1].bytes.equals(two[0].bytes)).toBe(true);
    expect(parseResponse(two[0].text).status).toBe(200);
    // the same request from another port: a new handling would answer there; the transaction
    // re-sends its stored response to the first source instead
    const other = await SipClient.open(ip);
    try {
      await other.send(o.data, ip, 5060);
      const probe = opts(other, ip);
      await other.exchange(probe.data, ip, 5060, probe.callId, alive);
      expect(other.responses(o.callId)).toHaveLength(0);
      const three = await waitFor(() => (client.responses(o.callId).length >= 3 ? client.responses(o.callId) : undefined), { what: 'third copy' });
      expect(three[2].bytes.equals(three[0].bytes)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('404 User Not Found for a KDMQ to an unknown channel', async () => {
    const callId = `e2e-kdmq-${++n}`;
    const data = client.build({ method: 'KDMQ', uri: `sip:nochannel@${ip}:5090`, callId, branch: `z9hG4bKk${n}`, body: 'x' });
    const [resp] = await client.exchange(data, ip, 5090, callId, alive);
    expect(parseResponse(resp.text)).toMatchObject({ status: 404, reason: 'User Not Found' });
  });

  it('answers INVITE with routing.other_reply: the default 500 Nope, and 486 Busy Here when --set', async () => {
    for (const [host, want] of [[ip, [500, 'Nope']], [busyIp, [486, 'Busy Here']]] as const) {
      const callId = `e2e-inv-${++n}`;
      const data = client.build({ method: 'INVITE', uri: `sip:bob@${host}`, callId, branch: `z9hG4bKi${n}`, extra: ['Contact: <sip:t@127.0.0.1>'] });
      const [resp] = await client.exchange(data, host, 5060, callId, alive);
      const r = parseResponse(resp.text);
      expect([r.status, r.reason]).toEqual(want);
      expect(r.headers.get('call-id')).toEqual([callId]);
    }
  });

  it.each([
    ['a CSeq method that does not match', { cseq: '1 INVITE' }, /^CSeq method INVITE does not match OPTIONS$/],
    ['a bad Max-Forwards', { extra: ['Max-Forwards: lots'] }, /Max-Forwards/],
    ['a body shorter than Content-Length', { body: 'abc', contentLength: 'Content-Length: 10' }, /^body shorter than Content-Length \(3 < 10\)$/],
    ['a header line without a colon', { extra: ['Subject no colon'] }, /^bad header line 'Subject no colon'$/],
  ])('400 with a reason for %s', async (_name, spec, reason) => {
    const callId = `e2e-bad-${++n}`;
    const data = client.build({ method: 'OPTIONS', uri: `sip:${ip}:5060`, callId, branch: `z9hG4bKb${n}`, ...spec });
    const [resp] = await client.exchange(data, ip, 5060, callId, alive);
    const r = parseResponse(resp.text);
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(reason);
  });

  it('kdmq ctl: dmq.list_nodes --json lists the local node, core.version, a bad method exits 1', async () => {
    const url = `http://${ip}:${rpcPort}/RPC`;
    const [list, version, bad] = await Promise.all([
      runKdmq(['ctl', '--url', url, 'dmq.list_nodes', '--json']),
      runKdmq(['ctl', '--url', url, 'core.version']),
      runKdmq(['ctl', '--url', url, 'no.such_method']),
    ]);
    expect(list.code, list.stderr).toBe(0);
    // only the local node: the fuzz above taught it no nodes
    expect(JSON.parse(list.stdout)).toEqual([
      { host: ip, port: '5060', proto: '*', resolved_ip: ip, status: 'active', last_notification: 0, local: 1, kamailio_version: '' },
    ]);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^kdmq \d+\.\d+\.\d+ /);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: 500 - Method Not Found\n');
    expect(bad.stdout).toBe('');
  });

  it('SIGTERM: exits 0 within 2 s, and its UDP ports and RPC port are free again', async () => {
    const p = node!;
    const t0 = Date.now();
    process.kill(p.pid, 'SIGTERM');
    const exit = await waitFor(() => p.exit() ?? undefined, { what: 'kdmq to exit after SIGTERM', timeoutMs: 10_000, intervalMs: 20 });
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(p.exitedAt()! - t0).toBeLessThan(2000);
    expect(p.stderr()).toBe('');
    for (const port of [5060, 5090]) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind({ port, address: ip, exclusive: true }, () => resolve());
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(rpcPort, ip, () => resolve()));
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
