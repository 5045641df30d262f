// Signed KDMQ in a mixed cluster with real Kamailio 5.6.3: two `kdmq serve` nodes with
// dmq.keyring and dmq.kamailio_peers = the Kamailio's /32, one Kamailio. The kdmq nodes sign every
// KDMQ (Kamailio too gets X-KDMQ-Sig and ignores it), accept Kamailio's unsigned KDMQ by policy,
// and refuse unsigned KDMQ from any other address; membership, usrloc and htable work both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { RawSip } from '../support/live-node.ts';
import { SipUa } from '../support/sip-ua.ts';
import { waitFor } from '../support/wait.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[signed interop] skipped: ${avail.reason}`);

const KEYS = ['k1:interop-secret-0123456789'];
let kam: KamailioNode;
let a: KdmqProc;
let b: KdmqProc;
let ua: SipUa;
let raw: RawSip;

describe.skipIf(!avail.ok)('signed KDMQ with a Kamailio peer (dmq.kamailio_peers)', () => {
  beforeAll(async () => {
    const [ipK, ipA, ipB, ipU] = allocLoopbackIps(4);
    const extra = {
      dmq: { keyring: KEYS, kamailio_peers: [`${ipK}/32`] },
      htable: { tables: { lab: { size: 8, dmqreplicate: true } } },
      registrar: { default_expires: 300 },
    };
    kam = await startKamailio({ ip: ipK, notificationAddresses: [`sip:${ipA}:5090`], pingInterval: 5 });
    a = await startKdmq({ ip: ipA, notificationAddresses: [`sip:${ipK}:5090`], extra });
    b = await startKdmq({ ip: ipB, notificationAddresses: [`sip:${ipA}:5090`], extra });
    ua = await SipUa.open(ipU);
    raw = await RawSip.open(ipU);
  }, 90_000);

  afterAll(async () => {
    await ua?.close();
    await raw?.close();
    for (const n of [a, b, kam]) await n?.cleanup();
  });

  it('all three nodes list each other active', async () => {
    const activeOn = async (list: Array<{ host: string; status: string; local: number | boolean }>) => list.filter((n) => !n.local && n.status === 'active').map((n) => n.host).sort();
    await waitFor(async () => (await activeOn(await kam.listNodes())).length === 2 && (await activeOn(await a.listNodes())).length === 2 && (await activeOn(await b.listNodes())).length === 2, {
      timeoutMs: 40_000, intervalMs: 250, what: 'full mesh active',
    });
  }, 60_000);

  it('REGISTER on Kamailio reaches both kdmq nodes; REGISTER on kdmq reaches Kamailio', async () => {
    expect((await ua.register({ target: `${kam.ip}:5060`, user: 'kam-user', callId: 'sig-kam-1', cseq: 1, contacts: [`<sip:kam-user@${ua.ip}:${ua.port}>`], expires: 300 })).status).toBe(200);
    expect((await ua.register({ target: `${a.ip}:5060`, user: 'kdmq-user', callId: 'sig-kdmq-1', cseq: 1, contacts: [`<sip:kdmq-user@${ua.ip}:${ua.port}>`], expires: 300 })).status).toBe(200);
    const has = (dump: unknown, aor: string) => JSON.stringify(dump).includes(aor);
    await waitFor(async () => has(await a.rpc('ul.dump'), 'kam-user') && has(await b.rpc('ul.dump'), 'kam-user'), { timeoutMs: 10_000, what: 'kam-user on both kdmq' });
    await waitFor(async () => (await kam.ulDump()).some((x) => x.aor === 'kdmq-user'), { timeoutMs: 10_000, what: 'kdmq-user on Kamailio' });
    await waitFor(async () => has(await b.rpc('ul.dump'), 'kdmq-user'), { timeoutMs: 10_000, what: 'kdmq-user on b (signed kdmq → kdmq)' });
  }, 40_000);

  it('htable set on kdmq reaches Kamailio (signed request, header ignored) and back', async () => {
    await a.rpc('htable.sets', ['lab', 'from-kdmq', 'v1']);
    await waitFor(async () => (await kam.htableDump('lab')).some((i) => i.name === 'from-kdmq'), { timeoutMs: 10_000, what: 'from-kdmq on Kamailio' });
    await kam.rpc('htable.sets', 'lab', 'from-kam', 'v2');
    await waitFor(async () => JSON.stringify(await b.rpc('htable.dump', ['lab'])).includes('from-kam'), { timeoutMs: 10_000, what: 'from-kam on b' });
  }, 30_000);

  it('an unsigned KDMQ from an address outside kamailio_peers gets 403 and changes nothing', async () => {
    const r = await raw.request({
      method: 'KDMQ', uri: `sip:htable@${a.ip}:5090`, from: `<sip:htable@${kam.ip}:5090>`, headers: ['Content-Type: application/json'],
      body: JSON.stringify({ action: 2, htname: 'lab', cname: 'forged', type: 2, strval: 'x', mode: 1 }),
    }, a.ip, 5090);
    expect(r.status).toBe(403);
    expect(JSON.stringify(await a.rpc('htable.dump', ['lab']))).not.toContain('forged');
    expect(kam.alive()).toBe(true);
  });
});
