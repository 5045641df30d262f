// baresip registers with a password (issue 17 item 4): a real baresip process on a loopback
// address (its config dir in a temp folder: sip_listen, the account module, an account line with
// `;auth_pass=`), `kdmq serve` with auth on a subscriber table made from Kamailio's own SQLite
// schema files. baresip's REGISTER is challenged (401) and sent again with credentials; kdmq's
// location then holds exactly the contact baresip sent (read from baresip's own SIP trace, -s),
// the auth counters say one challenge and one success, and baresip's unregister at exit (also
// authenticated) removes the binding. A wrong password never registers. Started by PID, stopped
// by PID (SIGTERM), every wait against a deadline. Skipped (with the reason) only without baresip.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { allocLoopbackIps, freeUdpTcpPort } from '../support/loopback.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { pidAlive } from '../support/proc.ts';
import { waitFor } from '../support/wait.ts';

const BARESIP = ['/usr/bin/baresip', '/usr/local/bin/baresip'].find((p) => existsSync(p));
const SCHEMA = '/usr/share/kamailio/db_sqlite';
const MODULES = ['/usr/lib/baresip/modules', '/usr/local/lib/baresip/modules'].find((p) => existsSync(join(p, 'account.so')));
const missing = BARESIP === undefined ? 'baresip not installed (apt-get install -y baresip)'
  : MODULES === undefined ? 'baresip\'s account.so module not found'
    : existsSync(join(SCHEMA, 'auth_db-create.sql')) ? null : `no ${SCHEMA}/auth_db-create.sql (kamailio-sqlite-modules)`;
if (missing) console.warn(`[auth-baresip] skipped: ${missing}`);
const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;

interface Baresip { child: ChildProcess; out: () => string; stop: () => Promise<void> }

/** baresip with its own config dir: one account `user` on the registrar at ip (port 5060) */
function startBaresip(dir: string, ip: string, port: number, user: string, password: string): Baresip {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config'), [`sip_listen ${ip}:${port}`, `module_path ${MODULES}`, 'module_app account.so', ''].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:${user}@${ip}>;auth_pass=${password};regint=600\n`);
  const child = spawn(BARESIP!, ['-f', dir, '-s', '-n', ip], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  return {
    child,
    out: () => out,
    async stop() {
      const pid = child.pid;
      if (pid === undefined || child.exitCode !== null) return;
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !pidAlive(pid), { timeoutMs: 10_000, intervalMs: 50, what: 'baresip stopped' }).catch(() => process.kill(pid, 'SIGKILL'));
    },
  };
}

/** the Contact URIs of the REGISTERs baresip printed in its SIP trace (-s) */
const sentContacts = (out: string) => [...new Set([...out.matchAll(/^Contact: <([^>]+)>/gm)].map((m) => m[1]))];

describe.skipIf(missing !== null)(`baresip registers with a password${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const [ip] = allocLoopbackIps(1);
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-baresip-'));
  let node: KdmqProc;

  beforeAll(async () => {
    const db = new Db(join(dir, 'kamailio.db'));
    db.exec(readFileSync(join(SCHEMA, 'standard-create.sql'), 'utf8') + readFileSync(join(SCHEMA, 'auth_db-create.sql'), 'utf8'));
    db.prepare('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)').run('alice', ip, 'apw', '', '');
    db.close();
    node = await startKdmq({
      ip, notificationAddresses: [], pingInterval: 60,
      extra: { dmq_usrloc: { enable: false }, auth: { enable: true, db_url: `sqlite:///${join(dir, 'kamailio.db')}`, calculate_ha1: true } },
    });
  }, 60_000);

  afterAll(async () => {
    await node?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const lookup = async (aor: string): Promise<string[]> => {
    try {
      const r = (await node.rpc('ul.lookup', ['location', aor])) as { Contacts: Array<{ Contact: { Address: string } }> };
      return r.Contacts.map((c) => c.Contact.Address).sort();
    } catch {
      return []; // AoR not found
    }
  };
  /** kdmq_auth_ samples from /metrics (the auth counters only) */
  const auth = async () => {
    const text = await (await fetch(`http://${ip}:${node.rpcPort}/metrics`)).text();
    const v = (sample: string) => Number(new RegExp(`^${sample.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { challenges: v('kdmq_auth_challenges_total'), ok: v('kdmq_auth_ok_total'), bad: v('kdmq_auth_failures_total{reason="bad_password"}') };
  };

  it('a wrong auth_pass never registers: every REGISTER is challenged again', { timeout: 60_000 }, async () => {
    const ua = startBaresip(join(dir, 'wrong'), ip, await freeUdpTcpPort(ip), 'alice', 'nope');
    try {
      await waitFor(async () => (await auth()).bad >= 1, { timeoutMs: 15_000, intervalMs: 100, what: 'baresip\'s credentials refused' }).catch((e) => {
        throw new Error(`${(e as Error).message}\n${ua.out()}`);
      });
      expect(await lookup('alice')).toEqual([]);
    } finally {
      await ua.stop();
    }
    expect((await auth()).ok).toBe(0);
  });

  it('the right auth_pass: 401, then 200; kdmq holds exactly baresip\'s contact; its unregister removes it', { timeout: 60_000 }, async () => {
    const before = await auth();
    const port = await freeUdpTcpPort(ip);
    const ua = startBaresip(join(dir, 'right'), ip, port, 'alice', 'apw');
    let contacts: string[] = [];
    try {
      await waitFor(async () => (contacts = await lookup('alice')).length > 0, { timeoutMs: 15_000, intervalMs: 100, what: 'baresip\'s binding in kdmq' }).catch(() => undefined);
      const sent = sentContacts(ua.out());
      expect(sent, ua.out()).toHaveLength(1);
      expect(sent[0]).toMatch(new RegExp(`^sip:alice-[^@]+@${ip.replace(/\./g, '\\.')}:${port}$`));
      expect(contacts, `${ua.out()}\n${node.logs()}`).toEqual(sent);
      const after = await auth();
      expect([after.challenges - before.challenges, after.ok - before.ok]).toEqual([1, 1]);
    } finally {
      await ua.stop();
    }
    await waitFor(async () => (await lookup('alice')).length === 0, { timeoutMs: 10_000, intervalMs: 100, what: 'baresip\'s unregister at exit' });
  });
});
