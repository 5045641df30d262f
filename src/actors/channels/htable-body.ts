// htable JSON bodies on the `htable` channel (kamailio-dmq-protocol.md §6.2–6.4, 5.5…6.0 action
// numbering): operation messages (1 sync, 2 set, 3 setex, 4 delete, 5 regex delete, 6 prefix delete)
// with §6.3's key order and emission rules, and `cells` sync answers batched under a byte limit.
// Integers are 32-bit signed. Pure; parsing never throws.

import type { ParseResult } from '../../sip/types.ts';
import { isObject, numberField, parseJsonObject, srjsonNumber, srjsonString, stringField, utf8Length } from './srjson.ts';

/** type 0 = integer, type 2 = string (AVP_VAL_STR) */
export type HtableValue = { type: 0; intval: number } | { type: 2; strval: string };

export interface HtableCell {
  htname: string;
  cname: string;
  value: HtableValue;
  /** absolute Unix seconds on the sender's clock, 0 = no expiry */
  expire: number;
}

export type HtableMessage =
  | { action: 1 }
  | { action: 2 | 3; htname: string; cname: string; value: HtableValue; mode: number }
  | { action: 4; htname: string; cname: string; mode: number }
  | { action: 5 | 6; htname: string; value: HtableValue; mode: number }
  | { cells: HtableCell[] };

export const HT_ACTION = { SYNC: 1, SET: 2, SETEX: 3, DELETE: 4, RM_RE: 5, RM_SW: 6 } as const;
export const MAX_CELLS_BYTES = 60000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** the keys Kamailio accepts in an operation message; any other key gets a 400 (§6.3) */
const OP_KEYS = new Set(['action', 'htname', 'cname', 'type', 'strval', 'intval', 'mode']);

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
}

function parseValue(o: Record<string, unknown>): ParseResult<HtableValue> {
  const t = numberField(o, 'type');
  if (!t.ok) return t;
  if (t.value === 0) {
    const v = numberField(o, 'intval');
    if (!v.ok) return v;
    if (!isInt32(v.value)) return { ok: false, error: `"intval" ${v.value} is not a 32-bit integer` };
    return { ok: true, value: { type: 0, intval: v.value } };
  }
  if (t.value === 2) {
    const v = stringField(o, 'strval');
    if (!v.ok) return v;
    return { ok: true, value: { type: 2, strval: v.value } };
  }
  return { ok: false, error: `unknown value type ${t.value}` };
}

function parseOperation(o: Record<string, unknown>): ParseResult<HtableMessage> {
  for (const k of Object.keys(o)) if (!OP_KEYS.has(k)) return { ok: false, error: `unrecognized key "${k}"` };
  const a = numberField(o, 'action');
  if (!a.ok) return a;
  const action = a.value;
  if (action === 1) return { ok: true, value: { action } };
  if (action < 2 || action > 6) return { ok: false, error: `unknown action ${action}` };
  const htname = stringField(o, 'htname');
  if (!htname.ok) return htname;
  const mode = numberField(o, 'mode');
  if (!mode.ok) return mode;
  if (action === 5 || action === 6) {
    const value = parseValue(o);
    if (!value.ok) return value;
    return { ok: true, value: { action, htname: htname.value, value: value.value, mode: mode.value } };
  }
  const cname = stringField(o, 'cname');
  if (!cname.ok) return cname;
  if (action === 4) return { ok: true, value: { action, htname: htname.value, cname: cname.value, mode: mode.value } };
  const value = parseValue(o);
  if (!value.ok) return value;
  return {
    ok: true,
    value: { action: action as 2 | 3, htname: htname.value, cname: cname.value, value: value.value, mode: mode.value },
  };
}

function parseCell(o: unknown, i: number): ParseResult<HtableCell> {
  if (!isObject(o)) return { ok: false, error: `cell ${i} is not an object` };
  const htname = stringField(o, 'htname');
  if (!htname.ok) return htname;
  const cname = stringField(o, 'cname');
  if (!cname.ok) return cname;
  const value = parseValue(o);
  if (!value.ok) return value;
  const expire = numberField(o, 'expire');
  if (!expire.ok) return expire;
  return { ok: true, value: { htname: htname.value, cname: cname.value, value: value.value, expire: expire.value } };
}

/** Parse an htable body; `cells` is recognised by being the first key, as Kamailio does. */
export function parseHtableBody(text: string): ParseResult<HtableMessage> {
  const root = parseJsonObject(text);
  if (!root.ok) return root;
  const { obj, firstKey } = root.value;
  if (firstKey === null) return { ok: false, error: 'empty object' };
  if (firstKey !== 'cells') return parseOperation(obj);
  if (!Array.isArray(obj.cells)) return { ok: false, error: '"cells" is not an array' };
  const cells: HtableCell[] = [];
  for (let i = 0; i < obj.cells.length; i++) {
    const r = parseCell(obj.cells[i], i);
    if (!r.ok) return { ok: false, error: `cell ${i}: ${r.error}` };
    cells.push(r.value);
  }
  return { ok: true, value: { cells } };
}

function formatValue(v: HtableValue): string {
  if (v.type === 0) {
    if (!isInt32(v.intval)) throw new RangeError(`htable intval ${v.intval} is not a 32-bit integer`);
    return `"type":0,"intval":${srjsonNumber(v.intval)}`;
  }
  if (v.type === 2) return `"type":2,"strval":${srjsonString(v.strval)}`;
  throw new RangeError(`unknown htable value type ${String((v as { type: unknown }).type)}`);
}

export function formatHtableCell(c: HtableCell): string {
  return `{"htname":${srjsonString(c.htname)},"cname":${srjsonString(c.cname)},${formatValue(c.value)},"expire":${srjsonNumber(c.expire)}}`;
}

/** Body text, §6.3: cname omitted for 5/6; type + value only for 2, 3, 5, 6; mode on every operation. */
export function formatHtableBody(m: HtableMessage): string {
  if ('cells' in m) return `{"cells":[${m.cells.map(formatHtableCell).join(',')}]}`;
  if (m.action === 1) return '{"action":1}';
  const a: number = m.action;
  let s = `{"action":${srjsonNumber(a)},"htname":${srjsonString(m.htname)}`;
  if (a !== 5 && a !== 6 && 'cname' in m) s += `,"cname":${srjsonString(m.cname)}`;
  if (a !== 4 && 'value' in m) s += `,${formatValue(m.value)}`;
  return `${s},"mode":${srjsonNumber(m.mode)}}`;
}

export interface HtableBatches {
  /** `cells` bodies in input order, each at most maxBytes UTF-8 bytes */
  bodies: string[];
  /** cells whose own body alone exceeds maxBytes: not sent, reported */
  tooLarge: HtableCell[];
}

/**
 * Pack cells into sync answers (§6.4) of at most maxBytes (≤ 60000) real bytes each. No cells gives
 * one `{"cells":[]}`, which is what Kamailio 5.6.3 sends when it holds nothing.
 */
export function batchHtableCells(cells: readonly HtableCell[], maxBytes: number): HtableBatches {
  const limit = Math.min(MAX_CELLS_BYTES, Math.floor(maxBytes) || 0);
  const OPEN = '{"cells":[';
  const CLOSE = ']}';
  const out: HtableBatches = { bodies: [], tooLarge: [] };
  let parts: string[] = [];
  let size = OPEN.length + CLOSE.length;
  for (const c of cells) {
    const text = formatHtableCell(c);
    const bytes = utf8Length(text);
    if (OPEN.length + CLOSE.length + bytes > limit) {
      out.tooLarge.push(c);
      continue;
    }
    const add = bytes + (parts.length > 0 ? 1 : 0);
    if (size + add > limit) {
      out.bodies.push(OPEN + parts.join(',') + CLOSE);
      parts = [];
      size = OPEN.length + CLOSE.length;
    }
    size += bytes + (parts.length > 0 ? 1 : 0);
    parts.push(text);
  }
  if (parts.length > 0 || out.bodies.length === 0) out.bodies.push(OPEN + parts.join(',') + CLOSE);
  return out;
}
