// Header grammar: name-addr (From/To/Contact, RFC 3261 §20.10, §20.20, §20.39), Via (§20.42),
// CSeq (§20.16), Contact list with q/expires/+sip.instance/reg-id (§20.10, RFC 5626 §4.2),
// header names and compact forms (§7.3.3, IANA SIP parameters registry). Never throws.

import type { ContactValue, CSeq, NameAddr, ParseResult, Via } from './types.ts';
import { clip, fail, getParam, HOSTCHAR, isToken, ok, parseIntRange, parseParams, quotedEnd, skipWs, splitList, TOKEN, trimWs, unquote } from './scan.ts';
import { parseUri } from './uri.ts';
import { errorText } from '../errors.ts';

export { getParam } from './scan.ts';

/** Compact form -> lower-case full name (RFC 3261 §7.3.3 and the IANA registry). */
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type',
  k: 'supported', s: 'subject', e: 'content-encoding', o: 'event', r: 'refer-to', u: 'allow-events',
  b: 'referred-by', x: 'session-expires', a: 'accept-contact', j: 'reject-contact',
  d: 'request-disposition', y: 'identity', n: 'identity-info',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  'rack': 'RAck', 'rseq': 'RSeq', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
};

/**
 * Header names as kdmq, Kamailio and most UAs spell them. The parser gives a name read in exactly
 * this spelling as the literal itself (commonName), not a fresh slice, and headerKey answers these
 * from KNOWN_KEYS: no lower-case copy per header line, and lookups compare the same strings.
 */
export const COMMON_HEADER_NAMES: readonly string[] = [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'User-Agent', 'Content-Type',
  'Content-Length', 'Expires', 'Date', 'Allow', 'Supported', 'Path', 'Route', 'Record-Route',
];
const KNOWN_KEYS = new Map<string, string>(COMMON_HEADER_NAMES.map((n) => [n, n.toLowerCase()]));
/** COMMON_HEADER_NAMES by length */
const COMMON_BY_LENGTH: string[][] = [];
for (const n of COMMON_HEADER_NAMES) (COMMON_BY_LENGTH[n.length] ??= []).push(n);

/** head.slice(start, end) as a header name: the literal of COMMON_HEADER_NAMES when it is one */
export function commonName(head: string, start: number, end: number): string {
  const same = end - start < COMMON_BY_LENGTH.length ? COMMON_BY_LENGTH[end - start] : undefined;
  if (same !== undefined) {
    const c0 = head.charCodeAt(start);
    for (const n of same) if (n.charCodeAt(0) === c0 && head.startsWith(n, start)) return n;
  }
  return head.slice(start, end);
}

/** Lower-case full name used for lookups: compact forms are expanded. */
export function headerKey(name: string): string {
  const known = KNOWN_KEYS.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  return lower.length === 1 ? COMPACT[lower] ?? lower : lower;
}

/** The conventional spelling of a header name: `i` -> `Call-ID`, `content-length` -> `Content-Length`. */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

function paramsOnly(s: string, i: number, what: string) {
  const p = parseParams(s, i);
  if (!p.ok) return p;
  if (skipWs(s, p.value.end) !== s.length) return fail<never>(errorText('KDMQ_SIP_TRAILING_TEXT', what, clip(s.slice(p.value.end))));
  return ok(p.value.params);
}

/** One name-addr or addr-spec followed by header parameters (RFC 3261 §20.10 rules on `<>`). */
export function parseNameAddr(text: string): ParseResult<NameAddr> {
  const s = text;
  let i = skipWs(s, 0);
  let displayName: string | null = null;
  if (s.charCodeAt(i) === 34) {
    const e = quotedEnd(s, i);
    if (e < 0) return fail(errorText('KDMQ_SIP_DISPLAY_NAME_UNTERMINATED'));
    displayName = unquote(s.slice(i, e));
    i = skipWs(s, e);
    if (s.charCodeAt(i) !== 60) return fail(errorText('KDMQ_SIP_DISPLAY_NAME_NO_ADDRESS'));
  } else {
    const lt = s.indexOf('<', i);
    if (lt > i) {
      const dn = s.slice(i, lt);
      if (dn.indexOf(';') < 0) {
        if (dn.indexOf('"') >= 0) return fail(errorText('KDMQ_SIP_BAD_DISPLAY_NAME', clip(dn)));
        const t = trimWs(dn);
        displayName = t.length > 0 ? t : null;
        i = lt;
      }
    }
  }
  let uriText: string;
  let after: number;
  if (s.charCodeAt(i) === 60) {
    const gt = s.indexOf('>', i);
    if (gt < 0) return fail(errorText('KDMQ_SIP_NAME_ADDR_UNCLOSED'));
    uriText = s.slice(i + 1, gt);
    after = gt + 1;
  } else {
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 59 || c === 32 || c === 9) break;
      j++;
    }
    uriText = s.slice(i, j);
    after = j;
  }
  const uri = parseUri(uriText);
  if (!uri.ok) return uri;
  const params = paramsOnly(s, after, 'address');
  if (!params.ok) return params;
  return ok({ displayName, uri: uri.value, uriText, params: params.value });
}

function readToken(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
  return i;
}

function expectSlash(s: string, i: number): number {
  const j = skipWs(s, i);
  return s.charCodeAt(j) === 47 ? skipWs(s, j + 1) : -1;
}

function badVia<T = Via>(s: string): ParseResult<T> {
  return fail(errorText('KDMQ_SIP_BAD_VIA', clip(s)));
}

/** sent-by after the sent-protocol's LWS: host (a bracketed IPv6 reference or host chars), then an optional `:port`. */
function readSentBy(s: string, i: number): ParseResult<{ host: string; port: number | null; end: number }> {
  const h0 = skipWs(s, i);
  if (h0 === i) return badVia(s);
  i = h0;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0) return badVia(s);
    i = close + 1;
  } else {
    while (i < s.length && s.charCodeAt(i) < 128 && HOSTCHAR[s.charCodeAt(i)] === 1) i++;
  }
  if (i === h0) return badVia(s);
  const host = s.slice(h0, i);
  let port: number | null = null;
  const c = skipWs(s, i);
  if (s.charCodeAt(c) === 58) {
    const p0 = skipWs(s, c + 1);
    let p1 = p0;
    while (p1 < s.length && s.charCodeAt(p1) >= 48 && s.charCodeAt(p1) <= 57) p1++;
    const pr = parseIntRange(s.slice(p0, p1), 0, 65535, 'Via port');
    if (!pr.ok) return pr;
    port = pr.value;
    i = p1;
  }
  return ok({ host, port, end: i });
}

/** One via-parm: sent-protocol LWS sent-by *( SEMI via-params ). */
function parseViaParm(s: string): ParseResult<Via> {
  let i = skipWs(s, 0);
  const n0 = i;
  i = readToken(s, i);
  const name = s.slice(n0, i);
  if ((i = expectSlash(s, i)) < 0) return badVia(s);
  const v0 = i;
  i = readToken(s, i);
  const version = s.slice(v0, i);
  if ((i = expectSlash(s, i)) < 0) return badVia(s);
  const t0 = i;
  i = readToken(s, i);
  const transport = s.slice(t0, i).toUpperCase();
  if (name === '' || version === '' || transport === '') return badVia(s);
  const sentBy = readSentBy(s, i);
  if (!sentBy.ok) return sentBy;
  const { host, port } = sentBy.value;
  i = sentBy.value.end;
  const params = paramsOnly(s, i, 'Via');
  if (!params.ok) return params;
  const ps = params.value;
  // the first value of each known parameter (as getParam gives it): undefined when absent
  let branch: string | null | undefined;
  let received: string | null | undefined;
  let rportText: string | null | undefined;
  let maddr: string | null | undefined;
  let ttlText: string | null | undefined;
  for (let k = 0; k < ps.length; k++) {
    const [n, v] = ps[k];
    if (n === 'branch' && branch === undefined) branch = v;
    else if (n === 'rport' && rportText === undefined) rportText = v;
    else if (n === 'received' && received === undefined) received = v;
    else if (n === 'maddr' && maddr === undefined) maddr = v;
    else if (n === 'ttl' && ttlText === undefined) ttlText = v;
  }
  let ttl: number | null = null;
  if (ttlText !== undefined) {
    const r = parseIntRange(ttlText ?? '', 0, 255, 'Via ttl');
    if (!r.ok) return r;
    ttl = r.value;
  }
  let rport: number | null | undefined = rportText === undefined ? undefined : null;
  if (typeof rportText === 'string') {
    const r = parseIntRange(rportText, 0, 65535, 'Via rport');
    if (!r.ok) return r;
    rport = r.value;
  }
  return ok({
    protocol: `${name}/${version}`, transport, host, port, params: ps,
    branch: branch ?? null, received: received ?? null, rport, maddr: maddr ?? null, ttl,
  });
}

/** A Via header value: one or more via-parms separated by commas. */
export function parseVia(text: string): ParseResult<Via[]> {
  const parts = splitList(text);
  if (parts === null) return fail(errorText('KDMQ_SIP_VIA_UNTERMINATED'));
  const out: Via[] = [];
  for (const p of parts) {
    const v = parseViaParm(p);
    if (!v.ok) return v;
    out.push(v.value);
  }
  return ok(out);
}

/** CSeq = 1*DIGIT LWS Method; the number must be below 2^31 (§8.1.1.5). */
export function parseCSeq(text: string): ParseResult<CSeq> {
  const s = trimWs(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const seq = parseIntRange(s.slice(0, i), 0, 2 ** 31 - 1, 'CSeq number');
  if (!seq.ok) return seq;
  const m = skipWs(s, i);
  const method = s.slice(m);
  if (m === i || !isToken(method)) return fail(errorText('KDMQ_SIP_BAD_CSEQ', clip(s)));
  return ok({ seq: seq.value, method });
}

const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/** A Contact header value: `*` or a list of contact-params. */
export function parseContacts(text: string): ParseResult<ContactValue[]> {
  if (trimWs(text) === '*') return ok([{ star: true }]);
  const parts = splitList(text);
  if (parts === null) return fail(errorText('KDMQ_SIP_CONTACT_UNTERMINATED'));
  const out: ContactValue[] = [];
  for (const p of parts) {
    const na = parseNameAddr(p);
    if (!na.ok) return na;
    const ps = na.value.params;
    const qText = getParam(ps, 'q');
    if (qText !== undefined && (qText === null || !QVALUE.test(qText))) return fail(errorText('KDMQ_SIP_BAD_Q', String(qText)));
    const exText = getParam(ps, 'expires');
    let expires: number | null = null;
    if (exText !== undefined) {
      const r = parseIntRange(exText ?? '', 0, 2 ** 32 - 1, 'Contact expires');
      if (!r.ok) return r;
      expires = r.value;
    }
    const regText = getParam(ps, 'reg-id');
    let regId: number | null = null;
    if (regText !== undefined) {
      const r = parseIntRange(regText ?? '', 0, 2 ** 31 - 1, 'reg-id');
      if (!r.ok) return r;
      regId = r.value;
    }
    const inst = getParam(ps, '+sip.instance');
    out.push({
      star: false, ...na.value, q: qText == null ? null : Number(qText), expires,
      instance: inst == null ? null : unquote(inst), regId,
    });
  }
  return ok(out);
}
