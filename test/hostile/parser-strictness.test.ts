// Parser strictness both ways (issue #14 item 6), on two simulated kdmq nodes built as `kdmq serve`
// builds them, with the default limits: requests Kamailio 5.6.3 accepts (hundreds of header lines,
// a 60-entry Via chain, long Record-Route/Route/Path, a datagram full of short lines) get their 200
// and replicate; a control character in a header line (request line, name, value, folded line) of
// a REGISTER or a KDMQ gets 400 naming it, and changes nothing: no binding, no htable item, no KDMQ.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/actors/node/install-app.ts';
import { schema } from '../../src/config/schema.ts';
import { formatUsrlocBody } from '../../src/actors/channels/usrloc-body.ts';
import { toRecord } from '../../src/actors/location/binding.ts';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { parseMessage } from '../../src/sip/index.ts';
import type { SimTransport } from '../../src/transport/sim-transport.ts';
import type { Endpoint } from '../../src/transport/transport.ts';

const UA: Endpoint = { host: '127.0.1.200', port: 5070 };
const A = simIp(0);
const cfg = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${A}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
  rpc: { listen: '' },
  htable: { tables: { t: { size: 4, dmqreplicate: true } } },
});
/** C0 controls but HT, LF, CR; and DEL */
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 9 && c !== 10 && c !== 13), 0x7f];

let c: SimCluster;
const apps: App[] = [];
let ua: SimTransport;
const replies = new Map<string, { status: number; reason: string; text: string }>();
let dataKdmq = 0; // usrloc / htable KDMQ between the nodes
let seq = 0;

beforeAll(async () => {
  c = new SimCluster({ seed: 'strictness', config: cfg, install: (node, i) => (apps[i] = node.app) });
  await c.start(0);
  await c.start(1);
  await c.run(3000);
  ua = c.net.transport();
  await ua.bind(UA);
  ua.onDatagram((d) => {
    const m = parseMessage(d.data);
    if (m.ok && m.value.kind === 'response' && m.value.status >= 200) {
      replies.set(m.value.get('call-id') ?? '', { status: m.value.status, reason: m.value.reason, text: new TextDecoder().decode(d.data) });
    }
  });
  c.net.onDeliver((d) => {
    if (d.from.host === UA.host || d.to.host === UA.host) return;
    const head = new TextDecoder().decode(d.data.subarray(0, 24));
    if (head.startsWith('KDMQ sip:usrloc@') || head.startsWith('KDMQ sip:htable@')) dataKdmq++;
  });
});

/** head lines of a request from the UA (top Via ours); `extra` go before Content-Length */
function request(o: { method: string; uri: string; user: string; callId: string; extra?: string[]; from?: string }): string[] {
  seq++;
  return [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${UA.host}:${UA.port};branch=z9hG4bK-strict-${seq};rport`,
    'Max-Forwards: 70',
    `From: ${o.from ?? `<sip:${o.user}@${A}>`};tag=f${seq}`,
    `To: <sip:${o.user}@${A}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${seq} ${o.method}`,
    ...(o.extra ?? []),
  ];
}
const wire = (lines: string[], body = ''): Uint8Array => new TextEncoder().encode(`${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

async function send(data: Uint8Array, callId: string, port = 5060) {
  replies.delete(callId);
  ua.send(UA, { host: A, port }, data);
  await c.run(50);
  const r = replies.get(callId);
  if (!r) throw new Error(`no reply to ${callId}`);
  return r;
}

const register = (user: string, callId: string, extra: string[] = []) => request({
  method: 'REGISTER', uri: `sip:${A}`, user, callId, extra: [`Contact: <sip:${user}@${UA.host}:${UA.port}>;expires=300`, 'User-Agent: strict-ua', ...extra],
});
const bindings = (i: number) => Array.from(apps[i].registrar.store.all(), (b) => toRecord(b)).sort((x, y) => x.ruid.localeCompare(y.ruid));
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
/** a KDMQ from node 1 (an active node of node 0) to node 0's channel */
const kdmq = (channel: string, callId: string, extra: string[]) => request({
  method: 'KDMQ', uri: `sip:${channel}@${A}:5090`, user: channel, callId, from: `<sip:${channel}@${simIp(1)}:5090>`, extra,
});
function usrlocInsert(aor: string): string {
  const now = Math.floor(c.clock.now() / 1000);
  return formatUsrlocBody({ action: 1, contact: {
    aor, ruid: `uloc-strict-${aor}`, c: `sip:${aor}@10.3.0.1:5060`, received: '', path: '', callid: `cid-${aor}`, user_agent: 'x',
    instance: '', expires: now + 300, cseq: 1, flags: 0, cflags: 0, q: -1, last_modified: now, methods: 0xffffffff, reg_id: 0, server_id: 0,
  } });
}

describe('valid requests are not refused by a default limit', () => {
  it('the defaults are at least as generous as Kamailio 5.6.3 (BUF_SIZE 65 535, no header count)', () => {
    const l = (schema.limits.type as { fields: Record<string, { default?: unknown }> }).fields;
    expect(l.max_datagram.default).toBe(65535);
    expect(l.max_body.default).toBe(65535);
    // the shortest header line is 3 bytes ("a:" LF): a 65 535-byte head holds fewer than 21 845
    expect(l.max_headers.default as number).toBeGreaterThanOrEqual(21_845);
  });

  it('a REGISTER with 500 extension headers gets 200 and replicates', async () => {
    const before = dataKdmq;
    const r = await send(wire(register('many', 'cid-many', many(500, (i) => `X-Ext-${i}: value ${i}`))), 'cid-many');
    expect([r.status, r.reason]).toEqual([200, 'OK']);
    await c.run(200);
    expect(bindings(0).filter((b) => b.aor === 'many')).toHaveLength(1);
    expect(bindings(1).filter((b) => b.aor === 'many')).toHaveLength(1);
    expect(dataKdmq).toBeGreaterThan(before);
  });

  it('a REGISTER through 60 proxies (Via chain, Record-Route, Route, Path) gets 200; the reply carries all 60 Vias and the Path', async () => {
    const lines = register('chain', 'cid-chain', [
      ...many(59, (i) => `Via: SIP/2.0/UDP 10.0.${i >> 8}.${i & 255}:5060;branch=z9hG4bK-proxy-${i};received=10.9.0.${i & 255}`),
      ...many(60, (i) => `Record-Route: <sip:10.0.0.${i & 255}:5060;lr;ftag=f${i}>`),
      `Route: ${many(60, (i) => `<sip:10.1.0.${i & 255}:5060;lr>`).join(', ')}`,
      'Supported: path',
      ...many(60, (i) => `Path: <sip:10.2.0.${i & 255}:5060;lr>`),
    ]);
    const r = await send(wire(lines), 'cid-chain');
    expect(r.status).toBe(200);
    expect(r.text.match(/^Via: /gm)).toHaveLength(60);
    const b = bindings(0).find((x) => x.aor === 'chain')!;
    expect(b.path.split(',')).toHaveLength(60);
    await c.run(200);
    expect(bindings(1).find((x) => x.aor === 'chain')?.path).toBe(b.path);
  });

  it('a 65 000-byte REGISTER of 12 900 short header lines gets 200', async () => {
    const lines = register('short', 'cid-short');
    const size = () => wire(lines).byteLength;
    const room = 65_000 - size();
    for (let i = 0; i < Math.floor(room / 5); i++) lines.push(`x:${i % 10}`);
    expect(size()).toBeLessThanOrEqual(65_000);
    expect(lines.length).toBeGreaterThan(12_500);
    const r = await send(wire(lines), 'cid-short');
    expect(r.status).toBe(200);
  });

  it('a KDMQ usrloc insert with 500 header lines and 30 Vias gets 200 and is stored', async () => {
    const lines = kdmq('usrloc', 'cid-kdmq-many', [
      ...many(29, (i) => `Via: SIP/2.0/UDP 10.4.0.${i}:5090;branch=z9hG4bK-k${i}`), 'Content-Type: application/json', ...many(500, (i) => `X-K-${i}: ${i}`),
    ]);
    const r = await send(wire(lines, usrlocInsert('kdmqmany')), 'cid-kdmq-many', 5090);
    expect(r.status).toBe(200);
    expect(apps[0].registrar.store.get('kdmqmany')).toHaveLength(1);
  });
});

describe('a control character in a header line gets 400 and changes nothing', () => {
  it('property: a random control char at a random position of a random line of a valid REGISTER', async () => {
    const folded = fc.constantFrom([], ['X-Folded: first', '\tsecond part']);
    const extras = fc.array(fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}: [ -~]{0,20}[!-~]$/), { maxLength: 4 });
    await fc.assert(fc.asyncProperty(extras, folded, fc.nat(), fc.nat(), fc.constantFrom(...CONTROLS), async (ex, fold, li, col, ch) => {
      const user = `u${seq}`;
      const callId = `cid-ctl-${seq}`;
      const lines = register(user, callId, [...ex, ...fold]);
      const line = li % lines.length;
      const at = col % (lines[line].length + 1);
      lines[line] = lines[line].slice(0, at) + String.fromCharCode(ch) + lines[line].slice(at);
      const before = [bindings(0), bindings(1), dataKdmq];
      const r = await send(wire(lines), callId);
      expect(r.status).toBe(400);
      expect(r.reason).toMatch(/^(NUL \(0x00\)|control character 0x[01][0-9a-f]|control character 0x7f) in (the request line|the name of header |header |a folded line of header )/);
      await c.run(100);
      expect([bindings(0), bindings(1), dataKdmq]).toEqual(before);
    }), { numRuns: 120 });
  });

  it.each([
    ['usrloc insert, NUL in Content-Type', 'usrloc', 'Content-Type: application/\0json', 'NUL (0x00) in header Content-Type'],
    ['usrloc insert, ESC in the request line', 'usrloc', 'request line', 'control character 0x1b in the request line'],
    ['htable set, DEL in a folded line', 'htable', 'X-F: a\r\n b\x7f', 'control character 0x7f in a folded line of header X-F'],
    ['htable set, BS in the Call-ID', 'htable', 'Call-ID', 'control character 0x08 in header Call-ID'],
  ])('KDMQ %s: 400 and nothing stored (the same KDMQ without it: 200, stored)', async (_n, channel, bad, reason) => {
    const key = `ctl${seq}`;
    const body = channel === 'usrloc' ? usrlocInsert(key) : JSON.stringify({ action: 2, htname: 't', cname: key, type: 2, strval: 'v', mode: 1 });
    const stored = () => (channel === 'usrloc' ? apps[0].registrar.store.get(key).length : apps[0].htable.store.get('t', key) ? 1 : 0);
    const callId = `cid-kdmq-${key}`;
    const clean = kdmq(channel, callId, ['Content-Type: application/json']);
    const lines = [...clean];
    if (bad === 'request line') lines[0] = lines[0].replace(' SIP/2.0', '\x1b SIP/2.0');
    else if (bad === 'Call-ID') lines[5] = lines[5].replace('cid-', 'cid\b-');
    else if (bad.startsWith('Content-Type')) lines[lines.length - 1] = bad;
    else lines.push(bad);
    const before = dataKdmq;
    const r = await send(wire(lines, body), callId, 5090);
    expect([r.status, r.reason]).toEqual([400, reason]);
    await c.run(100);
    expect(stored()).toBe(0);
    expect(dataKdmq).toBe(before);
    clean[1] = clean[1].replace(/branch=[^;]+/, `branch=z9hG4bK-clean-${key}`);
    expect((await send(wire(clean, body), callId, 5090)).status).toBe(200);
    expect(stored()).toBe(1);
  });

  it('the body is not in scope: an htable KDMQ whose JSON string holds raw control chars is the channel\'s to judge', async () => {
    const callId = `cid-body-${seq}`;
    const body = `{"action":2,"htname":"t","cname":"bodykey","type":2,"strval":"a\u0001b\u0000c","mode":1}`;
    const r = await send(wire(kdmq('htable', callId, ['Content-Type: application/json']), body), callId, 5090);
    // the parser lets the body through; the channel's JSON.parse refuses the raw controls
    expect([r.status, r.reason]).toEqual([400, 'Bad Request']);
    expect(apps[0].htable.store.get('t', 'bodykey')).toBeUndefined();
  });
});
