// Owner and permissions of the control files (ctl's unix sockets, jsonrpcs' FIFO and datagram
// socket), as Kamailio sets them: octal digits as its cfg writes them (0600), a user or group
// by name (/etc/passwd, /etc/group) or number, chmod then chown after the bind. A stale socket or
// FIFO at the path is removed first (as Kamailio unlinks it); any other file there is an error.
// This is an edge: node:fs. Every failure is a one-line string naming the config key.

import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';

export interface UnixPerms {
  mode: number;
  /** -1: leave as is */
  uid: number;
  gid: number;
}

/** 600 (or 0600 in YAML, read as 600) → 0o600; digits 8 or 9 are an error */
export function octalDigits(n: number, key: string): number | string {
  const s = String(n);
  return /^[0-7]{1,4}$/.test(s) ? parseInt(s, 8) : `config key ${key}: expected octal digits such as 0600 (rw-------), got ${n}`;
}

function lookup(file: string, name: string, field: number): number | undefined {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length > field && /^\d+$/.test(f[field])) return Number(f[field]);
  }
  return undefined;
}

/** a user name or uid → uid (Kamailio's user2uid) */
export function resolveUser(u: string, key: string): number | string {
  if (/^\d+$/.test(u)) return Number(u);
  return lookup('/etc/passwd', u, 2) ?? `config key ${key}: no user "${u}" in /etc/passwd`;
}

/** a group name or gid → gid (Kamailio's group2gid) */
export function resolveGroup(g: string, key: string): number | string {
  if (/^\d+$/.test(g)) return Number(g);
  return lookup('/etc/group', g, 2) ?? `config key ${key}: no group "${g}" in /etc/group`;
}

export function permsFrom(keys: { mode: string; user: string; group: string }, v: { mode: number; user?: string; group?: string }): UnixPerms | string {
  const mode = octalDigits(v.mode, keys.mode);
  if (typeof mode === 'string') return mode;
  const uid = v.user === undefined ? -1 : resolveUser(v.user, keys.user);
  if (typeof uid === 'string') return uid;
  const gid = v.group === undefined ? -1 : resolveGroup(v.group, keys.group);
  if (typeof gid === 'string') return gid;
  return { mode, uid, gid };
}

/** chmod (mode 0 is left alone, as Kamailio does) then chown when an owner or group is given */
export function applyPerms(path: string, p: UnixPerms): string | null {
  try {
    if (p.mode !== 0) chmodSync(path, p.mode);
    if (p.uid !== -1 || p.gid !== -1) chownSync(path, p.uid, p.gid);
    return null;
  } catch (e) {
    return `${path}: cannot set mode ${p.mode.toString(8).padStart(4, '0')} / owner ${p.uid}.${p.gid}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** remove a leftover socket or FIFO at `path`; null when the path is free now */
export function removeStale(path: string, kind: 'socket' | 'fifo'): string | null {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null;
  }
  const ok = kind === 'socket' ? st.isSocket() : st.isFIFO();
  if (!ok) return `${path} exists and is not a ${kind === 'socket' ? 'socket' : 'FIFO'}: not removing it`;
  try {
    unlinkSync(path);
    return null;
  } catch (e) {
    return `${path}: cannot remove the old ${kind}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** unlink on close, only if it is still what we made */
export function removeOwn(path: string, kind: 'socket' | 'fifo'): void {
  try {
    const st = lstatSync(path);
    if (kind === 'socket' ? st.isSocket() : st.isFIFO()) unlinkSync(path);
  } catch {
    /* gone already */
  }
}
