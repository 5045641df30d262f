// The kamailio.cfg preprocessor that `--kamailio-cfg` needs (see kamailio-cfg.ts): `#!define`
// and friends, `#!ifdef`/`#!ifndef`/`#!else`/`#!endif`, token substitution outside quoted strings,
// comments, `include_file`/`import_file` relative to the including file, and route blocks set
// aside. Produces the statement lines, each with its file and line for error messages.

import { dirname, isAbsolute, resolve } from 'node:path';

export type Defines = Record<string, string>;
export type ReadFile = (path: string) => string;

export class CfgError extends Error {}

export interface Line {
  text: string;
  file: string;
  line: number;
}

/** remove block comments (keeping newlines), respecting quoted strings */
export function stripBlockComments(text: string): string {
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
export function substitute(text: string, defs: Defines): string {
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

export function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

type CondStack = Array<{ active: boolean; parent: boolean; sawElse: boolean; line: number }>;

/** #!ifdef, #!ifndef, #!else and #!endif on the stack of open conditions: true when `dir` is one of them */
function conditional(dir: string, name: string, defs: Defines, stack: CondStack, where: string, line: number): boolean {
  const active = stack.length === 0 ? true : stack[stack.length - 1].active;
  switch (dir) {
    case 'ifdef':
    case 'ifndef': {
      const has = Object.hasOwn(defs, name);
      const cond = dir === 'ifdef' ? has : !has;
      stack.push({ active: active && cond, parent: active, sawElse: false, line });
      return true;
    }
    case 'else': {
      const top = stack[stack.length - 1];
      if (!top || top.sawElse) throw new CfgError(`${where}: #!else without #!ifdef`);
      top.sawElse = true;
      top.active = top.parent && !top.active;
      return true;
    }
    case 'endif':
      if (!stack.pop()) throw new CfgError(`${where}: #!endif without #!ifdef`);
      return true;
  }
  return false;
}

/** preprocess a file (and its includes) into lines with defines substituted */
export function preprocess(path: string, defs: Defines, readFile: ReadFile, files: string[], ignored: Set<string>, depth = 0): Line[] {
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
  const stack: CondStack = [];
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
      if (conditional(dir, name, defs, stack, where, n + 1)) continue;
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

export function includeFile(from: string, kind: string, arg: string, where: string, defs: Defines, readFile: ReadFile, files: string[], ignored: Set<string>, depth: number): Line[] {
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
export function stripRoutes(text: string, ignored: Set<string>): string {
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

/** the statements of the text, one per line and their line index (Kamailio allows `;` separators: split on them outside strings, not inside modparam or loadmodule) */
export function splitStatements(text: string): Array<[string, number]> {
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
  return stmts;
}
