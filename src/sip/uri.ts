// SIP and SIPS URIs: parse and format (RFC 3261 §19.1.1-§19.1.2, grammar §25.1 SIP-URI).
// User, password and URI headers are %-unescaped; params are kept as written (names lower-cased);
// host keeps its case and IPv6 brackets; portText keeps the port as written (DMQ node identity).

import type { Params, ParseResult, SipUri } from './types.ts';
import { clip, fail, HOSTCHAR, ok } from './scan.ts';

function charSet(extra: string): Uint8Array {
  const t = new Uint8Array(128);
  const base = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()";
  for (const ch of base + extra) t[ch.charCodeAt(0)] = 1;
  return t;
}
/** unreserved / user-unreserved */
const USER = charSet('&=+$,;?/');
const PASS = charSet('&=+$,');
/** unreserved / param-unreserved */
const PARAM = charSet('[]/:&+$');
/** unreserved / hnv-unreserved */
const HNV = charSet('[]/?:+$');

const utf8 = new TextDecoder('utf-8');
const utf8Enc = new TextEncoder();

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Check the chars of s against set (escapes allowed) and decode %HH as UTF-8; null when bad. */
export function unescapePart(s: string, set: Uint8Array): string | null {
  let hasPct = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      if (hexVal(s.charCodeAt(i + 1)) < 0 || hexVal(s.charCodeAt(i + 2)) < 0) return null;
      hasPct = true;
      i += 2;
    } else if (c < 128 && set[c] === 0) return null;
  }
  if (!hasPct) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      bytes.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 128) bytes.push(c);
    else for (const b of utf8Enc.encode(s[i])) bytes.push(b);
  }
  return utf8.decode(new Uint8Array(bytes));
}

/** %-escape every char outside set (non-ASCII as its UTF-8 bytes). */
export function escapePart(s: string, set: Uint8Array): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 128 && set[c] === 1) out += ch;
    else for (const b of utf8Enc.encode(ch)) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}

function parseHost(t: string, i: number, end: number): ParseResult<{ host: string; next: number }> {
  if (t.charCodeAt(i) === 91) {
    const close = t.indexOf(']', i);
    if (close < 0 || close >= end) return fail('unterminated IPv6 reference');
    for (let j = i + 1; j < close; j++) {
      const c = t.charCodeAt(j);
      if (!(c === 58 || c === 46 || hexVal(c) >= 0)) return fail(`bad IPv6 reference '${clip(t.slice(i, close + 1))}'`);
    }
    if (close === i + 1 || t.indexOf(':', i) > close) return fail('bad IPv6 reference');
    return ok({ host: t.slice(i, close + 1), next: close + 1 });
  }
  let j = i;
  while (j < end) {
    const c = t.charCodeAt(j);
    if (c >= 128 || HOSTCHAR[c] === 0) break;
    j++;
  }
  if (j === i) return fail(`missing host in URI '${clip(t)}'`);
  return ok({ host: t.slice(i, j), next: j });
}

function parseUriParams(t: string, start: number, end: number): ParseResult<Params> {
  const params: Params = [];
  if (start >= end) return ok(params);
  for (const part of t.slice(start, end).split(';')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (name.length === 0 || unescapePart(name, PARAM) === null) return fail(`bad URI parameter '${clip(part)}'`);
    if (value !== null && (value.length === 0 || unescapePart(value, PARAM) === null)) {
      return fail(`bad URI parameter value '${clip(part)}'`);
    }
    params.push([name.toLowerCase(), value]);
  }
  return ok(params);
}

function parseUriHeaders(t: string): ParseResult<Array<[string, string]>> {
  const headers: Array<[string, string]> = [];
  for (const part of t.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return fail(`bad URI header '${clip(part)}'`);
    const name = unescapePart(part.slice(0, eq), HNV);
    const value = unescapePart(part.slice(eq + 1), HNV);
    if (name === null || value === null) return fail(`bad URI header '${clip(part)}'`);
    headers.push([name, value]);
  }
  return ok(headers);
}

export function parseUri(text: string): ParseResult<SipUri> {
  const colon = text.indexOf(':');
  if (colon <= 0) return fail(`URI without scheme '${clip(text)}'`);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return fail(`unsupported URI scheme '${clip(scheme)}'`);
  let i = colon + 1;
  let user: string | null = null;
  let password: string | null = null;
  const at = text.indexOf('@', i);
  if (at >= 0) {
    const pc = text.indexOf(':', i);
    const userEnd = pc >= 0 && pc < at ? pc : at;
    if (userEnd === i) return fail('empty user part in URI');
    user = unescapePart(text.slice(i, userEnd), USER);
    if (user === null) return fail(`bad user part in URI '${clip(text)}'`);
    if (userEnd < at) {
      password = unescapePart(text.slice(userEnd + 1, at), PASS);
      if (password === null) return fail('bad password in URI');
    }
    i = at + 1;
  }
  let qm = text.indexOf('?', i);
  if (qm < 0) qm = text.length;
  const h = parseHost(text, i, qm);
  if (!h.ok) return h;
  i = h.value.next;
  let port: number | null = null;
  let portText = '';
  if (text.charCodeAt(i) === 58) {
    let j = i + 1;
    while (j < qm && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    portText = text.slice(i + 1, j);
    if (portText.length === 0 || portText.length > 5) return fail(`bad port in URI '${clip(text)}'`);
    port = Number(portText);
    if (port > 65535) return fail(`port out of range: ${portText}`);
    i = j;
  }
  if (i < qm && text.charCodeAt(i) !== 59) return fail(`unexpected '${text[i]}' in URI '${clip(text)}'`);
  const params = parseUriParams(text, i + 1, qm);
  if (!params.ok) return params;
  const headers = qm < text.length ? parseUriHeaders(text.slice(qm + 1)) : ok<Array<[string, string]>>([]);
  if (!headers.ok) return headers;
  return ok({ scheme, user, password, host: h.value.host, port, portText, params: params.value, headers: headers.value });
}

export function formatUri(u: SipUri): string {
  let s = `${u.scheme}:`;
  if (u.user !== null) {
    s += escapePart(u.user, USER);
    if (u.password !== null) s += `:${escapePart(u.password, PASS)}`;
    s += '@';
  }
  s += u.host;
  if (u.portText !== '') s += `:${u.portText}`;
  else if (u.port !== null) s += `:${u.port}`;
  for (const [n, v] of u.params) s += v === null ? `;${n}` : `;${n}=${v}`;
  if (u.headers.length > 0) {
    s += `?${u.headers.map(([n, v]) => `${escapePart(n, HNV)}=${escapePart(v, HNV)}`).join('&')}`;
  }
  return s;
}
