// Acceptance of usrloc replication against real Kamailio 5.6.3 (protocol §5, §10):
//  * mixed cluster = one `kdmq serve` + two Kamailio nodes (notification addresses pointing at
//    each other, Kamailio ping_interval 5) on fresh loopback IPs:
//    (a) sipp REGISTER on Kamailio → kdmq's ul.dump equals Kamailio's field by field;
//    (b) REGISTER on kdmq (Path, +sip.instance/reg-id, q, Allow, received, no User-Agent) → both
//        Kamailio nodes equal kdmq;
//    (c) refresh (CSeq+1), changed contact, unregister, two-contact REGISTER, from either origin;
//    (d) 1 000 bindings: restart kdmq → its startup sync restores all of them (field-equal to its
//        dump before the restart); restart a Kamailio → its sync restores all (contact count).
//  * (e) pure kdmq cluster of three nodes: the same steps and restart sync.
// Compared ul.dump fields and the excluded ones with reasons: test/support/ul-compare.ts.
// Skipped, with the reason printed, when Kamailio (or sipp) is not installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { descendants, pidAlive } from '../support/proc.ts';
import { startSipp } from '../support/sipp.ts';
import { SipUa } from '../support/sip-ua.ts';
import { COMPARED_FIELDS, EXCLUDED_FIELDS, diffDumps, normKamailio, normKdmq, showDump, type NormDump } from '../support/ul-compare.ts';
import { waitFor } from '../support/wait.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[usrloc interop] skipped: ${avail.reason}`);

const KDMQ_EXTRA = {
  registrar: { default_expires: 300, max_expires: 3600 },
  dmq_usrloc: { batch_msg_contacts: 50 },
};

interface Member {
  name: string;
  /** SIP "ip:port" where REGISTERs go */
  sip: string;
  dump(): Promise<NormDump>;
  count(): Promise<number>;
  restart(): Promise<void>;
  pids(): number[];
}

function kamMember(name: string, k: KamailioNode): Member {
  return {
    name,
    sip: `${k.ip}:${k.sipPort}`,
    async dump() {
      const at = Date.now();
      return normKamailio(await k.ulDump(), at);
    },
    count: () => k.contactCount(),
    async restart() {
      await k.restart();
    },
    pids: () => [k.pid, ...descendants(k.pid)],
  };
}

async function kdmqCount(k: KdmqProc): Promise<number> {
  const lines = (await k.rpc('stats.get_statistics', ['usrloc:location_contacts'])) as string[];
  const m = /=\s*(\d+)/.exec(lines.find((l) => l.startsWith('usrloc:location_contacts')) ?? '');
  if (!m) throw new Error(`no usrloc:location_contacts in ${JSON.stringify(lines)}`);
  return Number(m[1]);
}

function kdmqMember(name: string, k: KdmqProc): Member {
  return {
    name,
    sip: `${k.ip}:${k.sipPort}`,
    async dump() {
      const at = Date.now();
      return normKdmq(await k.rpc('ul.dump'), at);
    },
    count: () => kdmqCount(k),
    async restart() {
      await k.restart();
    },
    pids: () => [k.pid],
  };
}

/** poll until every peer's dump equals the origin's (field by field); returns the origin's dump */
async function converged(origin: Member, peers: Member[], what: string, check?: (d: NormDump) => string | undefined, timeoutMs = 15_000): Promise<NormDump> {
  let last: string[] = [];
  let lastRef: NormDump | undefined;
  try {
    return await waitFor(
      async () => {
        const ref = await origin.dump();
        lastRef = ref;
        const bad = check?.(ref);
        if (bad) {
          last = [`origin ${origin.name}: ${bad}`];
          return undefined;
        }
        last = [];
        for (const p of peers) last.push(...diffDumps(origin.name, ref, p.name, await p.dump()));
        return last.length === 0 ? ref : undefined;
      },
      { timeoutMs, intervalMs: 150, what },
    );
  } catch (e) {
    const dumps = lastRef ? `\n${showDump(origin.name, lastRef)}` : '';
    throw new Error(`${(e as Error).message.split(';')[0]}\ndifferences:\n  ${last.join('\n  ')}${dumps}`);
  }
}

async function waitActive(name: string, list: () => Promise<Array<{ host: string; status: string; local: boolean | number }>>, peers: string[]): Promise<void> {
  await waitFor(
    async () => {
      const l = await list();
      return peers.every((h) => l.some((n) => n.host === h && !n.local && n.status === 'active')) ? l : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `${name} lists ${peers.join(', ')} active` },
  );
}

async function waitCount(members: Member[], n: number, what: string, timeoutMs = 30_000): Promise<void> {
  let counts: number[] = [];
  await waitFor(
    async () => {
      counts = await Promise.all(members.map((m) => m.count()));
      return counts.every((c) => c === n) ? counts : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${what}: ${members.map((m) => m.name).join(', ')} hold ${n} contacts (last ${counts.join(', ')})` },
  );
}

const has = (d: NormDump, pred: (c: NormDump extends Map<string, infer C> ? C : never) => boolean) => [...d.values()].some(pred);
const contactsOf = (d: NormDump, aor: string) => [...d.values()].filter((c) => c.AoR === aor);

/**
 * Steps (c) from `origin` with a raw UA: two-contact REGISTER, refresh (CSeq+1), changed contact
 * (same Call-ID, CSeq+1, new contact URI), unregister (Expires 0); peers must equal the origin
 * after every step. `tag` keeps AoRs distinct between origins.
 */
async function replicationSteps(ua: SipUa, origin: Member, peers: Member[], tag: string): Promise<void> {
  const user = `multi-${tag}`;
  const callId = `steps-${tag}-${Date.now()}@${ua.ip}`;
  const c1 = `<sip:${user}@${ua.ip}:${ua.port}>`;
  const c2 = `<sip:${user}@${ua.ip}:${ua.port + 1}>;q=0.5`;
  const reg = async (cseq: number, contacts: string[], expires = 300) => {
    const r = await ua.register({ target: origin.sip, user, callId, cseq, contacts, expires, userAgent: `ua-${tag}` });
    expect(r.status, r.text).toBe(200);
  };

  await reg(1, [c1, c2]);
  await converged(origin, peers, `${tag}: two-contact REGISTER replicated`, (d) =>
    contactsOf(d, user).length === 2 ? undefined : `${user} has ${contactsOf(d, user).length} contacts, want 2`);

  await reg(2, [c1, c2]);
  await converged(origin, peers, `${tag}: refresh (CSeq 2) replicated`, (d) =>
    contactsOf(d, user).every((c) => c.CSeq === 2) && contactsOf(d, user).length === 2 ? undefined : `${user} not refreshed to CSeq 2`);

  const c3 = `<sip:${user}@${ua.ip}:${ua.port + 2}>`;
  await reg(3, [c3]);
  await converged(origin, peers, `${tag}: changed contact replicated`, (d) =>
    has(d, (c) => c.AoR === user && c.Address === `sip:${user}@${ua.ip}:${ua.port + 2}` && c.CSeq === 3) ? undefined : `${user} lacks the changed contact`);

  await reg(4, [c1], 0);
  await converged(origin, peers, `${tag}: unregister of one contact replicated`, (d) =>
    !has(d, (c) => c.AoR === user && c.Address === `sip:${user}@${ua.ip}:${ua.port}`) ? undefined : `${user} still has ${c1}`);
}

/** REGISTERs exercising every replicated field: Path, instance/reg-id, q, Allow, received, no UA */
async function richRegisters(ua: SipUa, origin: Member, tag: string): Promise<string[]> {
  const users = [`rich-${tag}`, `noua-${tag}`, `nat-${tag}`];
  const r1 = await ua.register({
    target: origin.sip, user: users[0], callId: `rich-${tag}@${ua.ip}`, cseq: 7, expires: 600,
    contacts: [`<sip:${users[0]}@${ua.ip}:${ua.port};transport=udp>;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1`],
    userAgent: 'rich-ua/2.0 (test)', path: ['<sip:edge.kdmq.test;lr>'], allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE',
  });
  expect(r1.status, r1.text).toBe(200);
  const r2 = await ua.register({
    target: origin.sip, user: users[1], callId: `noua-${tag}@${ua.ip}`, cseq: 1, expires: 300,
    contacts: [`<sip:${users[1]}@${ua.ip}:${ua.port}>`], userAgent: null,
  });
  expect(r2.status, r2.text).toBe(200);
  // contact host differs from the source address: kdmq saves `received` (Kamailio here does not:
  // no fix_nated_register in the harness config)
  const r3 = await ua.register({
    target: origin.sip, user: users[2], callId: `nat-${tag}@${ua.ip}`, cseq: 1, expires: 300,
    contacts: [`<sip:${users[2]}@192.0.2.10:5062>`],
  });
  expect(r3.status, r3.text).toBe(200);
  return users;
}

describe.skipIf(!avail.ok)(`usrloc replication with Kamailio (${avail.reason})`, () => {
  const kams: KamailioNode[] = [];
  let kdmq: KdmqProc | undefined;
  let K1: Member;
  let K2: Member;
  let KD: Member;
  let ua: SipUa;
  const allPids = new Set<number>();
  let sippIp = '';
  const track = () => {
    for (const m of [K1, K2, KD]) if (m) for (const p of m.pids()) allPids.add(p);
  };

  beforeAll(async () => {
    console.info(`[usrloc interop] compared fields: ${COMPARED_FIELDS.join(', ')}`);
    console.info(`[usrloc interop] excluded: ${Object.entries(EXCLUDED_FIELDS).map(([k, v]) => `${k} (${v})`).join('; ')}`);
    const [ipK, ip1, ip2, ipUa, ipSipp] = allocLoopbackIps(5);
    sippIp = ipSipp;
    const started = await Promise.allSettled([
      startKamailio({ ip: ip1, notificationAddresses: [`sip:${ip2}:5090`, `sip:${ipK}:5090`], pingInterval: 5, children: 2, usrlocBatch: 50 }),
      startKamailio({ ip: ip2, notificationAddresses: [`sip:${ip1}:5090`, `sip:${ipK}:5090`], pingInterval: 5, children: 2, usrlocBatch: 50 }),
      startKdmq({ ip: ipK, notificationAddresses: [`sip:${ip1}:5090`, `sip:${ip2}:5090`], pingInterval: 5, extra: KDMQ_EXTRA }),
    ]);
    for (const s of started.slice(0, 2)) if (s.status === 'fulfilled') kams.push(s.value as KamailioNode);
    if (started[2].status === 'fulfilled') kdmq = started[2].value as KdmqProc;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    K1 = kamMember('kam1', kams[0]);
    K2 = kamMember('kam2', kams[1]);
    KD = kdmqMember('kdmq', kdmq!);
    track();
    ua = await SipUa.open(ipUa);
    await Promise.all([
      waitActive('kam1', () => kams[0].listNodes(), [ip2, ipK]),
      waitActive('kam2', () => kams[1].listNodes(), [ip1, ipK]),
      waitActive('kdmq', () => kdmq!.listNodes(), [ip1, ip2]),
    ]);
  }, 90_000);

  afterAll(async () => {
    await ua?.close();
    track();
    await kdmq?.cleanup().catch((e) => console.warn(`cleanup kdmq: ${e}`));
    for (const k of kams) await k.cleanup().catch((e) => console.warn(`cleanup ${k.ip}: ${e}`));
    expect([...allPids].filter(pidAlive), 'processes still alive after cleanup').toEqual([]);
  });

  it('(a) a sipp REGISTER on Kamailio appears in kdmq (and the other Kamailio) field for field', { timeout: 60_000 }, async () => {
    const r = await startSipp({ target: K1.sip, localIp: sippIp, users: 3, userPrefix: 'sippa', rate: 50 });
    expect(r, r.errors || r.screen).toMatchObject({ code: 0, successful: 3, failed: 0 });
    const d = await converged(K1, [KD, K2], 'sipp contacts of kam1 on kdmq and kam2', (x) =>
      ['sippa1', 'sippa2', 'sippa3'].every((u) => contactsOf(x, u).length === 1) ? undefined : 'sipp AoRs missing');
    expect(contactsOf(d, 'sippa1')[0]['User-Agent']).toBe('kdmq-sipp');
    // and a rich REGISTER on Kamailio (instance, reg-id, q, Allow, no User-Agent)
    await richRegisters(ua, K1, 'kam');
    await converged(K1, [KD, K2], 'rich contacts of kam1 on kdmq and kam2', (x) =>
      ['rich-kam', 'noua-kam', 'nat-kam'].every((u) => contactsOf(x, u).length === 1) ? undefined : 'rich AoRs missing');
  });

  it('(b) a REGISTER on kdmq appears on both Kamailio nodes field for field', { timeout: 60_000 }, async () => {
    const r = await startSipp({ target: KD.sip, localIp: sippIp, users: 3, userPrefix: 'sippb', rate: 50 });
    expect(r, r.errors || r.screen).toMatchObject({ code: 0, successful: 3, failed: 0 });
    await richRegisters(ua, KD, 'kd');
    const d = await converged(KD, [K1, K2], 'kdmq contacts on kam1 and kam2', (x) =>
      ['sippb1', 'sippb2', 'sippb3', 'rich-kd', 'noua-kd', 'nat-kd'].every((u) => contactsOf(x, u).length === 1) ? undefined : 'AoRs missing on kdmq');
    const rich = contactsOf(d, 'rich-kd')[0];
    expect(rich).toMatchObject({ Q: 0.7, Path: '<sip:edge.kdmq.test;lr>', 'Reg-Id': 1, Instance: '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>', 'User-Agent': 'rich-ua/2.0 (test)' });
    expect(contactsOf(d, 'noua-kd')[0]['User-Agent']).toBe('n/a');
    expect(contactsOf(d, 'nat-kd')[0].Received).toBe(`sip:${ua.ip}:${ua.port}`);
  });

  it('(c) refresh, changed contact, unregister and two contacts replicate from either side', { timeout: 120_000 }, async () => {
    await replicationSteps(ua, K1, [KD, K2], 'kam');
    await replicationSteps(ua, KD, [K1, K2], 'kd');
  });

  it('(d) with 1 000 bindings: kdmq restart sync restores all; a Kamailio restart syncs all from kdmq and the other Kamailio', { timeout: 240_000 }, async () => {
    const base = await KD.count(); // bindings of the earlier cases, held by every node
    const [a, b] = await Promise.all([
      startSipp({ target: K1.sip, localIp: sippIp, users: 500, userPrefix: 'bulkk', rate: 500 }),
      startSipp({ target: KD.sip, localIp: allocLoopbackIps(1)[0], users: 500, userPrefix: 'bulkd', rate: 500 }),
    ]);
    expect(a, a.errors || a.screen).toMatchObject({ code: 0, successful: 500 });
    expect(b, b.errors || b.screen).toMatchObject({ code: 0, successful: 500 });
    // Kamailio's replication of its 500 may still be in flight when sipp ends: wait for the sum
    const total = base + 1000;
    await waitCount([KD, K1, K2], total, 'all nodes hold every binding');
    const before = await KD.dump();
    const t0 = Date.now();
    await KD.restart();
    track();
    await waitCount([KD], total, 'restarted kdmq synced', 60_000);
    console.info(`[usrloc interop] kdmq restart: ${total} bindings restored in ${Date.now() - t0} ms (incl. process start)`);
    const after = await KD.dump();
    // ruids, every field (Expires ±1 s) as before the restart — received back from the Kamailio nodes
    expect(diffDumps('kdmq-before', before, 'kdmq-after', after)).toEqual([]);

    const t1 = Date.now();
    await K2.restart();
    track();
    await waitCount([K2], total, 'restarted kam2 synced', 60_000);
    console.info(`[usrloc interop] kam2 restart: ${total} bindings restored in ${Date.now() - t1} ms (incl. process start)`);
    expect(await K1.count()).toBe(total);
    expect(await KD.count()).toBe(total);
  });
});

describe('usrloc replication in a pure kdmq cluster of three', () => {
  const nodes: KdmqProc[] = [];
  let M: Member[] = [];
  let ua: SipUa;
  let sippIp = '';

  beforeAll(async () => {
    const ips = allocLoopbackIps(5);
    sippIp = ips[4];
    const started = await Promise.allSettled(
      [0, 1, 2].map((i) =>
        startKdmq({
          ip: ips[i], pingInterval: 1, extra: KDMQ_EXTRA,
          notificationAddresses: [0, 1, 2].filter((j) => j !== i).map((j) => `sip:${ips[j]}:5090`),
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    M = nodes.map((n, i) => kdmqMember(`kdmq${i + 1}`, n));
    ua = await SipUa.open(ips[3]);
    await Promise.all(nodes.map((n, i) => waitActive(`kdmq${i + 1}`, () => n.listNodes(), ips.slice(0, 3).filter((_, j) => j !== i))));
  }, 60_000);

  afterAll(async () => {
    await ua?.close();
    const pids = nodes.map((n) => n.pid);
    for (const n of nodes) await n.cleanup().catch((e) => console.warn(`cleanup ${n.ip}: ${e}`));
    expect(pids.filter(pidAlive), 'kdmq processes still alive after cleanup').toEqual([]);
  });

  it('(e) REGISTERs on one node appear on the others field for field, every step', { timeout: 120_000 }, async () => {
    const r = await startSipp({ target: M[0].sip, localIp: sippIp, users: 3, userPrefix: 'sippe', rate: 50 });
    expect(r, r.errors || r.screen).toMatchObject({ code: 0, successful: 3, failed: 0 });
    await richRegisters(ua, M[1], 'k2');
    await converged(M[0], [M[1], M[2]], 'kdmq1 = kdmq2 = kdmq3', (x) =>
      ['sippe1', 'rich-k2', 'noua-k2', 'nat-k2'].every((u) => contactsOf(x, u).length === 1) ? undefined : 'AoRs missing');
    await replicationSteps(ua, M[2], [M[0], M[1]], 'k3');
  });

  it('(e) 1 000 bindings: a restarted kdmq node gets all of them back by startup sync', { timeout: 120_000 }, async () => {
    const r = await startSipp({ target: M[0].sip, localIp: sippIp, users: 1000, userPrefix: 'bulk', rate: 1000 });
    expect(r, r.errors || r.screen).toMatchObject({ code: 0, successful: 1000 });
    const total = await M[0].count();
    await waitCount(M, total, 'all three hold every binding');
    const before = await M[2].dump();
    await M[2].restart();
    await waitCount([M[2]], total, 'restarted kdmq3 synced', 30_000);
    expect(diffDumps('kdmq3-before', before, 'kdmq3-after', await M[2].dump())).toEqual([]);
    expect(diffDumps('kdmq1', await M[0].dump(), 'kdmq3', await M[2].dump())).toEqual([]);
  });
});
