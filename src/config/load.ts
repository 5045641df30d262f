// Config loading and validation: YAML or JSON in, a KdmqConfig or one error line naming the key
// out. Defaults come from schema.ts; unknown keys are errors. `--set a.b=value` overrides are
// applied before validation (value parsed as YAML scalar/list).

import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { schema, type Field } from './schema.ts';
import type { KdmqConfig } from './types.ts';
import { keysFromConfig } from '../actors/dmq/kdmq-auth.ts';
import { parseCidr } from '../actors/dmq/cidr.ts';
import { authConfigError } from './auth.ts';
import { errorText } from '../errors.ts';

export type ConfigResult = { ok: true; config: KdmqConfig } | { ok: false; error: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkField(path: string, field: Field, value: unknown): { ok: true; value: unknown } | { ok: false; error: string } {
  const t = field.type;
  const bad = (want: string) => ({ ok: false as const, error: errorText('KDMQ_CONFIG_TYPE', path, want, JSON.stringify(value)) });
  switch (t.kind) {
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : bad('a string');
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 0 || value === 1) return { ok: true, value: value === 1 };
      return bad('true or false');
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return bad('an integer');
      if (t.min !== undefined && value < t.min) return bad(`an integer >= ${t.min}`);
      if (t.max !== undefined && value > t.max) return bad(`an integer <= ${t.max}`);
      return { ok: true, value };
    }
    case 'strings': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) return bad('a list of strings');
      return { ok: true, value: list };
    }
    case 'reply': {
      if (typeof value !== 'string' || !/^[1-6]\d\d [^\r\n]+$/.test(value)) return bad('"CODE Reason", e.g. "500 Nope"');
      return { ok: true, value };
    }
    case 'object':
      return checkObject(path, t.fields, value);
    case 'stringmap': {
      if (!isObj(value)) return bad('a mapping');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string' || !t.value.test(v)) return { ok: false, error: errorText('KDMQ_CONFIG_TYPE', `${path}.${k}`, t.want, JSON.stringify(v)) };
      }
      return { ok: true, value: { ...value } };
    }
    case 'map': {
      if (!isObj(value)) return bad('a mapping');
      const out: Obj = {};
      for (const [k, v] of Object.entries(value)) {
        const r = checkObject(`${path}.${k}`, t.of, v);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      return { ok: true, value: out };
    }
  }
}

function checkObject(path: string, fields: Record<string, Field>, value: unknown): { ok: true; value: Obj } | { ok: false; error: string } {
  const v = value ?? {};
  if (!isObj(v)) return { ok: false, error: errorText('KDMQ_CONFIG_TYPE', path || '(top level)', 'a mapping', JSON.stringify(value)) };
  for (const k of Object.keys(v)) {
    if (!Object.hasOwn(fields, k)) return { ok: false, error: errorText('KDMQ_CONFIG_UNKNOWN_KEY', `${path ? path + '.' : ''}${k}`) };
  }
  const out: Obj = {};
  for (const [k, field] of Object.entries(fields)) {
    const p = path ? `${path}.${k}` : k;
    const given = v[k];
    if (given === undefined || given === null) {
      if (field.type.kind === 'object') {
        const r = checkObject(p, field.type.fields, {});
        if (!r.ok) return r;
        out[k] = r.value;
      } else if (field.default !== undefined) {
        out[k] = structuredClone(field.default);
      }
      continue;
    }
    const r = checkField(p, field, given);
    if (!r.ok) return r;
    out[k] = r.value;
  }
  return { ok: true, value: out };
}

/** semantic checks that span keys */
function crossCheck(c: KdmqConfig): string | null {
  const addrRe = /^(udp|tcp|tls):(\[[0-9a-fA-F:.]+\]|\d{1,3}(\.\d{1,3}){3}):(\d{1,5})$/;
  if (c.listen.length === 0) return errorText('KDMQ_CONFIG_LISTEN_EMPTY');
  const listens = new Set<string>();
  for (const l of c.listen) {
    const m = addrRe.exec(l);
    if (!m || Number(m[4]) > 65535 || isIP(m[2].replace(/^\[|\]$/g, '')) === 0) return errorText('KDMQ_CONFIG_LISTEN_ADDRESS', l);
    listens.add(`${m[1]}:${m[2]}:${Number(m[4])}`);
  }
  if (c.listen.some((l) => l.startsWith('tls:')) && (!c.tls?.certificate || !c.tls.private_key)) {
    return errorText('KDMQ_CONFIG_TLS_FILES');
  }
  const sa = c.dmq.server_address === undefined ? null : /^sip:(\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?:;transport=(udp|tcp|tls))?$/i.exec(c.dmq.server_address);
  if (c.dmq.server_address !== undefined && (sa === null || isIP(sa[1].replace(/^\[|\]$/g, '')) === 0 || Number(sa[2]) > 65535)) {
    return errorText('KDMQ_CONFIG_SERVER_ADDRESS', c.dmq.server_address);
  }
  const saProto = sa?.[3]?.toLowerCase();
  if (sa && (saProto === 'tcp' || saProto === 'tls') && !listens.has(`${saProto}:${sa[1]}:${Number(sa[2])}`)) {
    return errorText('KDMQ_CONFIG_SERVER_ADDRESS_LISTEN', c.dmq.server_address!, `${saProto}:${sa[1]}:${Number(sa[2])}`);
  }
  for (const a of c.dmq.notification_address) {
    if (!/^sip:[^\s;]+:\d{1,5}(;[^\s]*)?$|^sip:[^\s;:]+(;[^\s]*)?$/i.test(a)) return errorText('KDMQ_CONFIG_NOTIFICATION_ADDRESS', a);
    const t = /;transport=([^;]*)/i.exec(a)?.[1].toLowerCase();
    if (t !== undefined && t !== 'udp' && t !== 'tcp' && t !== 'tls') return errorText('KDMQ_CONFIG_NOTIFICATION_TRANSPORT', a, t);
  }
  if (c.rpc.listen !== '' && !/^(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d{1,5}$/.test(c.rpc.listen)) return errorText('KDMQ_CONFIG_RPC_LISTEN', c.rpc.listen);
  return securityCheck(c) ?? authConfigError(c);
}

/** signed KDMQ keys, kamailio_peers CIDRs, and no RPC off loopback without a token */
function securityCheck(c: KdmqConfig): string | null {
  const keys = keysFromConfig(c.dmq);
  if (typeof keys === 'string') return errorText('KDMQ_CONFIG_DMQ_KEYS', c.dmq.keyring ? 'dmq.keyring' : 'dmq.secret', keys);
  for (const p of c.dmq.kamailio_peers ?? []) if (parseCidr(p) === null) return errorText('KDMQ_CONFIG_KAMAILIO_PEERS_CIDR', p);
  if (c.dmq.kamailio_peers !== undefined && keys === null) return errorText('KDMQ_CONFIG_KAMAILIO_PEERS_UNSIGNED');
  if (c.rpc.token !== undefined && !/^[\x21-\x7e]{16,}$/.test(c.rpc.token)) return errorText('KDMQ_CONFIG_RPC_TOKEN');
  if (c.rpc.listen !== '' && c.rpc.token === undefined && !isLoopbackHost(c.rpc.listen.slice(0, c.rpc.listen.lastIndexOf(':')))) {
    return errorText('KDMQ_CONFIG_RPC_OFF_LOOPBACK', c.rpc.listen);
  }
  return null;
}

export function isLoopbackHost(h: string): boolean {
  const host = h.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function validateConfig(raw: unknown): ConfigResult {
  const r = checkObject('', schema, raw ?? {});
  if (!r.ok) return r;
  const config = r.value as unknown as KdmqConfig;
  const err = crossCheck(config);
  return err ? { ok: false, error: err } : { ok: true, config };
}

/** parse YAML (JSON is YAML) text; errors name the line */
export function parseConfigText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: parseYaml(text) };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/:\s*$/, '');
    return { ok: false, error: errorText('KDMQ_CONFIG_SYNTAX', msg) };
  }
}

/** apply `key.path=value` overrides to the raw object */
export function applyOverrides(raw: unknown, sets: string[]): { ok: true; value: unknown } | { ok: false; error: string } {
  if (raw !== null && raw !== undefined && !isObj(raw)) {
    return { ok: false, error: errorText('KDMQ_CONFIG_TYPE', '(top level)', 'a mapping', JSON.stringify(raw)) };
  }
  const root: Obj = isObj(raw) ? structuredClone(raw) : {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) return { ok: false, error: errorText('KDMQ_CONFIG_SET_SYNTAX', s) };
    const keys = s.slice(0, eq).split('.');
    if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
      return { ok: false, error: errorText('KDMQ_CONFIG_SET_PATH', s.slice(0, eq)) };
    }
    let value: unknown;
    try {
      value = parseYaml(s.slice(eq + 1));
    } catch {
      value = s.slice(eq + 1);
    }
    let o = root;
    for (const k of keys.slice(0, -1)) {
      if (!Object.hasOwn(o, k) || !isObj(o[k])) o[k] = {};
      o = o[k] as Obj;
    }
    o[keys[keys.length - 1]] = value;
  }
  return { ok: true, value: root };
}

export function loadConfigText(text: string, sets: string[] = []): ConfigResult {
  const p = parseConfigText(text);
  if (!p.ok) return p;
  const o = applyOverrides(p.value, sets);
  if (!o.ok) return o;
  return validateConfig(o.value);
}
