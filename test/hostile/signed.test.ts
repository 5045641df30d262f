// Signed KDMQ between kdmq nodes (dmq.keyring): two in-process nodes on real loopback UDP join and
// replicate with signatures; a forged, a badly signed, a stale and a replayed KDMQ get 403 and are
// counted; the key ring rotates while running (current → previous) without one rejection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KdmqAuth } from '../../src/actors/dmq/kdmq-auth.ts';
import { nodeCrypto } from '../../src/ports/node-crypto.ts';
import { allocLoopbackIps } from '../support/loopback.ts';
import { RawSip, startLiveNode, type LiveNode, type RawRequest } from '../support/live-node.ts';
import { waitFor } from '../support/wait.ts';

const K1 = 'k1:first-secret-0123456789';
const K2 = 'k2:second-secret-9876543210';
let a: LiveNode;
let b: LiveNode;
let raw: RawSip;

beforeAll(async () => {
  const [ipA, ipB, ipR] = allocLoopbackIps(3);
  a = await startLiveNode(ipA, [], { dmq: { keyring: [K1] } });
  b = await startLiveNode(ipB, [`sip:${ipA}:5090`], { dmq: { keyring: [K1] } });
  raw = await RawSip.open(ipR);
  await waitFor(() => a.node.list.activePeers().length === 1 && b.node.list.activePeers().length === 1, { what: 'signed nodes active' });
});

afterAll(async () => {
  await raw?.close();
  for (const n of [a, b]) await n?.stop();
});

async function replicates(from: LiveNode, to: LiveNode, key: string): Promise<void> {
  expect((await from.rpc('htable.sets', ['t', key, `v-${key}`])).error).toBeUndefined();
  await waitFor(() => to.services.app.htable.store.get('t', key) !== undefined, { timeoutMs: 5000, what: `${key} replicated to ${to.ip}` });
}

/** an htable set that claims to come from node a */
function forged(key: string, extra: string[] = []): RawRequest {
  return {
    method: 'KDMQ', uri: `sip:htable@${b.ip}:5090`, from: `<sip:htable@${a.ip}:5090>`,
    headers: ['Content-Type: application/json', ...extra], body: JSON.stringify({ action: 2, htname: 't', cname: key, type: 2, strval: 'evil', mode: 1 }),
  };
}

/** `r` with a valid X-KDMQ-Sig of key `keyring` ("ID:SECRET"), its timestamp `tsOffsetSec` off now */
function signed(r: RawRequest, keyring: string, tsOffsetSec = 0): RawRequest {
  const id = keyring.slice(0, keyring.indexOf(':'));
  const clock = { now: () => Date.now() + tsOffsetSec * 1000, setTimeout: () => 0, clearTimeout: () => {} };
  const auth = new KdmqAuth(clock, nodeCrypto, [{ id, secret: keyring.slice(id.length + 1) }]);
  const tag = r.tag ?? 'fixedtag';
  const callId = r.callId ?? `signed-${Math.random().toString(16).slice(2)}`;
  const [name, value] = auth.sign({
    method: r.method, uri: r.uri, body: r.body,
    headers: [['From', `${r.from};tag=${tag}`], ['To', `<${r.uri}>`], ['Call-ID', callId], ['CSeq', `1 ${r.method}`], ['Content-Type', 'application/json']],
  });
  return { ...r, tag, callId, headers: [...(r.headers ?? []), `${name}: ${value}`] };
}

describe('signed KDMQ', () => {
  it('signed nodes replicate both ways, every KDMQ carrying X-KDMQ-Sig', async () => {
    await replicates(a, b, 'ab1');
    await replicates(b, a, 'ba1');
    expect(a.node.auth!.stats.signed).toBeGreaterThan(0);
    expect(b.node.auth!.stats.verified).toBeGreaterThan(0);
  });

  it('a forged KDMQ (From of a member, no signature) gets 403 and changes nothing', async () => {
    const before = await b.metric('kdmq_signature_rejections_total', { why: 'unsigned' });
    const r = await raw.request(forged('evil1'), b.ip, 5090);
    expect(r.status).toBe(403);
    expect(b.services.app.htable.store.get('t', 'evil1')).toBeUndefined();
    expect(await b.metric('kdmq_signature_rejections_total', { why: 'unsigned' })).toBe(before + 1);
    expect(await b.metric('kdmq_limit_refusals_total', { limit: 'signature' })).toBeGreaterThan(0);
  });

  it('a wrong signature, an unknown key, a stale timestamp and a replay get 403', async () => {
    const bad = `kid=k1;ts=${Math.floor(Date.now() / 1000)};sig=${'0'.repeat(64)}`;
    expect((await raw.request(forged('evil2', [`X-KDMQ-Sig: ${bad}`]), b.ip, 5090)).status).toBe(403);
    expect((await raw.request(forged('evil3', [`X-KDMQ-Sig: kid=zz;ts=${Math.floor(Date.now() / 1000)};sig=${'a'.repeat(64)}`]), b.ip, 5090)).status).toBe(403);
    const rej = b.node.auth!.stats.rejected;
    expect(rej['bad-signature']).toBe(1);
    expect(rej['unknown-key']).toBe(1);
    expect(b.services.app.htable.store.get('t', 'evil2')).toBeUndefined();
    const stale = signed(forged('evil4'), K1, -100);
    expect((await raw.request(stale, b.ip, 5090)).status).toBe(403);
    expect(b.node.auth!.stats.rejected.stale).toBe(1);
  });

  it('a validly signed request is applied once; the same signature again (new branch) is a replay: 403', async () => {
    const ok = signed(forged('legit1'), K1);
    expect((await raw.request(ok, b.ip, 5090)).status).toBe(200);
    expect(b.services.app.htable.store.get('t', 'legit1')).toBeDefined();
    await b.rpc('htable.delete', ['t', 'legit1']);
    expect((await raw.request(ok, b.ip, 5090)).status).toBe(403);
    expect(b.node.auth!.stats.rejected.replayed).toBe(1);
    expect(b.services.app.htable.store.get('t', 'legit1')).toBeUndefined();
  });
});

describe('key rotation while running', () => {
  it('add k2, make it current on a then on b, drop k1: replication never stops, nothing rejected', async () => {
    const rejected = () => Object.values(b.node.auth!.stats.rejected).reduce((x, y) => x + y, 0) + Object.values(a.node.auth!.stats.rejected).reduce((x, y) => x + y, 0);
    const r0 = rejected();
    for (const n of [a, b]) expect((await n.rpc('dmq.keyring_set', [K1, K2])).result).toEqual({ current: 'k1', all: ['k1', 'k2'] });
    await replicates(a, b, 'rot1');
    expect((await a.rpc('dmq.keyring_set', [K2, K1])).result).toEqual({ current: 'k2', all: ['k2', 'k1'] });
    await replicates(a, b, 'rot2'); // signed with k2, verified by b's previous key
    await replicates(b, a, 'rot3'); // signed with k1, verified by a's previous key
    await b.rpc('dmq.keyring_set', [K2, K1]);
    for (const n of [a, b]) await n.rpc('dmq.keyring_set', [K2]);
    await replicates(a, b, 'rot4');
    await replicates(b, a, 'rot5');
    expect(rejected()).toBe(r0);
    expect((await a.rpc('dmq.keyring')).result).toEqual({ current: 'k2', all: ['k2'] });
  });

  it('a node left on the old key only is refused (403 unknown-key)', async () => {
    const before = b.node.auth!.stats.rejected['unknown-key'] ?? 0;
    await a.rpc('dmq.keyring_set', [K1]);
    await a.rpc('htable.sets', ['t', 'stale-key', 'x']);
    await waitFor(() => (b.node.auth!.stats.rejected['unknown-key'] ?? 0) > before, { timeoutMs: 5000, what: 'b refuses k1' });
    expect(b.services.app.htable.store.get('t', 'stale-key')).toBeUndefined();
    await a.rpc('dmq.keyring_set', [K2]);
  });
});
