// Character classes and small scanners shared by the URI and header parsers (RFC 3261 §25.1:
// token, quoted-string, LWS, generic-param; RFC 3261 §7.3.1 for comma-separated header lists).
// Everything here works on JS strings by char code and never throws.

import type { Params, ParseResult } from './types.ts';
import { errorText } from '../errors.ts';

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-.!%*_+`'~]/.test(ch)) TOKEN[c] = 1;
}

/** hostname / IPv4 chars; `_` allowed for SRV-style names such as `_sip._udp.example.com` */
export const HOSTCHAR = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._') HOSTCHAR[ch.charCodeAt(0)] = 1;

/** Trim SP and HTAB only (String.prototype.trim also eats NBSP and other Unicode spaces). */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return i;
}

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T>(error: string): ParseResult<T> {
  return { ok: false, error };
}

/** End index (exclusive, after the closing quote) of the quoted-string starting at i, or -1. */
export function quotedEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92) j++;
    else if (c === 34) return j + 1;
  }
  return -1;
}

/** Split a header value at top-level commas (outside quoted strings and <...>); trims parts. */
export function splitList(s: string): string[] | null {
  if (s.indexOf(',') < 0) return [trimWs(s)];
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      const e = quotedEnd(s, i);
      if (e < 0) return null;
      i = e - 1;
    } else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      out.push(trimWs(s.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWs(s.slice(start)));
  return out;
}

export interface ParamsAt {
  params: Params;
  /** index just past the last parameter */
  end: number;
}

/**
 * Parse `*( SWS ";" SWS name [ SWS "=" SWS value ] )` from index i. Values are tokens, quoted
 * strings (kept with their quotes) or [IPv6] references. Stops at the first char that cannot
 * continue the list; the caller decides whether anything may follow.
 */
export function parseParams(s: string, i: number): ParseResult<ParamsAt> {
  const params: Params = [];
  for (;;) {
    const j = skipWs(s, i);
    if (j >= s.length || s.charCodeAt(j) !== 59) return ok({ params, end: i });
    let k = skipWs(s, j + 1);
    const nameStart = k;
    while (k < s.length && s.charCodeAt(k) < 128 && TOKEN[s.charCodeAt(k)] === 1) k++;
    if (k === nameStart) return fail('empty parameter name');
    const name = s.slice(nameStart, k).toLowerCase();
    const m = skipWs(s, k);
    if (m < s.length && s.charCodeAt(m) === 61) {
      let v = skipWs(s, m + 1);
      const vStart = v;
      const c = s.charCodeAt(v);
      if (c === 34) {
        v = quotedEnd(s, v);
        if (v < 0) return fail(`unterminated quoted value of parameter ${name}`);
      } else if (c === 91) {
        v = s.indexOf(']', v);
        if (v < 0) return fail(`unterminated [ in parameter ${name}`);
        v++;
      } else {
        while (v < s.length) {
          const d = s.charCodeAt(v);
          if (d < 128 && TOKEN[d] === 0 && d !== 58 && d !== 91 && d !== 93) break;
          v++;
        }
      }
      if (v === vStart) return fail(`empty value of parameter ${name}`);
      params.push([name, s.slice(vStart, v)]);
      i = v;
    } else {
      params.push([name, null]);
      i = k;
    }
  }
}

/** First value of a parameter by (lower-case) name: undefined when absent, null when valueless. */
export function getParam(params: Params, name: string): string | null | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of params) if (k === n) return v;
  return undefined;
}

/** Parse a decimal integer in [min, max]; only digits allowed (no sign, no spaces). */
export function parseIntRange(s: string, min: number, max: number, what: string): ParseResult<number> {
  if (s.length === 0 || s.length > 12) return fail(errorText('KDMQ_SIP_BAD_NUMBER', what, clip(s)));
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return fail(errorText('KDMQ_SIP_BAD_NUMBER', what, clip(s)));
    n = n * 10 + c;
  }
  if (n < min || n > max) return fail(errorText('KDMQ_SIP_NUMBER_RANGE', what, s));
  return ok(n);
}

/** Unquote a quoted-string (removes the quotes and the backslash escapes); other text as is. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
