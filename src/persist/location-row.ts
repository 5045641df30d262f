// Kamailio's `location` table (usrloc-create.sql of 5.6, table_version 9) as kdmq reads and writes
// it, the same for SQLite and PostgreSQL: one row per binding, by ruid. What a row holds is what
// usrloc's db_insert_ucontact writes and its dbrow2info reads back:
// - username/domain: with use_domain the AoR split at its `@` (no `@`: username '' and domain the
//   AoR, as Kamailio does), else username is the whole AoR and domain NULL;
// - expires, last_modified: TIMESTAMP as Kamailio's database module writes it: on PostgreSQL
//   'YYYY-MM-DD HH:MM:SS' in local time (db_time2str's localtime_r), on SQLite a Julian day number
//   (REAL, db_sqlite's timet_to_sqlite, half a second early; db_sqlite reads a text date as the
//   number it starts with, i.e. year 2026 as Julian day 2026: such a row is long expired for
//   Kamailio and deleted by its timer); expires 0, a permanent binding, is the epoch;
// - q: the q-value / 1000 (-1 for none); methods NULL for all methods; received, path, socket,
//   instance NULL when empty; connection_id -1 (no TCP connection), keepalive 0, partition 0.
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';

export const LOCATION_TABLE_VERSION = 9;

/** the columns kdmq writes, in this order (id is the database's) */
export const LOCATION_COLUMNS = [
  'ruid', 'username', 'domain', 'contact', 'received', 'path', 'expires', 'q', 'callid', 'cseq', 'last_modified',
  'flags', 'cflags', 'user_agent', 'socket', 'methods', 'instance', 'reg_id', 'server_id', 'connection_id', 'keepalive', 'partition',
] as const;

export type LocationRow = Record<(typeof LOCATION_COLUMNS)[number], string | number | null>;

/** Kamailio's DDL for `location` (usrloc-create.sql), for a database that has no such table yet;
 * `serial` is the id column's type: INTEGER (SQLite) or SERIAL (PostgreSQL) */
export function locationDdl(serial: 'INTEGER' | 'SERIAL'): string[] {
  return [
    `CREATE TABLE location (
    id ${serial} PRIMARY KEY NOT NULL,
    ruid VARCHAR(64) DEFAULT '' NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT NULL,
    contact VARCHAR(512) DEFAULT '' NOT NULL,
    received VARCHAR(128) DEFAULT NULL,
    path VARCHAR(512) DEFAULT NULL,
    expires TIMESTAMP WITHOUT TIME ZONE DEFAULT '2030-05-28 21:32:15' NOT NULL,
    q REAL DEFAULT 1.0 NOT NULL,
    callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL,
    cseq INTEGER DEFAULT 1 NOT NULL,
    last_modified TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:01' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    cflags INTEGER DEFAULT 0 NOT NULL,
    user_agent VARCHAR(255) DEFAULT '' NOT NULL,
    socket VARCHAR(64) DEFAULT NULL,
    methods INTEGER DEFAULT NULL,
    instance VARCHAR(255) DEFAULT NULL,
    reg_id INTEGER DEFAULT 0 NOT NULL,
    server_id INTEGER DEFAULT 0 NOT NULL,
    connection_id INTEGER DEFAULT 0 NOT NULL,
    keepalive INTEGER DEFAULT 0 NOT NULL,
    partition INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT location_ruid_idx UNIQUE (ruid)
)`,
    'CREATE INDEX location_account_contact_idx ON location (username, domain, contact)',
    'CREATE INDEX location_expires_idx ON location (expires)',
    'CREATE INDEX location_tcpcon_idx ON location (connection_id)',
    'CREATE INDEX location_connection_idx ON location (server_id, connection_id)',
  ];
}

/** Kamailio's `version` table (standard-create.sql) */
export function versionDdl(serial: 'INTEGER' | 'SERIAL'): string {
  return `CREATE TABLE version (
    id ${serial} PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
)`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Unix seconds → 'YYYY-MM-DD HH:MM:SS' in the process's local time, as db_time2str */
export function toDbTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Unix seconds → db_sqlite's Julian day (timet_to_sqlite) */
export function toJulianDay(sec: number): number {
  return (sec - 0.5) / 86400 + 2440587.5;
}

/** 'YYYY-MM-DD HH:MM:SS' (local time), a Date or db_sqlite's Julian day → Unix seconds (as
 * sqlite_to_timet, but rounded: its C cast truncates, and t - 1e-7 would lose a second); NaN if
 * unreadable */
export function fromDbTime(v: unknown): number {
  if (typeof v === 'number') return Math.round(86400 * (v - 2440587.5) + 0.5) + 0; // + 0: never -0
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(String(v));
  if (m === null) return NaN;
  return Math.floor(new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() / 1000);
}

const nullIfEmpty = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

export type TimeEncoding = (sec: number) => string | number;

/** `time`: toJulianDay for SQLite (as db_sqlite), toDbTime for PostgreSQL (as db_postgres) */
export function toRow(r: UsrlocContact, useDomain: boolean, time: TimeEncoding): LocationRow {
  let username = r.aor;
  let domain: string | null = null;
  if (useDomain) {
    const at = r.aor.indexOf('@');
    [username, domain] = at < 0 ? ['', r.aor] : [r.aor.slice(0, at), r.aor.slice(at + 1)];
  }
  return {
    ruid: r.ruid, username, domain, contact: r.c, received: nullIfEmpty(r.received), path: nullIfEmpty(r.path),
    expires: time(r.expires), q: r.q === -1 ? -1 : r.q / 1000, callid: r.callid, cseq: r.cseq,
    last_modified: time(r.last_modified), flags: r.flags | 0, cflags: r.cflags | 0, user_agent: r.user_agent,
    socket: nullIfEmpty(r.sock), methods: (r.methods | 0) === -1 ? null : r.methods | 0, instance: nullIfEmpty(r.instance), reg_id: r.reg_id | 0,
    server_id: r.server_id | 0, connection_id: -1, keepalive: 0, partition: 0,
  };
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const int = (v: unknown, dflt: number): number => (v === null || v === undefined || v === '' ? dflt : Number(v) | 0);

/** a row as usrloc's dbrow2info reads it; null for a row Kamailio would refuse too (no contact,
 * no callid, an unreadable expires) or one without a ruid (kdmq keys bindings by ruid) */
export function fromRow(row: Record<string, unknown>, useDomain: boolean): UsrlocContact | null {
  const c = text(row.contact);
  const callid = text(row.callid);
  const ruid = text(row.ruid);
  const expires = fromDbTime(row.expires);
  if (c === '' || callid === '' || ruid === '' || !Number.isFinite(expires) || row.q === null || row.q === undefined) return null;
  const user = text(row.username);
  const dom = text(row.domain);
  const aor = useDomain && dom !== '' ? (user === '' ? dom : `${user}@${dom}`) : user;
  const q = Number(row.q);
  const lm = row.last_modified === null || row.last_modified === undefined ? 0 : fromDbTime(row.last_modified);
  const out: UsrlocContact = {
    aor, ruid, c, received: text(row.received), path: text(row.path), callid, user_agent: text(row.user_agent),
    instance: text(row.instance), expires: Math.max(0, expires), cseq: int(row.cseq, 0), flags: int(row.flags, 0),
    cflags: int(row.cflags, 0), q: q === -1 ? -1 : Math.round(q * 1000), last_modified: Number.isFinite(lm) ? lm : 0,
    methods: int(row.methods, -1), reg_id: int(row.reg_id, 0), server_id: int(row.server_id, 0),
  };
  const sock = text(row.socket);
  if (sock !== '') out.sock = sock;
  return out;
}
