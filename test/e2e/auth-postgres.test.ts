// Digest authentication and the location table on PostgreSQL (#17): a PostgreSQL server started
// by this file (initdb, by PID, loopback, its own data directory), the database made from
// Kamailio's own schema files (kamailio-postgres-modules), `kdmq serve` with
// auth.db_url postgres://… and usrloc db_mode 1 on usrloc.db_url postgres://…:
// - sipsak without a password and with a wrong one: 401 again (refused); with the right one: 200,
//   and the binding is a row of Kamailio's location table (the exact row read with psql) with this
//   node's server_id;
// - a restart of the node loads the binding back from the table (ul.dump);
// - PostgreSQL stopped mid-run: a user not cached gets 500, the log says why, the node lives;
//   PostgreSQL back: served again, and the binding answered meanwhile is written.
// Skipped (with the reason) only when sipsak or PostgreSQL is absent.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps } from '../support/loopback.ts';
import { run } from '../support/proc.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { postgresMissing, startPostgres, type PgServer } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const SIPSAK = ['/usr/bin/sipsak', '/usr/local/bin/sipsak'].find((p) => existsSync(p));
const missing = SIPSAK === undefined ? 'sipsak not installed (apt-get install -y sipsak)' : postgresMissing();
if (missing) console.warn(`[auth-postgres] skipped: ${missing}`);

async function sipsak(target: string, contact: string, ...opts: string[]): Promise<{ code: number; statuses: number[]; out: string }> {
  const r = await run(SIPSAK!, ['-vvv', '-U', '-i', '-x', '600', '-C', contact, '-s', target, ...opts], 30_000);
  const out = r.stdout + r.stderr;
  return { code: r.code, statuses: [...out.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])), out };
}

describe.skipIf(missing !== null)(`auth and location on PostgreSQL${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const [ip] = allocLoopbackIps(1);
  let pg: PgServer;
  let node: KdmqProc | undefined;

  beforeAll(async () => {
    pg = await startPostgres(ip);
    pg.createKamailioDb('kamailio');
    pg.psql('kamailio', ['-c', `INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('alice', '${ip}', 'apw', '', ''), ('dave', '${ip}', 'dpw', '', '')`]);
    node = await startKdmq({
      ip, notificationAddresses: [], pingInterval: 60,
      extra: {
        auth: { enable: true, db_url: pg.url('kamailio'), calculate_ha1: true },
        usrloc: { db_mode: 1, db_url: pg.url('kamailio'), server_id: 4 },
      },
    });
  }, 90_000);

  afterAll(async () => {
    await node?.cleanup();
    await pg?.destroy();
  });

  async function contacts(aor: string): Promise<string[]> {
    const d = (await node!.rpc('ul.dump')) as { Domains: Array<{ Domain: { AoRs: Array<{ Info: { AoR: string; Contacts: Array<{ Contact: { Address: string } }> } }> } }> };
    const a = d.Domains[0].Domain.AoRs.find((x) => x.Info.AoR === aor);
    return a === undefined ? [] : a.Info.Contacts.map((c) => c.Contact.Address).sort();
  }
  const rows = (where: string) => pg.psql('kamailio', ['-F', '|', '-c', `SELECT username, domain IS NULL, contact, server_id, callid <> '', expires > now() FROM location WHERE ${where} ORDER BY contact`]).trim();

  it('refused without a password and with a wrong one, registered with the right one; the row is in Kamailio\'s location table', { timeout: 120_000 }, async () => {
    const n = node!;
    expect(n.logs()).toContain('digest authentication of REGISTER on');
    expect(n.logs()).toContain('postgres://kdmq:***@');
    expect(n.logs()).not.toContain(pg.password);
    const target = `sip:alice@${ip}:${n.sipPort}`;
    const none = await sipsak(target, `sip:alice@${ip}:5999`);
    expect([none.code, none.statuses], none.out).toEqual([2, [401, 401]]);
    const wrong = await sipsak(target, `sip:alice@${ip}:5999`, '-a', 'wrong');
    expect([wrong.code, wrong.statuses], wrong.out).toEqual([2, [401, 401]]);
    expect(rows("username = 'alice'")).toBe('');
    const good = await sipsak(target, `sip:alice@${ip}:5999`, '-a', 'apw');
    expect([good.code, good.statuses], good.out).toEqual([0, [401, 200]]);
    // db_mode 1: written before the 200
    expect(rows("username = 'alice'")).toBe(`alice|t|sip:alice@${ip}:5999|4|t|t`);
    expect(await contacts('alice')).toEqual([`sip:alice@${ip}:5999`]);
  });

  it('a restart of the node loads the bindings back from the table', { timeout: 120_000 }, async () => {
    node = await node!.restart();
    expect(await contacts('alice')).toEqual([`sip:alice@${ip}:5999`]);
  });

  it('PostgreSQL stopped mid-run: 500 with a log line, the node lives; back: served and written', { timeout: 120_000 }, async () => {
    const n = node!;
    // alice is cached by the restarted node after one REGISTER; dave is not
    expect((await sipsak(`sip:alice@${ip}:${n.sipPort}`, `sip:alice@${ip}:5999`, '-a', 'apw')).code).toBe(0);
    await pg.stop();
    try {
      const down = await sipsak(`sip:dave@${ip}:${n.sipPort}`, `sip:dave@${ip}:5998`, '-a', 'dpw');
      expect([down.code, down.statuses], down.out).toEqual([1, [401, 500]]);
      await waitFor(() => n.logs().includes('auth: subscriber lookup failed, REGISTER answered 500'), { what: 'the 500 log line', timeoutMs: 10_000 });
      expect(n.logs()).toMatch(/ECONNREFUSED|no answer from PostgreSQL/);
      expect(n.alive()).toBe(true);
      // a cached user registers; the location write fails, is logged and kept
      const cached = await sipsak(`sip:alice@${ip}:${n.sipPort}`, `sip:alice@${ip}:5997`, '-a', 'apw');
      expect([cached.code, cached.statuses], cached.out).toEqual([0, [401, 200]]);
      await waitFor(() => n.logs().includes('writing 1 location rows (kept, written again with the next write)'), { what: 'the location write failure logged', timeoutMs: 10_000 });
    } finally {
      await pg.start();
    }
    await waitFor(async () => (await sipsak(`sip:dave@${ip}:${n.sipPort}`, `sip:dave@${ip}:5998`, '-a', 'dpw')).code === 0,
      { what: 'dave registered once PostgreSQL is back', timeoutMs: 20_000, intervalMs: 500 });
    expect(n.alive()).toBe(true);
    expect(rows("username IN ('alice', 'dave')")).toBe([
      `alice|t|sip:alice@${ip}:5997|4|t|t`, `alice|t|sip:alice@${ip}:5999|4|t|t`, `dave|t|sip:dave@${ip}:5998|4|t|t`,
    ].join('\n'));
  });
});
