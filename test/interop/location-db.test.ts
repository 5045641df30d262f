// The location table shared with real Kamailio 5.6.3 (issue 17 items 2-4): kdmq and Kamailio take
// turns on one database, SQLite (Kamailio's db_sqlite on the node's file) and PostgreSQL (schema
// from Kamailio's own postgres/*.sql), Kamailio with usrloc db_mode 1, 2 and 3. Each round:
// - kdmq (db_mode 1, server_id 1) registers bindings and stops; Kamailio starts and lists exactly
//   the bindings kdmq listed (ul.dump; db_mode 3, which keeps nothing in memory: ul.lookup of
//   every AoR, read from the database) — AoR, contact, Call-ID, CSeq, ruid, q, server_id;
// - Kamailio (server_id 2) registers more and stops (db_mode 2 writes at shutdown); kdmq starts
//   and lists exactly what Kamailio listed.
// Then db_mode 3 on PostgreSQL with two kdmq nodes and a Kamailio db_mode 3 node sharing the
// database and no DMQ between them: a binding written through one is found by the others'
// ul.lookup, a REGISTER at one answers with the contacts written through another, and an
// unregister through one is gone at the others. And a Kamailio node with auth_db and usrloc
// db_mode 1 beside a kdmq node with auth on the same PostgreSQL database: a user provisioned once
// (one INSERT into subscriber) is challenged without a password, refused with a wrong one and
// registered with the right one by sipsak on both; each node's binding survives a restart of the
// other and then both ul.dump list exactly the same bindings.
// Skipped only when a tool is absent (reason shown).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { allocLoopbackIps, freeUdpPort } from '../support/loopback.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { kamailioDbMissing, startKamailioDb, type KamailioDbNode } from '../support/kamailio-db.ts';
import type { UlAor } from '../support/kamcmd-parse.ts';
import { postgresMissing, startPostgres, type PgServer } from '../support/postgres.ts';
import { parseResponse, SipClient } from '../e2e/kdmq-proc.ts';
import { waitFor } from '../support/wait.ts';
import { sipsakMissing, sipsakRegister } from '../support/sipsak.ts';

const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
const SQLITE_SQL = '/usr/share/kamailio/db_sqlite';
const sqliteMissing = kamailioDbMissing('sqlite') ?? (existsSync(join(SQLITE_SQL, 'usrloc-create.sql')) ? null : 'no Kamailio SQLite schema files (kamailio-sqlite-modules)');
const pgMissing = kamailioDbMissing('postgres') ?? postgresMissing();
if (sqliteMissing) console.warn(`[location-db] SQLite part skipped: ${sqliteMissing}`);
if (pgMissing) console.warn(`[location-db] PostgreSQL part skipped: ${pgMissing}`);

type Contact = { uri: string; q?: string };

/** one REGISTER for `user` with these contacts (Expires 600); the response's Contact values */
async function register(ua: SipClient, ip: string, port: number, user: string, contacts: Contact[], callId: string, cseq = 1, expires = 600): Promise<string[]> {
  const req = ua.build({
    method: 'REGISTER', uri: `sip:${ip}`, callId, branch: `z9hG4bK-${callId}-${cseq}`, cseq: `${cseq} REGISTER`, rport: true,
    extra: [...contacts.map((c) => `Contact: <${c.uri}>${c.q ? `;q=${c.q}` : ''}`), `Expires: ${expires}`],
  });
  const text = req.toString('latin1').replace(/^To: .*$/m, `To: <sip:${user}@${ip}>`);
  ua.received.length = 0; // a REGISTER reusing a Call-ID must not take the earlier answer
  const [r] = await ua.exchange(Buffer.from(text, 'latin1'), ip, port, callId);
  const p = parseResponse(r.text);
  if (p.status !== 200) throw new Error(`REGISTER ${user} answered ${p.status} ${p.reason}`);
  return (p.headers.get('contact') ?? []).flatMap((v) => v.split(/,(?=\s*<)/)).map((v) => /<([^>]+)>/.exec(v)?.[1] ?? v).sort();
}

/** a binding as both sides print it: AoR, contact, Call-ID, CSeq, ruid, q, server_id */
const key = (aor: string, c: { address: string; callId: string; cseq: number; ruid: string; q: number; serverId: number }) =>
  `${aor}|${c.address}|${c.callId}|${c.cseq}|${c.ruid}|${c.q}|${c.serverId}`;

/** absolute expiry (s) of each binding as last listed by each side: Expires is relative */
let lastKdmq = new Map<string, number>();
let lastKam = new Map<string, number>();
const nowS = () => Date.now() / 1000;

/** the same bindings expire at the same time on both sides (±3 s: the listings are seconds apart) */
function expectSameExpiry(a: Map<string, number>, b: Map<string, number>): void {
  for (const [k, t] of a) if (b.has(k)) expect(Math.abs(t - b.get(k)!), k).toBeLessThanOrEqual(3);
}

async function kdmqSet(n: KdmqProc): Promise<string[]> {
  const d = (await n.rpc('ul.dump')) as { Domains: Array<{ Domain: { AoRs: Array<{ Info: { AoR: string; Contacts: Array<{ Contact: Record<string, unknown> }> } }> } }> };
  lastKdmq = new Map();
  return d.Domains.flatMap((x) => x.Domain.AoRs).flatMap((a) => a.Info.Contacts.map(({ Contact: c }) => {
    const k = key(a.Info.AoR, { address: String(c.Address), callId: String(c['Call-ID']), cseq: Number(c.CSeq), ruid: String(c.Ruid), q: Number(c.Q), serverId: Number(c['Server-Id']) });
    lastKdmq.set(k, nowS() + Number(c.Expires));
    return k;
  })).sort();
}

function kamSet(aors: UlAor[]): string[] {
  lastKam = new Map();
  return aors.flatMap((a) => a.contacts.map((c) => {
    const k = key(a.aor, { ...c, serverId: Number(c.raw['Server-Id'] ?? NaN) });
    lastKam.set(k, nowS() + c.expires);
    return k;
  })).sort();
}

const aorsOf = (set: string[]) => [...new Set(set.map((k) => k.split('|')[0]))];

async function kamView(kam: KamailioDbNode, mode: number, aors: string[]): Promise<string[]> {
  if (mode !== 3) return kamSet(await kam.ulDump());
  const out: UlAor[] = [];
  for (const a of aors) out.push(...(await kam.ulLookup(a)));
  return kamSet(out);
}

function rounds(backend: 'sqlite' | 'postgres', db: () => string) {
  let ip: string;
  let ua: SipClient;
  beforeAll(async () => {
    [ip] = allocLoopbackIps(1);
    ua = await SipClient.open(ip);
  });
  afterAll(async () => ua?.close());

  for (const mode of [1, 2, 3] as const) {
    it(`${backend}: kdmq's rows listed by Kamailio db_mode ${mode}, Kamailio's rows listed by kdmq`, { timeout: 180_000 }, async () => {
      const kd = await startKdmq({ ip, notificationAddresses: [], pingInterval: 60, extra: { dmq_usrloc: { enable: false }, usrloc: { db_mode: 1, db_url: db(), server_id: 1 } } });
      let written: string[];
      try {
        await register(ua, ip, kd.sipPort, `k${mode}a`, [{ uri: `sip:k${mode}a@${ip}:6001`, q: '0.5' }, { uri: `sip:k${mode}a@${ip}:6002;transport=udp` }], `kdmq-${backend}-${mode}-a`);
        await register(ua, ip, kd.sipPort, `k${mode}b`, [{ uri: `sip:k${mode}b@${ip}:6003`, q: '1' }], `kdmq-${backend}-${mode}-b`, 7);
        written = await kdmqSet(kd);
      } finally {
        await kd.cleanup();
      }
      expect(written.filter((k) => k.startsWith(`k${mode}`))).toHaveLength(3);
      const port = await freeUdpPort(ip);
      const kam = await startKamailioDb({ ip, sipPort: port, dbUrl: db(), dbMode: mode, serverId: 2 });
      let kamWritten: string[];
      try {
        // Kamailio's SIP child preloads the table in its child_init: ctl may answer before that
        let view0: string[] = [];
        await waitFor(async () => (view0 = await kamView(kam, mode, aorsOf(written))).length >= written.length, { timeoutMs: 10_000, intervalMs: 100, what: 'Kamailio\'s preload' }).catch(() => undefined);
        expect(view0, kam.logTail()).toEqual(written);
        expectSameExpiry(lastKdmq, lastKam);
        expect([...lastKam.values()].every((t) => t > nowS() + 500), 'Kamailio reads the expires kdmq wrote (600 s)').toBe(true);
        // Kamailio registers; it stops before kdmq starts (db_mode 2 writes at shutdown)
        await register(ua, ip, port, `m${mode}a`, [{ uri: `sip:m${mode}a@${ip}:6101`, q: '0.25' }, { uri: `sip:m${mode}a@${ip}:6102` }], `kam-${backend}-${mode}-a`);
        await register(ua, ip, port, `m${mode}b`, [{ uri: `sip:m${mode}b@${ip}:6103` }], `kam-${backend}-${mode}-b`, 3);
        kamWritten = await kamView(kam, mode, [...aorsOf(written), `m${mode}a`, `m${mode}b`]);
      } finally {
        await kam.cleanup();
      }
      expect(kamWritten.filter((k) => k.startsWith(`m${mode}`))).toHaveLength(3);
      expect(kamWritten.filter((k) => !k.startsWith(`m${mode}`))).toEqual(written);
      const back = await startKdmq({ ip, notificationAddresses: [], pingInterval: 60, extra: { dmq_usrloc: { enable: false }, usrloc: { db_mode: 1, db_url: db(), server_id: 1 } } });
      try {
        expect(await kdmqSet(back)).toEqual(kamWritten);
        expectSameExpiry(lastKdmq, lastKam);
      } finally {
        await back.cleanup();
      }
    });
  }
}

describe.skipIf(sqliteMissing !== null)(`location table on SQLite with Kamailio's db_sqlite${sqliteMissing ? ` (skipped: ${sqliteMissing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-locdb-'));
  const file = join(dir, 'kamailio.db');
  beforeAll(() => {
    const db = new Db(file);
    db.exec(readFileSync(join(SQLITE_SQL, 'standard-create.sql'), 'utf8'));
    db.exec(readFileSync(join(SQLITE_SQL, 'usrloc-create.sql'), 'utf8'));
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  rounds('sqlite', () => `sqlite:///${file}`);
});

describe.skipIf(pgMissing !== null)(`location table on PostgreSQL with Kamailio's db_postgres${pgMissing ? ` (skipped: ${pgMissing})` : ''}`, () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPostgres('127.0.0.1');
    pg.createKamailioDb('kamailio');
  }, 90_000);
  afterAll(async () => pg?.destroy());
  rounds('postgres', () => pg.url('kamailio'));

  it('db_mode 3: two kdmq nodes and Kamailio on one database, no DMQ: each sees what the others wrote', { timeout: 180_000 }, async () => {
    pg.psql('kamailio', ['-c', 'DELETE FROM location']);
    const [ipA, ipB, ipK] = allocLoopbackIps(3);
    const cfg = (id: number) => ({ dmq_usrloc: { enable: false }, usrloc: { db_mode: 3, db_url: pg.url('kamailio'), server_id: id } });
    const a = await startKdmq({ ip: ipA, notificationAddresses: [], pingInterval: 60, extra: cfg(11) });
    const b = await startKdmq({ ip: ipB, notificationAddresses: [], pingInterval: 60, extra: cfg(12) });
    const kamPort = await freeUdpPort(ipK);
    const kam = await startKamailioDb({ ip: ipK, sipPort: kamPort, dbUrl: pg.url('kamailio'), dbMode: 3, serverId: 13 });
    const ua = await SipClient.open('127.0.0.1');
    const lookup = async (n: KdmqProc, aor: string) => {
      try {
        const r = (await n.rpc('ul.lookup', ['location', aor])) as { Contacts: Array<{ Contact: { Address: string } }> };
        return r.Contacts.map((c) => c.Contact.Address).sort();
      } catch {
        return [];
      }
    };
    const kamLookup = async (aor: string) => (await kam.ulLookup(aor)).flatMap((x) => x.contacts.map((c) => c.address)).sort();
    try {
      const cA = `sip:carol@127.0.0.1:7001`;
      const cB = `sip:carol@127.0.0.1:7002`;
      const cK = `sip:carol@127.0.0.1:7003`;
      expect(await register(ua, ipA, a.sipPort, 'carol', [{ uri: cA }], 'db3-a')).toEqual([cA]);
      expect(await lookup(b, 'carol')).toEqual([cA]);
      expect(await kamLookup('carol')).toEqual([cA]);
      // a REGISTER at B answers with what A wrote too
      expect(await register(ua, ipB, b.sipPort, 'carol', [{ uri: cB }], 'db3-b')).toEqual([cA, cB]);
      expect(await register(ua, ipK, kamPort, 'carol', [{ uri: cK }], 'db3-k')).toEqual([cA, cB, cK]);
      expect(await lookup(a, 'carol')).toEqual([cA, cB, cK]);
      // unregister through A the contact B wrote: gone at B and at Kamailio
      expect(await register(ua, ipA, a.sipPort, 'carol', [{ uri: cB }], 'db3-b', 2, 0)).toEqual([cA, cK]);
      expect(await lookup(b, 'carol')).toEqual([cA, cK]);
      expect(await kamLookup('carol')).toEqual([cA, cK]);
      expect(pg.psql('kamailio', ['-c', "SELECT contact || ' ' || server_id FROM location WHERE username = 'carol' ORDER BY contact"]).trim().split('\n'))
        .toEqual([`${cA} 11`, `${cK} 13`]);
    } finally {
      await ua.close();
      await kam.cleanup();
      await a.cleanup();
      await b.cleanup();
    }
  });

  it.skipIf(sipsakMissing !== null)(`auth_db + db_mode 1 and kdmq on one database: one subscriber row authenticates on both, bindings survive the other's restart${sipsakMissing ? ` (skipped: ${sipsakMissing})` : ''}`, { timeout: 240_000 }, async () => {
    pg.psql('kamailio', ['-c', 'DELETE FROM location']);
    // provisioned once; use_domain 0 on both (Kamailio's default): the username selects the row, the realm is the To domain
    pg.psql('kamailio', ['-c', "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('erin', 'lab.example', 'epw', '', '')"]);
    const [ipD, ipK] = allocLoopbackIps(2);
    const kdmqCfg = { dmq_usrloc: { enable: false }, auth: { enable: true, db_url: pg.url('kamailio'), calculate_ha1: true }, usrloc: { db_mode: 1, db_url: pg.url('kamailio'), server_id: 21 } };
    const kamPort = await freeUdpPort(ipK);
    const kamOpts = { ip: ipK, sipPort: kamPort, dbUrl: pg.url('kamailio'), dbMode: 1 as const, serverId: 22, auth: true };
    let kd = await startKdmq({ ip: ipD, notificationAddresses: [], pingInterval: 60, extra: kdmqCfg });
    let kam = await startKamailioDb(kamOpts);
    const cD = `sip:erin@${ipD}:5901`;
    const cK = `sip:erin@${ipK}:5902`;
    try {
      const both = async (contactD: string, contactK: string, ...opts: string[]) => {
        const d = await sipsakRegister(`sip:erin@${ipD}:${kd.sipPort}`, contactD, ...opts);
        const k = await sipsakRegister(`sip:erin@${ipK}:${kamPort}`, contactK, ...opts);
        return { kdmq: [d.code, d.statuses], kamailio: [k.code, k.statuses], out: `${d.out}\n---\n${k.out}\n${kam.logTail()}` };
      };
      const none = await both(cD, cK);
      expect({ kdmq: none.kdmq, kamailio: none.kamailio }, none.out).toEqual({ kdmq: [2, [401, 401]], kamailio: [2, [401, 401]] });
      const wrong = await both(cD, cK, '-a', 'nope');
      expect({ kdmq: wrong.kdmq, kamailio: wrong.kamailio }, wrong.out).toEqual({ kdmq: [2, [401, 401]], kamailio: [2, [401, 401]] });
      expect(pg.psql('kamailio', ['-c', 'SELECT count(*) FROM location']).trim()).toBe('0');
      const good = await both(cD, cK, '-a', 'epw');
      expect({ kdmq: good.kdmq, kamailio: good.kamailio }, good.out).toEqual({ kdmq: [0, [401, 200]], kamailio: [0, [401, 200]] });
      // db_mode 1 on both: each holds its own binding, both are rows
      const ofD = await kdmqSet(kd);
      const ofK = kamSet(await kam.ulDump());
      expect([ofD.map((k) => k.split('|')[1]), ofK.map((k) => k.split('|')[1])]).toEqual([[cD], [cK]]);
      expect(pg.psql('kamailio', ['-c', 'SELECT contact || \' \' || server_id FROM location ORDER BY contact']).trim().split('\n')).toEqual([`${cD} 21`, `${cK} 22`].sort());
      const all = [...ofD, ...ofK].sort();
      // Kamailio restarted: it lists kdmq's binding beside its own, exactly
      await kam.cleanup();
      kam = await startKamailioDb(kamOpts);
      let kamView: string[] = [];
      await waitFor(async () => (kamView = kamSet(await kam.ulDump())).length >= 2, { timeoutMs: 10_000, intervalMs: 100, what: 'Kamailio\'s preload' }).catch(() => undefined);
      expect(kamView, kam.logTail()).toEqual(all);
      // kdmq restarted: it lists Kamailio's binding beside its own, exactly as Kamailio does
      kd = await kd.restart();
      expect(await kdmqSet(kd)).toEqual(all);
      expect(kamSet(await kam.ulDump())).toEqual(all);
      // and the restarted nodes still authenticate the one row
      const again = await both(cD, cK, '-a', 'epw');
      expect({ kdmq: again.kdmq, kamailio: again.kamailio }, again.out).toEqual({ kdmq: [0, [401, 200]], kamailio: [0, [401, 200]] });
    } finally {
      await kam.cleanup();
      await kd.cleanup();
    }
  });
});
