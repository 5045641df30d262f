// `kdmq serve --kamailio-cfg FILE`: reads the parts of an existing kamailio.cfg that kdmq mirrors
// and turns them into a raw kdmq config object (validated afterwards by load.ts like any file).
//
// Preprocessor (as Kamailio's): `#!define NAME [VALUE]` (also `!!define`, `#!trydef`,
// `#!redefine`, `#!undef`), `#!ifdef`/`#!ifndef`/`#!else`/`#!endif`, `-A NAME[=VAL]`-style
// defines from the command line, token substitution outside quoted strings, `/* */`, `//` and `#`
// comments, `include_file`/`import_file` (and `#!`-prefixed forms) relative to the including file.
//
// Read: `listen=` (udp only) and `modparam(MODULE, PARAM, VALUE)` for the modules and parameters
// named in src/config/schema.ts's `kamailio` column (dmq, dmq_usrloc, htable, registrar, usrloc,
// tm), plus htable's `htable` table definitions. Everything else is collected in `ignored` so the
// caller can warn once. When a module is loaded but a parameter is absent, Kamailio 5.6.3's module
// default applies (e.g. dmq_usrloc enable 0, batch_msg_contacts 1; htable enable_dmq 0).

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { htableTableFields, schema, type Field } from './schema.ts';

export type Defines = Record<string, string>;

export interface KamailioCfgRead {
  /** the raw kdmq config (not yet validated) */
  config: Record<string, unknown>;
  /** what kdmq does not use, e.g. `core children`, `modparam usrloc db_mode`, `request_route` */
  ignored: string[];
  /** files read, in order */
  files: string[];
}

export type KamailioCfgResult = ({ ok: true } & KamailioCfgRead) | { ok: false; error: string };

type ReadFile = (path: string) => string;

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
};

/** "module param" → schema path, from the schema's `kamailio` column */
function modparamMap(): Map<string, { path: string[]; field: Field }> {
  const out = new Map<string, { path: string[]; field: Field }>();
  for (const [top, f] of Object.entries(schema)) {
    if (f.type.kind !== 'object') continue;
    for (const [k, sub] of Object.entries(f.type.fields)) {
      const m = /^(dmq|dmq_usrloc|htable|registrar|usrloc|tm) (\w+)$/.exec(sub.kamailio ?? '');
      if (m) out.set(`${m[1]} ${m[2]}`, { path: [top, k], field: sub });
    }
  }
  return out;
}

class CfgError extends Error {}

interface Line {
  text: string;
  file: string;
  line: number;
}

/** remove block comments (keeping newlines), respecting quoted strings */
function stripBlockComments(text: string): string {
  let out = '';
  let i = 0;
  let q: string | null = null;
  while (i < text.length) {
    const c = text[i];
    if (q) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === q) q = null;
      i++;
    } else if (c === '"' || c === "'") {
      q = c;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const chunk = end < 0 ? text.slice(i) : text.slice(i, end + 2);
      out += chunk.replace(/[^\n]/g, '');
      i += chunk.length;
    } else if (c === '#' && text[i + 1] !== '!') {
      // a line comment (not a directive): skip to end of line
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** substitute defined identifiers outside quoted strings (repeatedly, for nested defines) */
function substitute(text: string, defs: Defines): string {
  for (let round = 0; round < 10; round++) {
    let changed = false;
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"' || c === "'") {
        let j = i + 1;
        while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
        out += text.slice(i, j + 1);
        i = j + 1;
      } else if (/[A-Za-z_]/.test(c) && !/\w/.test(text[i - 1] ?? '')) {
        let j = i;
        while (j < text.length && /\w/.test(text[j])) j++;
        const id = text.slice(i, j);
        if (Object.hasOwn(defs, id) && defs[id] !== '') {
          out += defs[id];
          changed = true;
        } else out += id;
        i = j;
      } else {
        out += c;
        i++;
      }
    }
    text = out;
    if (!changed) break;
  }
  return text;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

/** preprocess a file (and its includes) into lines with defines substituted */
function preprocess(path: string, defs: Defines, readFile: ReadFile, files: string[], ignored: Set<string>, depth = 0): Line[] {
  if (depth > 20) throw new CfgError(`${path}: include_file nested too deep`);
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    throw new CfgError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  files.push(path);
  const lines = stripBlockComments(text).split('\n');
  const out: Line[] = [];
  const stack: Array<{ active: boolean; parent: boolean; sawElse: boolean; line: number }> = [];
  const active = () => (stack.length === 0 ? true : stack[stack.length - 1].active);
  for (let n = 0; n < lines.length; n++) {
    let raw = lines[n];
    // multi-line #!define with trailing backslash
    while (/\\\s*$/.test(raw) && /^\s*(#!|!!)/.test(raw) && n + 1 < lines.length) raw = raw.replace(/\\\s*$/, ' ') + lines[++n];
    const where = `${path}:${n + 1}`;
    const d = /^\s*(?:#!|!!)\s*(\w+)\s*(.*?)\s*$/.exec(raw);
    if (d) {
      const [, dir, rest] = d;
      const name = /^[A-Za-z_]\w*/.exec(rest)?.[0] ?? '';
      switch (dir) {
        case 'ifdef':
        case 'ifndef': {
          const has = Object.hasOwn(defs, name);
          const cond = dir === 'ifdef' ? has : !has;
          stack.push({ active: active() && cond, parent: active(), sawElse: false, line: n + 1 });
          continue;
        }
        case 'else': {
          const top = stack[stack.length - 1];
          if (!top || top.sawElse) throw new CfgError(`${where}: #!else without #!ifdef`);
          top.sawElse = true;
          top.active = top.parent && !top.active;
          continue;
        }
        case 'endif':
          if (!stack.pop()) throw new CfgError(`${where}: #!endif without #!ifdef`);
          continue;
      }
      if (!active()) continue;
      switch (dir) {
        case 'define':
        case 'redefine':
        case 'trydef':
        case 'trydefine': {
          if (!name) throw new CfgError(`${where}: #!${dir} without a name`);
          if ((dir === 'trydef' || dir === 'trydefine') && Object.hasOwn(defs, name)) continue;
          defs[name] = substitute(rest.slice(name.length).trim(), defs);
          continue;
        }
        case 'undef':
          delete defs[name];
          continue;
        case 'include_file':
        case 'import_file':
          out.push(...includeFile(path, dir, rest, where, defs, readFile, files, ignored, depth));
          continue;
        case 'KAMAILIO':
        case 'SER':
        case 'OPENSER':
        case 'ALL':
        case 'MAXCOMPAT':
          continue;
        default:
          ignored.add(`#!${dir}`);
          continue;
      }
    }
    if (!active()) continue;
    const inc = /^\s*(include_file|import_file)\s+(.*?)\s*;?\s*$/.exec(raw);
    if (inc) {
      out.push(...includeFile(path, inc[1], substitute(inc[2], defs), where, defs, readFile, files, ignored, depth));
      continue;
    }
    out.push({ text: substitute(raw, defs), file: path, line: n + 1 });
  }
  if (stack.length) throw new CfgError(`${path}:${stack[stack.length - 1].line}: #!ifdef/#!ifndef without #!endif`);
  return out;
}

function includeFile(from: string, kind: string, arg: string, where: string, defs: Defines, readFile: ReadFile, files: string[], ignored: Set<string>, depth: number): Line[] {
  const name = unquote(arg);
  if (!name) throw new CfgError(`${where}: ${kind} without a file name`);
  const p = isAbsolute(name) ? name : resolve(dirname(from), name);
  if (kind === 'import_file') {
    try {
      readFile(p);
    } catch {
      return [];
    }
  }
  return preprocess(p, defs, readFile, files, ignored, depth + 1);
}

/** remove route blocks (`request_route { … }`, `route[X] { … }`, `event_route[…] { … }`), listing them */
function stripRoutes(text: string, ignored: Set<string>): string {
  const re = /\b((?:request_|reply_|onreply_|failure_|branch_|branch_failure_|onsend_|event_)?route)\s*(\[[^\]]*\])?\s*\{/g;
  let out = '';
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = re.lastIndex;
    let q: string | null = null;
    for (; i < text.length && depth > 0; i++) {
      const c = text[i];
      if (q) {
        if (c === '\\') i++;
        else if (c === q) q = null;
      } else if (c === '"' || c === "'") q = c;
      else if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    ignored.add(`${m[1]}${m[2] ?? ''}`);
    out += text.slice(last, m.index) + text.slice(m.index, i).replace(/[^\n]/g, '');
    last = i;
    re.lastIndex = i;
  }
  return out + text.slice(last);
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
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new CfgError(`${where}: expected an integer, got ${isString ? `"${raw}"` : raw}`);
      return field.type.kind === 'bool' ? n !== 0 : n;
    }
    default:
      return raw;
  }
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
    const map = modparamMap();
    const config: Record<string, unknown> = {};
    const listen: string[] = [];
    const loaded = new Set<string>();
    const set = new Set<string>(); // "module param" seen
    const tables: Record<string, unknown> = {};
    let port = 5060;
    const pendingListen: Array<[string, number]> = [];
    // statements: one per line (Kamailio allows `;` separators: split on them outside strings)
    const stmts: Array<[string, number]> = [];
    text.split('\n').forEach((line, n) => {
      let cur = '';
      let q: string | null = null;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (q) {
          if (c === '\\') cur += line[i++];
          else if (c === q) q = null;
        } else if (c === '"' || c === "'") q = c;
        else if (c === ';' && !/modparam|loadmodule/.test(cur)) {
          if (cur.trim()) stmts.push([cur.trim(), n]);
          cur = '';
          continue;
        }
        cur += c;
      }
      if (cur.trim()) stmts.push([cur.trim().replace(/;$/, ''), n]);
    });
    for (const [s, n] of stmts) {
      const mp = /^modparam\s*\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,\s*(.*?)\s*\)\s*;?$/s.exec(s);
      if (mp) {
        const mod = unquote(mp[1]);
        const param = unquote(mp[2]);
        const isString = /^["']/.test(mp[3]);
        const value = unquote(mp[3]);
        if (mod === 'htable' && param === 'htable') {
          const t = parseHtableDef(value);
          if (!t) throw new CfgError(`${where(n)}: modparam("htable", "htable", …): expected "name=>attr=value;…", got "${value}"`);
          tables[t.name] = t.table;
          for (const a of t.ignored) ignored.add(`htable ${t.name}: ${a}`);
          continue;
        }
        const m = map.get(`${mod} ${param}`);
        if (!m) {
          ignored.add(`modparam ${mod} ${param}`);
          continue;
        }
        set.add(`${mod} ${param}`);
        const v = coerce(m.field, value, isString, `${where(n)}: modparam("${mod}", "${param}", …)`);
        if (m.field.type.kind === 'strings') {
          const cur = ((config[m.path[0]] as Record<string, unknown> | undefined)?.[m.path[1]] as string[] | undefined) ?? [];
          setPath(config, m.path, [...cur, v as string]);
        } else setPath(config, m.path, v);
        continue;
      }
      const lm = /^loadmodule\s+("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/.exec(s);
      if (lm) {
        const mod = unquote(lm[1]).replace(/^.*\//, '').replace(/\.so$/, '');
        loaded.add(mod);
        continue;
      }
      if (/^loadpath\b|^mpath\b/.test(s)) continue;
      const core = /^([A-Za-z_][\w.]*)\s*=\s*(.*)$/s.exec(s);
      if (core) {
        const [, name, val] = core;
        if (name === 'listen') pendingListen.push([val, n]);
        else if (name === 'port') port = Number(unquote(val)) || 5060;
        else ignored.add(`core ${name}`);
        continue;
      }
      ignored.add(s.length > 40 ? `${s.slice(0, 40)}…` : s);
    }
    for (const [val, n] of pendingListen) {
      const l = mapListen(val, port);
      if (l) listen.push(l);
      else ignored.add(`listen ${unquote(val.trim().split(/\s+/)[0])}`);
      void n;
    }
    if (listen.length) config.listen = listen;
    if (Object.keys(tables).length) setPath(config, ['htable', 'tables'], tables);
    // Kamailio's module defaults where they differ from kdmq's
    for (const [mod, defaults] of Object.entries(KAMAILIO_DEFAULTS)) {
      if (loaded.size > 0 && !loaded.has(mod)) continue;
      for (const [k, v] of Object.entries(defaults)) {
        if (!set.has(`${mod} ${k}`)) setPath(config, [mod, k], v);
      }
    }
    if (loaded.size > 0) {
      if (!loaded.has('dmq_usrloc')) setPath(config, ['dmq_usrloc', 'enable'], false);
      if (!loaded.has('dmq')) setPath(config, ['htable', 'enable_dmq'], false);
      const mirrored = new Set(['dmq', 'dmq_usrloc', 'htable', 'registrar', 'usrloc', 'tm', 'sl', 'jsonrpcs', 'xhttp']);
      for (const m of loaded) if (!mirrored.has(m)) ignored.add(`loadmodule ${m}`);
    }
    return { ok: true, config, ignored: [...ignored], files };
  } catch (e) {
    if (e instanceof CfgError) return { ok: false, error: `kamailio cfg: ${e.message}` };
    throw e;
  }
}
