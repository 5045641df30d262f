// The subscriber port over SQLite (src/persist/subscriber-sqlite.ts) on tables made from
// Kamailio's own schema files (kamailio-sqlite-modules): the version row checked, password or
// ha1/ha1b read per calculate_ha1, use_domain, a bad column or file refused at open, a query that
// fails returned as a value, and the file opened again once it is usable.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { SqliteSubscribers, type SqliteSubscriberOptions } from '../../src/persist/subscriber-sqlite.ts';

const SCHEMA = '/usr/share/kamailio/db_sqlite';
const missing = existsSync(join(SCHEMA, 'auth_db-create.sql')) ? null : `${SCHEMA}/auth_db-create.sql not found (apt-get install kamailio-sqlite-modules)`;
const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
const dir = mkdtempSync(join(tmpdir(), 'kdmq-subscriber-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MD5_A = 'a'.repeat(32);
const SHA_B = 'B'.repeat(64);
let n = 0;

/** a file with Kamailio's version + subscriber tables and two rows of alice (two domains) */
function makeDb(): string {
  const path = join(dir, `s${n++}.db`);
  const db = new Db(path);
  db.exec(readFileSync(join(SCHEMA, 'standard-create.sql'), 'utf8'));
  db.exec(readFileSync(join(SCHEMA, 'auth_db-create.sql'), 'utf8'));
  const ins = db.prepare('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)');
  ins.run('alice', 'one.test', 'pw1', MD5_A, SHA_B);
  ins.run('alice', 'two.test', 'pw2', '', '');
  db.close();
  return path;
}

function edit(path: string, sql: string): void {
  const db = new Db(path);
  db.exec(sql);
  db.close();
}

function open(path: string, o: Partial<SqliteSubscriberOptions> = {}, now = () => 0): SqliteSubscribers {
  const s = SqliteSubscribers.open({ path, calculateHa1: true, passwordColumn: 'password', useDomain: true, now, ...o });
  if (typeof s === 'string') throw new Error(s);
  return s;
}

describe.skipIf(missing !== null)(`subscriber table over SQLite${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('calculate_ha1: the password column; use_domain picks the row of the domain', () => {
    const s = open(makeDb());
    expect(s.lookup('alice', 'one.test')).toEqual({ ok: true, found: { password: 'pw1' } });
    expect(s.lookup('alice', 'two.test')).toEqual({ ok: true, found: { password: 'pw2' } });
    expect(s.lookup('alice', 'three.test')).toEqual({ ok: true, found: null });
    expect(s.lookup('bob', 'one.test')).toEqual({ ok: true, found: null });
    s.close();
  });

  it('without calculate_ha1: ha1 and ha1b by their length; without use_domain the username alone', () => {
    const s = open(makeDb(), { calculateHa1: false, passwordColumn: 'ha1', useDomain: false });
    expect(s.lookup('alice', 'anything')).toEqual({ ok: true, found: { ha1: { MD5: MD5_A }, ha1b: { 'SHA-256': SHA_B.toLowerCase() } } });
    s.close();
  });

  it('refuses at open: no file, no version row, another version, an unknown column', () => {
    const bad = (path: string, o: Partial<SqliteSubscriberOptions> = {}) =>
      SqliteSubscribers.open({ path, calculateHa1: true, passwordColumn: 'password', useDomain: false, now: () => 0, ...o });
    expect(bad(join(dir, 'none.db'))).toMatch(/none\.db: unable to open database file/);
    const noRow = makeDb();
    edit(noRow, "DELETE FROM version WHERE table_name = 'subscriber'");
    expect(bad(noRow)).toMatch(/table version has no row for subscriber/);
    const v6 = makeDb();
    edit(v6, "UPDATE version SET table_version = 6 WHERE table_name = 'subscriber'");
    expect(bad(v6)).toMatch(/table subscriber has version 6, kdmq reads version 7/);
    expect(bad(makeDb(), { passwordColumn: 'passwd' })).toMatch(/table subscriber has no column "passwd"/);
  });

  it('a failing query is a value; the file is opened again at most once a second and then answers', () => {
    const path = makeDb();
    let now = 0;
    const s = open(path, {}, () => now);
    expect(s.lookup('alice', 'one.test').ok).toBe(true);
    edit(path, 'ALTER TABLE subscriber RENAME TO subscriber_old');
    const r = s.lookup('bob', 'one.test');
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.error).toMatch(/no such table: subscriber/);
    edit(path, 'ALTER TABLE subscriber_old RENAME TO subscriber');
    expect(s.lookup('alice', 'one.test')).toMatchObject({ ok: false, error: expect.stringMatching(/not open/) });
    now = 1000;
    expect(s.lookup('alice', 'one.test')).toEqual({ ok: true, found: { password: 'pw1' } });
    s.close();
  });
});
