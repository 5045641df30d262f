// `kdmq serve --kamailio-cfg FILE`: reads the parts of an existing kamailio.cfg that kdmq mirrors
// and turns them into a raw kdmq config object (validated afterwards by load.ts like any file).
//
// Preprocessor (kamailio-cfg-preprocess.ts, as Kamailio's): `#!define NAME [VALUE]` (also `!!define`, `#!trydef`,
// `#!redefine`, `#!undef`), `#!ifdef`/`#!ifndef`/`#!else`/`#!endif`, `-A NAME[=VAL]`-style
// defines from the command line, token substitution outside quoted strings, `/* */`, `//` and `#`
// comments, `include_file`/`import_file` (and `#!`-prefixed forms) relative to the including file.
//
// Read: `listen=` (udp only), the core `server_id` (usrloc.server_id) and `modparam(MODULE, PARAM, VALUE)` for the modules and parameters
// named in src/config/schema.ts's `kamailio` column (dmq, dmq_usrloc, htable, registrar, usrloc,
// tm, auth, auth_db, ctl, jsonrpcs, siptrace), plus htable's `htable` table definitions. Everything else is
// collected in `ignored` so the caller can warn once. When a module is loaded but a parameter is
// absent, Kamailio 5.6.3's module default applies (e.g. dmq_usrloc enable 0, batch_msg_contacts 1;
// htable enable_dmq 0; auth_db password_column ha1); a loaded auth_db turns auth.enable on. ctl's
// and jsonrpcs' sockets are mapped only when named (their default paths are not opened).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfgError, preprocess, splitStatements, stripRoutes, unquote, type Defines, type ReadFile } from './kamailio-cfg-preprocess.ts';

export type { Defines } from './kamailio-cfg-preprocess.ts';
import { htableTableFields, schema, type Field } from './schema.ts';


export interface KamailioCfgRead {
  /** the raw kdmq config (not yet validated) */
  config: Record<string, unknown>;
  /** what kdmq does not use, e.g. `core children`, `modparam usrloc db_mode`, `request_route` */
  ignored: string[];
  /** files read, in order */
  files: string[];
}

export type KamailioCfgResult = ({ ok: true } & KamailioCfgRead) | { ok: false; error: string };


/** `NAME` or `NAME=VAL` (as kamailio -A) */
export function parseDefineArg(s: string): [string, string] | null {
  const m = /^([A-Za-z_]\w*)(?:=(.*))?$/s.exec(s);
  return m ? [m[1], m[2] ?? ''] : null;
}

/** Kamailio module defaults where they differ from kdmq's (applied when the module is loaded). */
const KAMAILIO_DEFAULTS: Record<string, Record<string, unknown>> = {
  dmq_usrloc: { enable: false, batch_msg_contacts: 1 },
  htable: { enable_dmq: false, dmq_init_sync: false },
  dmq: { ping_interval: 60, multi_notify: false },
  siptrace: { trace_on: false },
};

/** the core server_id, read as Kamailio's cfg reads a number (usrloc.server_id checks the range) */
const INT: Field = { type: { kind: 'int' }, doc: 'core server_id' };

const BOOL_WORDS: Record<string, number> = { yes: 1, on: 1, true: 1, no: 0, off: 0, false: 0 };

/**
 * auth_db loaded: the route authenticates REGISTER (auth.enable), and auth_db's own defaults apply
 * where the cfg sets nothing (db_url: its read-only MySQL default, refused as not supported).
 */
const AUTH_DB_DEFAULTS: Record<string, unknown> = {
  enable: true, db_url: 'mysql://kamailioro:kamailioro@localhost/kamailio', calculate_ha1: false, password_column: 'ha1', use_domain: false,
};

/** "module param" → schema path, from the schema's `kamailio` column */
function modparamMap(): Map<string, { path: string[]; field: Field }> {
  const out = new Map<string, { path: string[]; field: Field }>();
  for (const [top, f] of Object.entries(schema)) {
    if (f.type.kind !== 'object') continue;
    for (const [k, sub] of Object.entries(f.type.fields)) {
      const m = /^(dmq|dmq_usrloc|htable|registrar|usrloc|tm|auth|auth_db|ctl|jsonrpcs|siptrace) (\w+)$/.exec(sub.kamailio ?? '');
      if (m) out.set(`${m[1]} ${m[2]}`, { path: [top, k], field: sub });
    }
  }
  return out;
}


function setPath(o: Record<string, unknown>, path: string[], v: unknown): void {
  let cur = o;
  for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[path[path.length - 1]] = v;
}

function coerce(field: Field, raw: string, isString: boolean, where: string): unknown {
  switch (field.type.kind) {
    case 'bool':
    case 'int': {
      // Kamailio's cfg reads yes/no, on/off, true/false as 1/0 where a number is expected
      const word = isString ? undefined : BOOL_WORDS[raw.toLowerCase()];
      const n = word ?? Number(raw);
      if (!Number.isInteger(n)) throw new CfgError(`${where}: expected an integer, got ${isString ? `"${raw}"` : raw}`);
      return field.type.kind === 'bool' ? n !== 0 : n;
    }
    default:
      return raw;
  }
}

/** file modes: Kamailio reads 0600 as octal (C), 384 as decimal; kdmq's keys take the octal digits (600) */
const MODE_PARAMS = new Set(['ctl mode', 'jsonrpcs fifo_mode', 'jsonrpcs dgram_mode']);

function modeDigits(raw: string, where: string): number {
  const t = raw.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^0[0-7]*$/.test(t) ? parseInt(t, 8) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n > 0o7777) throw new CfgError(`${where}: expected a file mode such as 0600, got ${raw}`);
  return Number(n.toString(8));
}

/** `lab=>size=8;autoexpire=0;dmqreplicate=1;` → [name, table definition, ignored attributes] */
export function parseHtableDef(def: string): { name: string; table: Record<string, unknown>; ignored: string[] } | null {
  const m = /^\s*([^=\s]+)\s*=>\s*(.*)$/.exec(def);
  if (!m) return null;
  const table: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const part of m[2].split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim();
    const v = eq < 0 ? '' : part.slice(eq + 1).trim();
    const f = htableTableFields[k];
    if (!f) {
      ignored.push(k);
      continue;
    }
    if (f.type.kind === 'string') table[k] = v;
    else {
      const n = Number(v);
      table[k] = f.type.kind === 'bool' ? n !== 0 : Number.isInteger(n) ? n : v;
    }
  }
  return { name: m[1], table, ignored };
}

/** `udp:IP:PORT`, `IP:PORT`, `IP`, `udp:[v6]:PORT` (+ advertise/name/… suffixes) → udp:IP:PORT, or null when not udp */
export function mapListen(v: string, defaultPort = 5060): string | null {
  let s = unquote(v.trim().split(/\s+/)[0]);
  let proto = 'udp';
  const pm = /^(udp|tcp|tls|sctp|ws|wss):(.*)$/i.exec(s);
  if (pm) {
    proto = pm[1].toLowerCase();
    s = pm[2];
  }
  if (proto !== 'udp') return null;
  let host: string;
  let port = defaultPort;
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else {
    const i = s.lastIndexOf(':');
    if (i > 0 && /^\d+$/.test(s.slice(i + 1))) {
      host = s.slice(0, i);
      port = Number(s.slice(i + 1));
    } else host = s;
  }
  return `udp:${host}:${port}`;
}

/** what the statements of one cfg add up to, before Kamailio's module defaults are applied */
interface CfgRead {
  config: Record<string, unknown>;
  ignored: Set<string>;
  /** modules loaded (loadmodule), by name */
  loaded: Set<string>;
  /** "module param" set by a modparam */
  set: Set<string>;
  /** htable's `htable` table definitions, by name */
  tables: Record<string, unknown>;
  /** the core `port`, the default of `listen=` without one */
  port: number;
  /** `listen=` values with their line (mapped once `port` is known) */
  pendingListen: Array<[string, number]>;
  map: Map<string, { path: string[]; field: Field }>;
  /** `file:line` of a statement's line */
  where: (n: number) => string;
}

export function readKamailioCfg(path: string, cliDefines: Defines = {}, readFile: ReadFile = (p) => readFileSync(p, 'utf8')): KamailioCfgResult {
  const ignored = new Set<string>();
  const files: string[] = [];
  const defs: Defines = { ...cliDefines };
  try {
    const lines = preprocess(resolve(path), defs, readFile, files, ignored);
    const text = stripRoutes(lines.map((l) => l.text).join('\n'), ignored);
    const where = (n: number) => {
      const l = lines[n];
      return l ? `${l.file}:${l.line}` : path;
    };
    const r: CfgRead = { config: {}, ignored, loaded: new Set(), set: new Set(), tables: {}, port: 5060, pendingListen: [], map: modparamMap(), where };
    for (const [s, n] of splitStatements(text)) if (!readModparam(s, n, r)) readStatement(s, n, r);
    applyKamailioDefaults(r);
    return { ok: true, config: r.config, ignored: [...ignored], files };
  } catch (e) {
    if (e instanceof CfgError) return { ok: false, error: `kamailio cfg: ${e.message}` };
    throw e;
  }
}

/** a `modparam(MODULE, PARAM, VALUE)` statement: false when `s` is not one */
function readModparam(s: string, n: number, r: CfgRead): boolean {
  const mp = /^modparam\s*\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,\s*(.*?)\s*\)\s*;?$/s.exec(s);
  if (!mp) return false;
  const mod = unquote(mp[1]);
  const param = unquote(mp[2]);
  const isString = /^["']/.test(mp[3]);
  const value = unquote(mp[3]);
  if (mod === 'htable' && param === 'htable') {
    const t = parseHtableDef(value);
    if (!t) throw new CfgError(`${r.where(n)}: modparam("htable", "htable", …): expected "name=>attr=value;…", got "${value}"`);
    r.tables[t.name] = t.table;
    for (const a of t.ignored) r.ignored.add(`htable ${t.name}: ${a}`);
    return true;
  }
  const m = r.map.get(`${mod} ${param}`);
  if (!m) {
    r.ignored.add(`modparam ${mod} ${param}`);
    return true;
  }
  r.set.add(`${mod} ${param}`);
  const v = MODE_PARAMS.has(`${mod} ${param}`) ? modeDigits(value, `${r.where(n)}: modparam("${mod}", "${param}", …)`)
    : coerce(m.field, value, isString, `${r.where(n)}: modparam("${mod}", "${param}", …)`);
  if (m.field.type.kind === 'strings') {
    const cur = ((r.config[m.path[0]] as Record<string, unknown> | undefined)?.[m.path[1]] as string[] | undefined) ?? [];
    setPath(r.config, m.path, [...cur, v as string]);
  } else setPath(r.config, m.path, v);
  return true;
}

/** any other statement: loadmodule, loadpath/mpath, a core parameter (`listen`, `port`, `server_id`), or ignored */
function readStatement(s: string, n: number, r: CfgRead): void {
  const lm = /^loadmodule\s+("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/.exec(s);
  if (lm) {
    r.loaded.add(unquote(lm[1]).replace(/^.*\//, '').replace(/\.so$/, ''));
    return;
  }
  if (/^loadpath\b|^mpath\b/.test(s)) return;
  const core = /^([A-Za-z_][\w.]*)\s*=\s*(.*)$/s.exec(s);
  if (!core) {
    r.ignored.add(s.length > 40 ? `${s.slice(0, 40)}…` : s);
    return;
  }
  const [, name, val] = core;
  if (name === 'listen') r.pendingListen.push([val, n]);
  else if (name === 'port') r.port = Number(unquote(val)) || 5060;
  else if (name === 'server_id') setPath(r.config, ['usrloc', 'server_id'], coerce(INT, unquote(val.trim()), /^["']/.test(val.trim()), `${r.where(n)}: server_id`));
  else r.ignored.add(`core ${name}`);
}

/** after the last statement: listen (with the core port), htable tables, and Kamailio's module defaults where they differ from kdmq's */
function applyKamailioDefaults(r: CfgRead): void {
  const { config, ignored, loaded, set } = r;
  const listen: string[] = [];
  for (const [val] of r.pendingListen) {
    const l = mapListen(val, r.port);
    if (l) listen.push(l);
    else ignored.add(`listen ${unquote(val.trim().split(/\s+/)[0])}`);
  }
  if (listen.length) config.listen = listen;
  if (Object.keys(r.tables).length) setPath(config, ['htable', 'tables'], r.tables);
  for (const [mod, defaults] of Object.entries(KAMAILIO_DEFAULTS)) {
    if (loaded.size > 0 && !loaded.has(mod)) continue;
    for (const [k, v] of Object.entries(defaults)) {
      if (!set.has(`${mod} ${k}`)) setPath(config, [mod, k], v);
    }
  }
  // siptrace's hep_version defaults to 1 in Kamailio: a cfg that sends HEP without naming the
  // version is refused (kdmq writes HEPv3 only) rather than silently sending another version
  const st = config.siptrace as Record<string, unknown> | undefined;
  if (st && !set.has('siptrace hep_version') && typeof st.trace_mode === 'number' && (st.trace_mode & 1) !== 0) setPath(config, ['siptrace', 'hep_version'], 1);
  if (loaded.has('auth_db')) {
    for (const [k, v] of Object.entries(AUTH_DB_DEFAULTS)) if (!set.has(`auth_db ${k}`)) setPath(config, ['auth', k], v);
  }
  if (loaded.size > 0) {
    if (!loaded.has('dmq_usrloc')) setPath(config, ['dmq_usrloc', 'enable'], false);
    if (!loaded.has('dmq')) setPath(config, ['htable', 'enable_dmq'], false);
    const mirrored = new Set(['dmq', 'dmq_usrloc', 'htable', 'registrar', 'usrloc', 'tm', 'sl', 'jsonrpcs', 'xhttp', 'auth', 'auth_db', 'db_sqlite', 'ctl', 'siptrace']);
    for (const m of loaded) if (!mirrored.has(m)) ignored.add(`loadmodule ${m}`);
  }
}
