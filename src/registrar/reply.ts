// Replies of the registrar: the 200 OK contact list of RFC 3261 §10.3 step 8 (every current
// binding with its remaining expires, a Date header) and error replies as Kamailio's registrar
// sends them (status, standard reason phrase, P-Registrar-Error with Kamailio's text).
import type { Binding } from '../actors/location/binding.ts';

export interface RegisterResult {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
}

const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 420: 'Bad Extension',
  423: 'Interval Too Brief', 500: 'Server Internal Error', 503: 'Service Unavailable',
};

/** Kamailio registrar error texts (modules/registrar/reply.c, EI_R_*) */
export const EI = {
  INV_CSEQ: 'Invalid CSeq number',
  STAR_EXP: '* used in contact and expires is not zero',
  STAR_CONT: '* used in contact and more than 1 contact',
  TOO_MANY: 'Too many registered contacts',
  PARSE_CONT: 'Contact parse error',
  PARSE_EXP: 'Expires parse error',
  TO_MISS: 'To header not found',
  CID_MISS: 'Call-ID header not found',
  CS_MISS: 'CSeq header not found',
  AOR: 'Error while extracting Address Of Record',
} as const;

export function fail(status: number, info?: string, extra: Array<[string, string]> = []): RegisterResult {
  const headers: Array<[string, string]> = [...extra];
  if (info !== undefined) headers.push(['P-Registrar-Error', info]);
  return { status, reason: REASONS[status] ?? 'Error', headers };
}

/** RFC 1123 date of the Clock's time (RFC 3261 §20.17) */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** `<uri>;expires=N[;q=…][;received="…"][;+sip.instance=…;reg-id=…]`, as Kamailio's build_contact */
export function contactLine(b: Binding, nowSec: number): string {
  const left = b.expires === 0 ? 0 : Math.max(0, b.expires - nowSec);
  let s = `<${b.c}>;expires=${left}`;
  if (b.q >= 0) s += `;q=${formatQ(b.q)}`;
  if (b.received !== '') s += `;received="${b.received}"`;
  if (b.instance !== '') s += `;+sip.instance="${b.instance}"`;
  if (b.regId > 0) s += `;reg-id=${b.regId}`;
  return s;
}

function formatQ(q: number): string {
  const t = (q / 1000).toFixed(3).replace(/0+$/, '');
  return t.endsWith('.') ? `${t}0` : t;
}

/** step 8: 200 OK with all current bindings (none → no Contact, as the trace of step C shows) */
export function ok(bindings: readonly Binding[], nowMs: number, path: string): RegisterResult {
  const nowSec = Math.floor(nowMs / 1000);
  const headers: Array<[string, string]> = [];
  // the live bindings' lines joined by ', ' in one string (no filtered array, no array of lines)
  let contact = '';
  for (const b of bindings) {
    if (b.expires !== 0 && b.expires <= nowSec) continue;
    contact = contact === '' ? contactLine(b, nowSec) : `${contact}, ${contactLine(b, nowSec)}`;
  }
  if (contact !== '') headers.push(['Contact', contact]);
  if (path !== '') headers.push(['Path', path]);
  headers.push(['Date', httpDate(nowMs)]);
  return { status: 200, reason: 'OK', headers };
}
