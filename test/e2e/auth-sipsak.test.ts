// Digest authentication end to end (#17): a subscriber table made from Kamailio's own SQLite schema
// files (kamailio-sqlite-modules: standard-create.sql for `version`, auth_db-create.sql), users
// provisioned with a password and with ha1/ha1b rows, `kdmq serve` with auth on (both
// calculate_ha1 modes) on a fresh loopback address, and sipsak registering:
// - no credentials: 401 with a qop=auth MD5 challenge; sipsak without -a (empty password) and with
//   a wrong one gets 401 again and gives up (exit 2), as it does against Kamailio 5.6.3's
//   auth_check + auth_challenge, which answer a bad password with a fresh challenge;
// - the right password: 200 and the binding in ul.dump over the node's JSON-RPC;
// - another user's AoR: 403; the table unreadable: 500, a log line, the node alive, a cached user
//   still served, and recovery once the table is back.
// Every wait polls against a deadline. Skipped (with the reason) only when sipsak is absent.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { allocLoopbackIps } from '../support/loopback.ts';
import { run } from '../support/proc.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { waitFor } from '../support/wait.ts';
import { parseResponse, SipClient } from './kdmq-proc.ts';

const SIPSAK = ['/usr/bin/sipsak', '/usr/local/bin/sipsak'].find((p) => existsSync(p));
if (!SIPSAK) console.warn('[auth-sipsak] skipped: sipsak not installed (apt-get install -y sipsak)');
const SCHEMA = '/usr/share/kamailio/db_sqlite';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;

interface Sipsak { code: number; statuses: number[]; out: string }

/** `sipsak -vvv -U` (one REGISTER, Expires 600) with the given extra options; the statuses it received */
async function sipsak(target: string, contact: string, ...opts: string[]): Promise<Sipsak> {
  const r = await run(SIPSAK!, ['-vvv', '-U', '-i', '-x', '600', '-C', contact, '-s', target, ...opts], 30_000);
  const out = r.stdout + r.stderr;
  return { code: r.code, statuses: [...out.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])), out };
}

describe.skipIf(!SIPSAK)(`digest authentication with sipsak${SIPSAK ? '' : ' (skipped: sipsak not installed)'}`, () => {
  const [ip] = allocLoopbackIps(1);
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-auth-e2e-'));
  const dbPath = join(dir, 'kamailio.db');
  let node: KdmqProc | undefined;

  beforeAll(() => {
    for (const f of ['standard-create.sql', 'auth_db-create.sql']) {
      if (!existsSync(join(SCHEMA, f))) throw new Error(`${SCHEMA}/${f} missing: apt-get install -y kamailio-sqlite-modules`);
    }
    const db = new Db(dbPath);
    db.exec(readFileSync(join(SCHEMA, 'standard-create.sql'), 'utf8'));
    db.exec(readFileSync(join(SCHEMA, 'auth_db-create.sql'), 'utf8'));
    const ins = db.prepare('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)');
    // password rows (calculate_ha1) and HA1 rows; the realm is the To domain: the node's IP
    ins.run('alice', ip, 'apw', '', '');
    ins.run('dave', ip, 'dpw', '', '');
    ins.run('bob', ip, 'not-read', md5(`bob:${ip}:bpw`), md5(`bob@${ip}:${ip}:bpw`));
    db.close();
  });

  afterAll(async () => {
    await node?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(auth: Record<string, unknown>): Promise<KdmqProc> {
    await node?.cleanup();
    node = await startKdmq({ ip, notificationAddresses: [], pingInterval: 60, extra: { auth: { enable: true, db_url: `sqlite:///${dbPath}`, ...auth } } });
    return node;
  }

  /** contact addresses of `aor` in ul.dump */
  async function contacts(aor: string): Promise<string[]> {
    const d = (await node!.rpc('ul.dump')) as { Domains: Array<{ Domain: { AoRs: Array<{ Info: { AoR: string; Contacts: Array<{ Contact: { Address: string } }> } }> } }> };
    const a = d.Domains[0].Domain.AoRs.find((x) => x.Info.AoR === aor);
    return a === undefined ? [] : a.Info.Contacts.map((c) => c.Contact.Address);
  }

  it('calculate_ha1: challenged, refused without or with a wrong password (401 again), registered with the right one', { timeout: 120_000 }, async () => {
    const n = await serve({ calculate_ha1: true });
    expect(n.logs()).toContain('digest authentication of REGISTER on');
    // a REGISTER without credentials: the challenge itself
    const ua = await SipClient.open(ip);
    try {
      const req = ua.build({ method: 'REGISTER', uri: `sip:${ip}`, callId: 'auth-e2e-1', branch: 'z9hG4bK-auth-1', rport: true,
        extra: [`Contact: <sip:alice@${ip}:5999>`, 'Expires: 600'] });
      const text = req.toString('latin1').replace(/^To: .*$/m, `To: <sip:alice@${ip}>`);
      const [r] = await ua.exchange(Buffer.from(text, 'latin1'), ip, n.sipPort, 'auth-e2e-1');
      const p = parseResponse(r.text);
      expect(p.status).toBe(401);
      expect(p.headers.get('www-authenticate')).toEqual([expect.stringMatching(new RegExp(`^Digest realm="${ip.replace(/\./g, '\\.')}", nonce="[^"]+", algorithm=MD5, qop="auth"$`))]);
    } finally {
      await ua.close();
    }
    const target = `sip:alice@${ip}:${n.sipPort}`;
    const none = await sipsak(target, `sip:alice@${ip}:5999`);
    expect([none.code, none.statuses], none.out).toEqual([2, [401, 401]]);
    const wrong = await sipsak(target, `sip:alice@${ip}:5999`, '-a', 'wrong');
    expect([wrong.code, wrong.statuses], wrong.out).toEqual([2, [401, 401]]);
    expect(await contacts('alice')).toEqual([]);
    // sipsak's digest username is "alice@" here: with calculate_ha1 HA1 is over it, as auth_db's
    const good = await sipsak(target, `sip:alice@${ip}:5999`, '-a', 'apw');
    expect([good.code, good.statuses], good.out).toEqual([0, [401, 200]]);
    expect(await waitFor(async () => (await contacts('alice')).length > 0 && contacts('alice'), { what: 'alice in ul.dump', timeoutMs: 10_000 }))
      .toEqual([`sip:alice@${ip}:5999`]);
  });

  it('the table unreadable: 500 and a log line, the node stays up, a cached user is still served; back: served again', { timeout: 120_000 }, async () => {
    const n = node!; // still the calculate_ha1 node; alice's row is cached (cache_ttl 60)
    const edit = (sql: string) => {
      const db = new Db(dbPath);
      db.exec(sql);
      db.close();
    };
    edit('ALTER TABLE subscriber RENAME TO subscriber_away');
    try {
      const down = await sipsak(`sip:dave@${ip}:${n.sipPort}`, `sip:dave@${ip}:5998`, '-a', 'dpw');
      expect([down.code, down.statuses], down.out).toEqual([1, [401, 500]]);
      await waitFor(() => n.logs().includes('auth: subscriber lookup failed, REGISTER answered 500'), { what: 'the 500 log line', timeoutMs: 10_000 });
      expect(n.logs()).toMatch(/no such table: subscriber|not open/);
      expect(n.alive()).toBe(true);
      const cached = await sipsak(`sip:alice@${ip}:${n.sipPort}`, `sip:alice@${ip}:5999`, '-a', 'apw');
      expect([cached.code, cached.statuses], cached.out).toEqual([0, [401, 200]]);
    } finally {
      edit('ALTER TABLE subscriber_away RENAME TO subscriber');
    }
    // the file is opened again at most once a second: poll until dave is served
    await waitFor(async () => (await sipsak(`sip:dave@${ip}:${n.sipPort}`, `sip:dave@${ip}:5998`, '-a', 'dpw')).code === 0,
      { what: 'dave registered once the table is back', timeoutMs: 20_000, intervalMs: 500 });
    expect(await contacts('dave')).toEqual([`sip:dave@${ip}:5998`]);
  });

  it('ha1/ha1b rows (calculate_ha1 false): registered by username and by user@domain; another user\'s AoR: 403', { timeout: 120_000 }, async () => {
    const n = await serve({ calculate_ha1: false });
    const target = `sip:bob@${ip}:${n.sipPort}`;
    const wrong = await sipsak(target, `sip:bob@${ip}:5997`, '-u', 'bob', '-a', 'wrong');
    expect([wrong.code, wrong.statuses], wrong.out).toEqual([2, [401, 401]]);
    // as against Kamailio: sipsak's default username "bob@" hashes over "bob@", the ha1 row over "bob"
    const quirk = await sipsak(target, `sip:bob@${ip}:5997`, '-a', 'bpw');
    expect([quirk.code, quirk.statuses], quirk.out).toEqual([2, [401, 401]]);
    const byHa1 = await sipsak(target, `sip:bob@${ip}:5997`, '-u', 'bob', '-a', 'bpw');
    expect([byHa1.code, byHa1.statuses], byHa1.out).toEqual([0, [401, 200]]);
    const byHa1b = await sipsak(target, `sip:bob@${ip}:5996`, '-u', `bob@${ip}`, '-a', 'bpw');
    expect([byHa1b.code, byHa1b.statuses], byHa1b.out).toEqual([0, [401, 200]]);
    expect((await contacts('bob')).sort()).toEqual([`sip:bob@${ip}:5996`, `sip:bob@${ip}:5997`]);
    const foreign = await sipsak(`sip:alice@${ip}:${n.sipPort}`, `sip:alice@${ip}:5995`, '-u', 'bob', '-a', 'bpw');
    expect([foreign.code, foreign.statuses], foreign.out).toEqual([1, [401, 403]]);
    expect(await contacts('alice')).toEqual([]);
  });
});
