// JSON helpers shared by the usrloc and htable codecs: print numbers and strings as Kamailio's
// srjson printer does (kamailio-dmq-protocol.md §0, src/core/utils/srjson.c @5.6.3), read the
// FIRST key of a root object (Kamailio dispatches `multi` / `cells` on it, §5.4, §6.4), and
// count UTF-8 bytes exactly (batch limits, §5.7). Pure; parsing never throws.

import type { ParseResult } from '../../sip/types.ts';

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** Number text as srjson's print_number writes it (%d, %.0f, %e or %f). Non-finite: invariant broken. */
export function srjsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`srjson cannot print ${n}`);
  if (Number.isInteger(n)) {
    if (n >= INT_MIN && n <= INT_MAX) return String(n === 0 ? 0 : n);
    if (Math.abs(n) < 1e60) return BigInt(n).toString(); // %.0f prints every digit
  }
  const a = Math.abs(n);
  if (a < 1e-6 || a > 1e9) return n.toExponential(6).replace(/e([+-])(\d)$/, 'e$10$2');
  return n.toFixed(6);
}

/** String text as srjson writes it: `"` `\\` \b \f \n \r \t escaped, other controls as \u00xx. */
export function srjsonString(s: string): string {
  if (typeof s !== 'string') throw new TypeError(`expected a string, got ${typeof s}`);
  return JSON.stringify(s);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Exact UTF-8 byte length of a JS string (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  if (!NON_ASCII.test(s)) return s.length; // the common case, without a loop in JS
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export interface JsonRoot {
  obj: Record<string, unknown>;
  /** the first key as written in the text (JS objects reorder integer-like keys; Kamailio does not) */
  firstKey: string | null;
}

/** Parse a body that must be a JSON object; report the first key as written. */
export function parseJsonObject(text: string): ParseResult<JsonRoot> {
  if (typeof text !== 'string') return { ok: false, error: 'body is not text' };
  if (text.length === 0) return { ok: false, error: 'empty body' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
  }
  if (!isObject(value)) return { ok: false, error: 'body is not a JSON object' };
  const m = /^[\s]*\{[\s]*("(?:[^"\\]|\\.)*")/.exec(text);
  let firstKey: string | null = null;
  if (m) {
    try {
      firstKey = JSON.parse(m[1]!) as string;
    } catch {
      return { ok: false, error: 'invalid first key' };
    }
  }
  return { ok: true, value: { obj: value, firstKey } };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read a number field; Kamailio reads doubles and casts them, so fractions are truncated. */
export function numberField(o: Record<string, unknown>, key: string): ParseResult<number> {
  const v = o[key];
  if (v === undefined) return { ok: false, error: `missing key "${key}"` };
  if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, error: `"${key}" is not a number` };
  return { ok: true, value: Math.trunc(v) === 0 ? 0 : Math.trunc(v) };
}

export function stringField(o: Record<string, unknown>, key: string): ParseResult<string> {
  const v = o[key];
  if (v === undefined) return { ok: false, error: `missing key "${key}"` };
  if (typeof v !== 'string') return { ok: false, error: `"${key}" is not a string` };
  return { ok: true, value: v };
}
