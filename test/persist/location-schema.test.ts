// Kamailio's location table in a node's SQLite file (issue 17 item 2): the table kdmq makes is
// the one Kamailio's usrloc-create.sql makes (columns, types, defaults, indexes compared with a
// file made from Kamailio's own SQL); rows are what usrloc writes (AoR split with use_domain,
// local-time TIMESTAMPs, q / 1000, NULLs); a file of kdmq's earlier schema is migrated on first
// open (every binding and persistent htable item read back exactly); a wrong version is refused;
// db_mode 3's per-AoR read and conditional expiry delete.
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import { fromDbTime, fromRow, toDbTime, toJulianDay, toRow } from '../../src/persist/location-row.ts';
import { SqlitePersistence } from '../../src/persist/sqlite.ts';

const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
const KAM_SQL = '/usr/share/kamailio/db_sqlite';
const haveKamSql = existsSync(join(KAM_SQL, 'usrloc-create.sql'));
const dir = mkdtempSync(join(tmpdir(), 'kdmq-locschema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rec = (i: number, over: Partial<UsrlocContact> = {}): UsrlocContact => ({
  aor: `u${i}@kdmq.test`, ruid: `uloc-5f-${i.toString(16)}`, c: `sip:u${i}@127.0.0.1:5070;ob`, received: i % 2 ? 'sip:127.0.0.9:5999' : '', path: i % 3 ? '' : '<sip:127.0.0.7;lr>',
  callid: `call-${i}`, user_agent: i % 2 ? 'kdmq-test/1' : '', instance: i % 2 ? '' : '<urn:uuid:00000000-0000-0000-0000-00000000000' + (i % 10) + '>',
  expires: 1_795_000_000 + i, cseq: 10 + i, flags: 0, cflags: i % 4, q: i % 2 ? -1 : 500, last_modified: 1_794_999_000 + i,
  methods: i % 2 ? -1 : 8191, reg_id: i % 2, server_id: 7, ...(i % 2 ? { sock: 'udp:127.0.0.1:5060' } : {}), ...over,
});

function schemaOf(file: string): unknown {
  const db = new Db(file);
  const cols = db.prepare('PRAGMA table_info(location)').all();
  const idx = (db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'location' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string; sql: string }>)
    .map((r) => ({ name: r.name, sql: r.sql.replace(/\s+/g, ' ') }));
  const v = db.prepare("SELECT table_name, table_version FROM version WHERE table_name IN ('location', 'version') ORDER BY table_name").all();
  db.close();
  return { cols, idx, v };
}

describe('location table in Kamailio\'s schema (SQLite)', () => {
  it.skipIf(!haveKamSql)('kdmq makes the table Kamailio\'s usrloc-create.sql makes', () => {
    const kam = join(dir, 'kam.db');
    const db = new Db(kam);
    db.exec(readFileSync(join(KAM_SQL, 'standard-create.sql'), 'utf8'));
    db.exec(readFileSync(join(KAM_SQL, 'usrloc-create.sql'), 'utf8').split('CREATE TABLE location_attrs')[0]);
    db.close();
    const mine = join(dir, 'mine.db');
    new SqlitePersistence(mine, { checkpointWorker: false }).close();
    expect(schemaOf(mine)).toEqual(schemaOf(kam));
  });

  it('rows are what usrloc writes, and read back exactly', () => {
    const r = rec(1);
    expect(toRow(r, false, toDbTime)).toMatchObject({ username: 'u1@kdmq.test', domain: null, q: -1, methods: null, path: null, instance: null, socket: 'udp:127.0.0.1:5060', connection_id: -1 });
    expect(toRow(rec(2), true, toDbTime)).toMatchObject({ username: 'u2', domain: 'kdmq.test', q: 0.5, methods: 8191, received: null, socket: null });
    expect(toRow(rec(3, { aor: 'nodomain' }), true, toDbTime)).toMatchObject({ username: '', domain: 'nodomain' });
    expect(toRow(rec(4, { expires: 0 }), false, toDbTime).expires).toBe(toDbTime(0));
    // SQLite: db_sqlite's Julian day, read back to the second
    expect(toRow(rec(4), false, toJulianDay).expires).toBe((rec(4).expires - 0.5) / 86400 + 2440587.5);
    for (let t = 0; t < 2_000_000_000; t += 7_777_777) for (const d of [0, 1, 2, 3]) expect(fromDbTime(toJulianDay(t + d))).toBe(t + d);
    const d = new Date(1_795_000_001 * 1000);
    expect(toDbTime(1_795_000_001)).toBe(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`);
    for (const ud of [false, true]) {
      const f = join(dir, `rt-${ud}.db`);
      const p = new SqlitePersistence(f, { checkpointWorker: false, useDomain: ud });
      const all = Array.from({ length: 12 }, (_, i) => rec(i, i === 5 ? { expires: 0 } : {}));
      p.writeBindings(all, []);
      p.writeBindings([rec(3, { cseq: 99, c: 'sip:moved@127.0.0.2' })], [rec(4).ruid]);
      const want = all.filter((r) => r.ruid !== rec(4).ruid).map((r) => (r.ruid === rec(3).ruid ? rec(3, { cseq: 99, c: 'sip:moved@127.0.0.2' }) : r));
      const byRuid = (a: UsrlocContact, b: UsrlocContact) => a.ruid.localeCompare(b.ruid);
      expect(p.loadBindings().sort(byRuid)).toEqual(want.sort(byRuid));
      expect(p.loadAor('u6@kdmq.test')).toEqual([rec(6)]);
      p.close();
    }
  });

  it('fromRow refuses what dbrow2info refuses (no contact, no callid, unreadable expires)', () => {
    const row = { ...toRow(rec(2), false, toJulianDay) } as Record<string, unknown>;
    expect(fromRow(row, false)).toEqual(rec(2));
    expect(fromRow({ ...row, contact: '' }, false)).toBeNull();
    expect(fromRow({ ...row, callid: null }, false)).toBeNull();
    expect(fromRow({ ...row, expires: 'soon' }, false)).toBeNull();
  });

  it('a file of kdmq\'s earlier schema is migrated on first open, bindings and htable items exactly', () => {
    const f = join(dir, 'old.sqlite');
    const db = new Db(f);
    db.exec(`CREATE TABLE location (ruid TEXT PRIMARY KEY, aor TEXT NOT NULL, expires INTEGER NOT NULL, rec TEXT NOT NULL);
      CREATE TABLE htable (tbl TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, expire INTEGER NOT NULL, PRIMARY KEY (tbl, name));`);
    const old = Array.from({ length: 9 }, (_, i) => rec(i));
    const ins = db.prepare('INSERT INTO location (ruid, aor, expires, rec) VALUES (?, ?, ?, ?)');
    for (const r of old) ins.run(r.ruid, r.aor, r.expires, JSON.stringify(r));
    ins.run('damaged', 'x', 0, '{not json');
    db.prepare('INSERT INTO htable VALUES (?, ?, ?, ?)').run('lab', 'k1', JSON.stringify({ type: 's', v: 'one' }), 0);
    db.close();
    const p = new SqlitePersistence(f, { checkpointWorker: false });
    expect(p.schema).toEqual({ created: false, migrated: 9 });
    expect(p.loadBindings().sort((a, b) => a.ruid.localeCompare(b.ruid))).toEqual(old.sort((a, b) => a.ruid.localeCompare(b.ruid)));
    expect(p.loadItems()).toEqual([{ table: 'lab', name: 'k1', value: { type: 's', v: 'one' }, expire: 0 }]);
    p.close();
    const again = new SqlitePersistence(f, { checkpointWorker: false });
    expect(again.schema).toEqual({ created: false, migrated: 0 });
    expect(again.loadBindings()).toHaveLength(9);
    again.close();
    const check = new Db(f);
    expect((check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)).toEqual(['kdmq_htable', 'location', 'version']);
    check.close();
  });

  it('a location table of another version is refused with the reason', () => {
    const f = join(dir, 'v8.db');
    const db = new Db(f);
    db.exec("CREATE TABLE version (table_name VARCHAR(32) NOT NULL UNIQUE, table_version INTEGER); INSERT INTO version VALUES ('location', 8); CREATE TABLE location (id INTEGER PRIMARY KEY, ruid TEXT UNIQUE, contact TEXT)");
    db.close();
    expect(() => new SqlitePersistence(f, { checkpointWorker: false })).toThrow('table location has version 8, kdmq reads version 9 (Kamailio 5.6 usrloc-create.sql)');
  });

  it('db_mode 3: deleteExpired leaves a row refreshed in the database (by another node)', () => {
    const f = join(dir, 'dbonly.db');
    const p = new SqlitePersistence(f, { checkpointWorker: false });
    p.writeBindings([rec(1, { expires: 1000 }), rec(2, { expires: 5000 }), rec(3, { expires: 0 })], []);
    p.deleteExpired([rec(1).ruid, rec(2).ruid, rec(3).ruid], 2000);
    expect(p.loadBindings().map((r) => r.ruid).sort()).toEqual([rec(2).ruid, rec(3).ruid].sort());
    p.close();
  });
});
