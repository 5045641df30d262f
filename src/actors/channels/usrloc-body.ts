// dmq_usrloc JSON bodies on the `usrloc` channel (kamailio-dmq-protocol.md §5.2–5.4, §5.6, §5.7):
// single-action objects, `{"action":3}` sync requests, `multi` sync answers and their batching under
// a byte limit. Keys come out in Kamailio's order, numbers and strings as srjson prints them, never
// `null` and never `{}`. Pure; parsing never throws.

import type { ParseResult } from '../../sip/types.ts';
import { isObject, numberField, parseJsonObject, srjsonNumber, srjsonString, stringField, utf8Length } from './srjson.ts';
import type { UsrlocContact } from '../location/usrloc-contact.ts';

export type { UsrlocContact };

export type UsrlocMessage =
  | { action: 0 }
  | { action: 3 }
  | { action: 1 | 2; contact: UsrlocContact }
  | { multi: UsrlocContact[]; deletes?: number[] };

/** Kamailio's emission order (§5.3); `sock` sits between `received` and `path` when present. */
const STRINGS_BEFORE_SOCK = ['aor', 'ruid', 'c', 'received'] as const;
const STRINGS_AFTER_SOCK = ['path', 'callid', 'user_agent', 'instance'] as const;
const NUMBERS = ['expires', 'cseq', 'flags', 'cflags', 'q', 'last_modified', 'methods', 'reg_id', 'server_id'] as const;

export const MAX_BATCH_BYTES = 60000;
export const MAX_BATCH_CONTACTS = 150;

const STRINGS = [...STRINGS_BEFORE_SOCK, ...STRINGS_AFTER_SOCK] as const;

function parseContact(o: Record<string, unknown>): ParseResult<UsrlocContact> {
  const c: Partial<UsrlocContact> = {};
  // sync answers carry 100 000s of contacts: the happy path allocates no result objects
  for (const k of STRINGS) {
    const v = o[k];
    if (typeof v === 'string') {
      c[k] = v;
      continue;
    }
    const r = stringField(o, k);
    if (!r.ok) return r;
  }
  for (const k of NUMBERS) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) {
      const t = Math.trunc(v);
      c[k] = t === 0 ? 0 : t;
      continue;
    }
    const r = numberField(o, k);
    if (!r.ok) return r;
  }
  if (o.sock !== undefined) {
    if (typeof o.sock !== 'string') return { ok: false, error: '"sock" is not a string' };
    c.sock = o.sock;
  }
  return { ok: true, value: c as UsrlocContact };
}

function parseAction(o: Record<string, unknown>): ParseResult<UsrlocMessage> {
  const a = numberField(o, 'action');
  if (!a.ok) return a;
  const action = a.value;
  if (action === 0 || action === 3) return { ok: true, value: { action } };
  if (action !== 1 && action !== 2) return { ok: false, error: `unknown action ${action}` };
  const c = parseContact(o);
  if (!c.ok) return c;
  return { ok: true, value: { action, contact: c.value } };
}

/** Parse a usrloc body; unknown keys are tolerated, as Kamailio only logs them (§5.6). */
export function parseUsrlocBody(text: string): ParseResult<UsrlocMessage> {
  const root = parseJsonObject(text);
  if (!root.ok) return root;
  const { obj, firstKey } = root.value;
  if (firstKey === null) return { ok: false, error: 'empty object' };
  if (firstKey !== 'multi') return parseAction(obj);
  const multi = obj.multi;
  if (!isObject(multi)) return { ok: false, error: '"multi" is not an object' };
  const contacts: UsrlocContact[] = [];
  let deletes: number[] | undefined;
  for (const [key, entry] of Object.entries(multi)) {
    if (!isObject(entry)) return { ok: false, error: `multi entry "${key}" is not an object` };
    const r = parseAction(entry);
    if (!r.ok) return { ok: false, error: `multi entry "${key}": ${r.error}` };
    // Kamailio runs each entry as its own action (usrloc_dmq_execute_action): updates and deletes
    if (!('contact' in r.value)) return { ok: false, error: `multi entry "${key}" is not an update or delete (action 1 or 2)` };
    if (r.value.action === 2) (deletes ??= []).push(contacts.length);
    contacts.push(r.value.contact);
  }
  return { ok: true, value: deletes === undefined ? { multi: contacts } : { multi: contacts, deletes } };
}

/** One single-action object, keys in Kamailio's order. */
export function formatUsrlocContact(action: 1 | 2, c: UsrlocContact): string {
  let s = `{"action":${action}`;
  for (const k of STRINGS_BEFORE_SOCK) s += `,"${k}":${srjsonString(c[k])}`;
  if (c.sock !== undefined) s += `,"sock":${srjsonString(c.sock)}`;
  for (const k of STRINGS_AFTER_SOCK) s += `,"${k}":${srjsonString(c[k])}`;
  for (const k of NUMBERS) s += `,"${k}":${srjsonNumber(c[k])}`;
  return `${s}}`;
}

/**
 * Body text for a message. An empty `multi` would be `{"multi":{}}`; it is written as the no-op
 * `{"action":0}` instead so that no empty object is ever sent.
 */
export function formatUsrlocBody(m: UsrlocMessage): string {
  if ('multi' in m) {
    if (m.multi.length === 0) return '{"action":0}';
    const del = m.deletes === undefined ? null : new Set(m.deletes);
    return `{"multi":{${m.multi.map((c, i) => `"${i + 1}":${formatUsrlocContact(del?.has(i) ? 2 : 1, c)}`).join(',')}}}`;
  }
  if ('contact' in m) return formatUsrlocContact(m.action, m.contact);
  if (m.action === 0 || m.action === 3) return `{"action":${m.action}}`;
  throw new RangeError(`unknown usrloc action ${String((m as { action: unknown }).action)}`);
}

export interface UsrlocBatches {
  /** `multi` bodies in input order, each within both limits (UTF-8 bytes) */
  bodies: string[];
  /** contacts whose own `multi` body alone exceeds maxBytes: not sent, reported */
  tooLarge: UsrlocContact[];
}

/**
 * Pack contacts into `multi` sync answers (§5.4, §5.7): at most maxContacts (1..150) per body and at
 * most maxBytes (≤ 60000) real UTF-8 bytes per body, unlike Kamailio's estimate. `caps` replaces
 * those two ceilings (a kdmq peer over TCP/TLS takes larger bodies: stream_batch_msg_size).
 */
export function batchUsrlocContacts(
  contacts: readonly UsrlocContact[],
  maxContacts: number,
  maxBytes: number,
  caps: { contacts: number; bytes: number } = { contacts: MAX_BATCH_CONTACTS, bytes: MAX_BATCH_BYTES },
): UsrlocBatches {
  const perBody = Math.max(1, Math.min(caps.contacts, Math.floor(maxContacts) || 1));
  const limit = Math.min(caps.bytes, Math.floor(maxBytes) || 0);
  const out: UsrlocBatches = { bodies: [], tooLarge: [] };
  const OPEN = '{"multi":{';
  const CLOSE = '}}';
  let parts: string[] = [];
  let size = OPEN.length + CLOSE.length;
  const flush = (): void => {
    if (parts.length > 0) out.bodies.push(OPEN + parts.join(',') + CLOSE);
    parts = [];
    size = OPEN.length + CLOSE.length;
  };
  for (const c of contacts) {
    const obj = formatUsrlocContact(1, c);
    const objBytes = utf8Length(obj);
    // `"<n>":` is ASCII: its digits, two quotes and the colon
    const entryBytes = (n: number): number => String(n).length + 3 + objBytes;
    if (OPEN.length + CLOSE.length + entryBytes(1) > limit) {
      out.tooLarge.push(c);
      continue;
    }
    let add = entryBytes(parts.length + 1) + (parts.length > 0 ? 1 : 0);
    if (parts.length >= perBody || size + add > limit) {
      flush();
      add = entryBytes(1);
    }
    parts.push(`"${parts.length + 1}":${obj}`);
    size += add;
  }
  flush();
  return out;
}
