// Every limit of config `limits:` (and registrar.max_contacts) hit on a live in-process node over
// real loopback UDP: the SIP answer (status, reason, Retry-After), the kdmq_limit_refusals_total
// counter in /metrics, and that nothing already stored was lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsrlocBody, type UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import { allocLoopbackIps } from '../support/loopback.ts';
import { RawSip, registerReq, startLiveNode, type LiveNode } from '../support/live-node.ts';
import { waitFor } from '../support/wait.ts';

let a: LiveNode; // sizes, bindings, htable, sync
let b: LiveNode; // pending transactions
let c: LiveNode; // REGISTER rate
let peer: RawSip; // plays an active DMQ node of a
let ua: RawSip;

const refusals = (n: LiveNode, limit: string) => n.metric('kdmq_limit_refusals_total', { limit });

beforeAll(async () => {
  const [ipA, ipB, ipC, ipP] = allocLoopbackIps(4);
  a = await startLiveNode(ipA, [], {
    registrar: { max_contacts: 2 },
    sip: { kdmq_timeout: 60_000 },
    limits: { max_bindings: 3, htable_max_items: 2, max_datagram: 2000, max_body: 500, max_headers: 20, sync_requests_per_minute: 2 },
  });
  b = await startLiveNode(ipB, [], { limits: { max_pending_transactions: 5 } });
  c = await startLiveNode(ipC, [], { limits: { register_rate: 1, register_burst: 3 } });
  peer = await RawSip.open(ipP, 5090);
  ua = await RawSip.open(ipP);
  // announce the raw peer as an active node of a
  const r = await peer.request({ method: 'KDMQ', uri: `sip:notification_peer@${ipA}:5090`, from: `<sip:notification_peer@${ipP}:5090>`, headers: ['Content-Type: text/plain'], body: `sip:${ipP}:5090;status=active\r\n` }, ipA, 5090);
  expect(r.status).toBe(200);
  await waitFor(() => a.node.list.activePeers().length === 1, { what: 'raw peer active on a' });
});

afterAll(async () => {
  await peer?.close();
  await ua?.close();
  for (const n of [a, b, c]) await n?.stop();
});

const kdmq = (channel: string, body: string) => ({
  method: 'KDMQ', uri: `sip:${channel}@${a.ip}:5090`, from: `<sip:${channel}@${peer.ip}:5090>`, headers: ['Content-Type: application/json'], body,
});

function contact(aor: string, n: number): UsrlocContact {
  const now = Math.floor(Date.now() / 1000);
  return {
    aor, ruid: `uloc-raw-${aor}-${n}`, c: `sip:${aor}@127.0.0.9:${5000 + n}`, received: '', path: '', callid: `cid-${aor}-${n}`, user_agent: 'raw',
    instance: '', expires: now + 300, cseq: 1, flags: 0, cflags: 0, q: -1, last_modified: now, methods: 0xffffffff, reg_id: 0, server_id: 0,
  };
}

describe('message size limits (transaction layer)', () => {
  it('a datagram over limits.max_datagram gets 513 Message Too Large', async () => {
    const before = await refusals(a, 'datagram');
    const r = await ua.request({ method: 'OPTIONS', uri: `sip:${a.ip}:5060`, headers: [`X-Pad: ${'x'.repeat(2100)}`] }, a.ip, 5060);
    expect([r.status, r.reason]).toEqual([513, 'Message Too Large']);
    expect(await refusals(a, 'datagram')).toBe(before + 1);
  });
  it('a body over limits.max_body gets 413', async () => {
    const r = await ua.request({ method: 'OPTIONS', uri: `sip:${a.ip}:5060`, headers: ['Content-Type: text/plain'], body: 'y'.repeat(600) }, a.ip, 5060);
    expect(r.status).toBe(413);
    expect(await refusals(a, 'body')).toBe(1);
  });
  it('more header lines than limits.max_headers gets 513', async () => {
    const r = await ua.request({ method: 'OPTIONS', uri: `sip:${a.ip}:5060`, headers: Array.from({ length: 25 }, (_, i) => `X-H${i}: ${i}`) }, a.ip, 5060);
    expect(r.status).toBe(513);
    expect(r.reason).toMatch(/too many headers/);
    expect(await refusals(a, 'headers')).toBe(1);
  });
});

describe('bindings', () => {
  it('registrar.max_contacts per AoR: 503, counted, the AoR keeps its bindings', async () => {
    expect((await ua.request(registerReq(a.ip, 'u1', ['sip:u1@127.0.0.9:1', 'sip:u1@127.0.0.9:2'], 'u1-cid', 1), a.ip, 5060)).status).toBe(200);
    const r = await ua.request(registerReq(a.ip, 'u1', ['sip:u1@127.0.0.9:3'], 'u1-cid', 2), a.ip, 5060);
    expect(r.status).toBe(503);
    expect(await refusals(a, 'contacts_per_aor')).toBe(1);
    expect(a.services.app.registrar.store.get('u1')).toHaveLength(2);
  });
  it('limits.max_bindings per node: REGISTER 503 + Retry-After, replicated insert 503, nothing stored is lost', async () => {
    expect((await ua.request(registerReq(a.ip, 'u2', ['sip:u2@127.0.0.9:1']), a.ip, 5060)).status).toBe(200);
    const r = await ua.request(registerReq(a.ip, 'u3', ['sip:u3@127.0.0.9:1']), a.ip, 5060);
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/\r\nRetry-After: \d+\r\n/);
    expect(r.reason).toMatch(/limit bindings/);
    const rep = await peer.request(kdmq('usrloc', formatUsrlocBody({ action: 1, contact: contact('u4', 1) })), a.ip, 5090);
    expect(rep.status).toBe(503);
    expect(await refusals(a, 'bindings')).toBe(2);
    const store = a.services.app.registrar.store;
    expect(store.contactCount()).toBe(3);
    expect(store.get('u4')).toHaveLength(0);
    // a refresh of a stored binding is not an insert: still accepted at the limit
    expect((await ua.request(registerReq(a.ip, 'u2', ['sip:u2@127.0.0.9:1'], undefined, 5), a.ip, 5060)).status).toBe(200);
  });
});

describe('htable items', () => {
  it('limits.htable_max_items: RPC error and KDMQ 503; updates of stored keys still work', async () => {
    expect((await a.rpc('htable.sets', ['t', 'k1', 'v1'])).error).toBeUndefined();
    expect((await a.rpc('htable.sets', ['t', 'k2', 'v2'])).error).toBeUndefined();
    const e = await a.rpc('htable.sets', ['t', 'k3', 'v3']);
    expect(e.error?.message).toMatch(/full \(limits\.htable_max_items\)/);
    const r = await peer.request(kdmq('htable', JSON.stringify({ action: 2, htname: 't', cname: 'k4', type: 2, strval: 'x', mode: 1 })), a.ip, 5090);
    expect(r.status).toBe(503);
    expect(await refusals(a, 'htable_items')).toBe(2);
    expect((await a.rpc('htable.sets', ['t', 'k1', 'v1b'])).error).toBeUndefined();
    expect(a.services.app.htable.store.get('t', 'k2')?.value).toEqual({ type: 2, strval: 'v2' });
  });
});

describe('sync requests per node per minute', () => {
  it('the third usrloc sync request within a minute gets 503 + Retry-After', async () => {
    for (let i = 0; i < 2; i++) expect((await peer.request(kdmq('usrloc', '{"action":3}'), a.ip, 5090)).status).toBe(200);
    const r = await peer.request(kdmq('usrloc', '{"action":3}'), a.ip, 5090);
    expect(r.status).toBe(503);
    expect(Number(/\r\nRetry-After: (\d+)\r\n/.exec(r.text)?.[1])).toBeGreaterThan(0);
    expect(await refusals(a, 'sync_requests')).toBe(1);
  });
});

describe('pending transactions', () => {
  // the 503 itself (requests waiting for their answer over the limit) is tested on the layer:
  // test/transport/transactions.test.ts; a live node answers every request in the same tick
  it('answered transactions (kept 37 s for retransmissions) do not count toward limits.max_pending_transactions', async () => {
    const replies = [];
    for (let i = 0; i < 7; i++) replies.push(await ua.request({ method: 'OPTIONS', uri: `sip:${b.ip}:5060` }, b.ip, 5060));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(await refusals(b, 'pending_transactions')).toBe(0);
  });
});

describe('REGISTER rate per source', () => {
  it('a burst over the token bucket gets 503 + Retry-After; other sources are not affected', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await ua.request(registerReq(c.ip, `r${i}`, [`sip:r${i}@127.0.0.9:1`]), c.ip, 5060)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([503, 503]);
    expect(await refusals(c, 'register_rate')).toBe(2);
    const other = await RawSip.open(allocLoopbackIps(1)[0]);
    try {
      expect((await other.request(registerReq(c.ip, 'o1', ['sip:o1@127.0.0.9:1']), c.ip, 5060)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
