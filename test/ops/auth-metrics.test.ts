// The kdmq_auth_* metrics (issue 17) of a `kdmq serve` process with auth on a subscriber table made
// from Kamailio's own SQLite schema files: a known sequence of hand-built REGISTERs, each with
// one known outcome (no credentials, good, a replayed nc, a wrong password, an unknown user twice,
// another user's AoR, a forged nonce, an algorithm not offered, a header without its response, an
// expired nonce, the table gone), then GET /metrics is read and every kdmq_auth_ sample must be
// exactly what that sequence makes: challenges, credentials taken, failures by reason, database
// errors, cache hits, misses and entries. Skipped only without Kamailio's SQLite schema files.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { allocLoopbackIps } from '../support/loopback.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { waitFor } from '../support/wait.ts';
import { parseResponse, SipClient } from '../e2e/kdmq-proc.ts';
import { parseProm } from './helpers.ts';

const SCHEMA = '/usr/share/kamailio/db_sqlite';
const missing = existsSync(join(SCHEMA, 'auth_db-create.sql')) ? null : `no ${SCHEMA}/auth_db-create.sql (Debian package kamailio-sqlite-modules)`;
if (missing) console.warn(`[auth-metrics] skipped: ${missing}`);
const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe.skipIf(missing !== null)(`kdmq_auth_ metrics after known REGISTERs${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const [ip] = allocLoopbackIps(1);
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-auth-metrics-'));
  const dbPath = join(dir, 'kamailio.db');
  const sql = (text: string) => {
    const db = new Db(dbPath);
    db.exec(text);
    db.close();
  };
  let node: KdmqProc;
  let ua: SipClient;
  let seq = 0;

  beforeAll(async () => {
    sql(readFileSync(join(SCHEMA, 'standard-create.sql'), 'utf8') + readFileSync(join(SCHEMA, 'auth_db-create.sql'), 'utf8'));
    sql(`INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('alice', '${ip}', 'apw', '', ''), ('dave', '${ip}', 'dpw', '', ''), ('bob', '${ip}', 'bpw', '', '')`);
    node = await startKdmq({
      ip, notificationAddresses: [], pingInterval: 60,
      extra: { dmq_usrloc: { enable: false }, auth: { enable: true, db_url: `sqlite:///${dbPath}`, calculate_ha1: true, nonce_expire: 10, cache_ttl: 60 } },
    });
    ua = await SipClient.open(ip);
  }, 60_000);

  afterAll(async () => {
    await ua?.close();
    await node?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Cred { user: string; pw: string; nonce: string; nc: string; alg?: string; response?: boolean }
  const authorization = (c: Cred) => {
    const uri = `sip:${ip}`;
    const ha1 = md5(`${c.user}:${ip}:${c.pw}`);
    const resp = md5(`${ha1}:${c.nonce}:${c.nc}:0a1b2c3d:auth:${md5(`REGISTER:${uri}`)}`);
    return `Authorization: Digest username="${c.user}", realm="${ip}", nonce="${c.nonce}", uri="${uri}"${c.response === false ? '' : `, response="${resp}"`}, algorithm=${c.alg ?? 'MD5'}, cnonce="0a1b2c3d", qop=auth, nc=${c.nc}`;
  };

  /** one REGISTER of `aor`'s user (Contact on port 7000 + n); status and the challenge's nonce and stale flag */
  async function register(aor: string, cred?: Cred): Promise<{ status: number; nonce?: string; stale: boolean }> {
    const callId = `authm-${++seq}`;
    const req = ua.build({
      method: 'REGISTER', uri: `sip:${ip}`, callId, branch: `z9hG4bK-authm-${seq}`, rport: true,
      extra: [`Contact: <sip:${aor}@${ip}:${7000 + seq}>`, 'Expires: 600', ...(cred ? [authorization(cred)] : [])],
    });
    const text = req.toString('latin1').replace(/^To: .*$/m, `To: <sip:${aor}@${ip}>`);
    const [r] = await ua.exchange(Buffer.from(text, 'latin1'), ip, node.sipPort, callId);
    const p = parseResponse(r.text);
    const www = p.headers.get('www-authenticate')?.[0] ?? '';
    return { status: p.status, nonce: /nonce="([^"]+)"/.exec(www)?.[1], stale: /stale=true/.test(www) };
  }

  async function authSamples(): Promise<Record<string, number>> {
    const res = await fetch(`http://${ip}:${node.rpcPort}/metrics`);
    expect(res.status).toBe(200);
    const out: Record<string, number> = {};
    for (const f of parseProm(await res.text()).values()) {
      for (const s of f.samples) {
        if (!s.name.startsWith('kdmq_auth_')) continue;
        const l = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',');
        out[l ? `${s.name}{${l}}` : s.name] = s.value;
      }
    }
    return out;
  }

  it('every kdmq_auth_ sample is exactly what the REGISTERs made', { timeout: 90_000 }, async () => {
    // before any REGISTER: every series there, at 0
    expect(Object.values(await authSamples()).every((v) => v === 0)).toBe(true);
    const first = await register('alice'); // challenge 1
    expect([first.status, first.stale]).toEqual([401, false]);
    const issuedAt = Date.now();
    const n = first.nonce!;
    expect((await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000001' })).status).toBe(200); // ok 1; miss 1 (alice)
    expect(await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000001' })).toMatchObject({ status: 401, stale: true }); // nc_replay; challenge 2; hit 1
    expect((await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000002' })).status).toBe(200); // ok 2; hit 2
    expect(await register('alice', { user: 'alice', pw: 'nope', nonce: n, nc: '00000003' })).toMatchObject({ status: 401, stale: false }); // bad_password; challenge 3; hit 3
    expect((await register('carol', { user: 'carol', pw: 'x', nonce: n, nc: '00000001' })).status).toBe(401); // unknown_user; challenge 4; miss 2 (absence cached)
    expect((await register('carol', { user: 'carol', pw: 'x', nonce: n, nc: '00000002' })).status).toBe(401); // unknown_user; challenge 5; hit 4
    expect((await register('bob', { user: 'alice', pw: 'apw', nonce: n, nc: '00000004' })).status).toBe(403); // wrong_aor; hit 5
    expect((await register('alice', { user: 'alice', pw: 'apw', nonce: 'abc.0.0123', nc: '00000001' })).status).toBe(401); // bad_nonce; challenge 6
    expect((await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000005', alg: 'SHA-256' })).status).toBe(401); // unsupported; challenge 7
    expect((await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000005', response: false })).status).toBe(400); // bad_header
    // the table gone: dave (not cached) gets 500
    sql('ALTER TABLE subscriber RENAME TO subscriber_away');
    try {
      expect((await register('dave', { user: 'dave', pw: 'dpw', nonce: n, nc: '00000001' })).status).toBe(500); // db error 1; miss 3
    } finally {
      sql('ALTER TABLE subscriber_away RENAME TO subscriber');
    }
    // n is older than nonce_expire (10 s): good credentials get 401 stale=true
    await waitFor(() => Date.now() - issuedAt > 12_000, { what: 'the nonce expired', timeoutMs: 20_000, intervalMs: 100 });
    expect(await register('alice', { user: 'alice', pw: 'apw', nonce: n, nc: '00000006' })).toMatchObject({ status: 401, stale: true }); // stale_nonce; challenge 8; hit 6
    const failures = { bad_password: 1, unknown_user: 2, stale_nonce: 1, nc_replay: 1, wrong_aor: 1, bad_nonce: 1, unsupported: 1, bad_header: 1 };
    expect(await authSamples()).toEqual({
      kdmq_auth_challenges_total: 8,
      kdmq_auth_ok_total: 2,
      ...Object.fromEntries(Object.entries(failures).map(([reason, v]) => [`kdmq_auth_failures_total{reason=${reason}}`, v])),
      kdmq_auth_db_errors_total: 1,
      kdmq_auth_cache_hits_total: 6,
      kdmq_auth_cache_misses_total: 3,
      kdmq_auth_cache_entries: 2, // alice and carol's absence; the failed lookup is not kept
    });
    // the two REGISTERs taken: alice's two contacts, exactly
    const d = (await node.rpc('ul.lookup', ['location', 'alice'])) as { Contacts: Array<{ Contact: { Address: string } }> };
    expect(d.Contacts.map((c) => c.Contact.Address).sort()).toEqual([`sip:alice@${ip}:7002`, `sip:alice@${ip}:7004`]);
  });
});
