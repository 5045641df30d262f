// Via-driven addressing for the transaction layer: where a server sends its responses
// (RFC 3261 §18.2.1 received, §18.2.2 sent-by/default 5060, RFC 3581 §4 rport), how the top Via
// of a response is stamped with received/rport, and the server transaction key of RFC 3261
// §17.2.3 (branch + sent-by + method, else RFC 2543 keys; client transactions are matched in
// transactions.ts on their branch and method, §17.1.3).

import type { Params, SipRequest, Via } from '../sip/types.ts';
import type { Endpoint } from './transport.ts';

export const MAGIC_COOKIE = 'z9hG4bK';
export const DEFAULT_SIP_PORT = 5060;

export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** host[:port] as written in a Via or a URI (IPv6 in brackets) */
export function hostPort(e: Endpoint): string {
  const h = bareHost(e.host);
  return `${h.includes(':') ? `[${h}]` : h}:${e.port}`;
}

export interface ResponseRoute {
  dest: Endpoint;
  /** the top Via to put in responses, with received/rport filled in */
  stampedVia: string;
}

/**
 * RFC 3581 §4: `rport` → answer the source IP and port, stamping both.
 * RFC 3261 §18.2.1: a sent-by host that differs from the source IP gets `received=<source>`.
 * RFC 3261 §18.2.2: otherwise the received host (or sent-by host) and the sent-by port, else 5060.
 */
export function responseRoute(via: Via, source: Endpoint): ResponseRoute {
  // a `received` or an `rport` value already in the request is the client's word, not ours:
  // only the packet's source counts, so a forged Via cannot send our answer elsewhere
  const differs = bareHost(via.host).toLowerCase() !== source.host.toLowerCase();
  let received: string | null = differs ? source.host : null;
  let rport: number | undefined;
  let dest: Endpoint;
  if (via.rport !== undefined) {
    received = source.host;
    rport = source.port;
    dest = { host: source.host, port: source.port };
  } else {
    dest = { host: bareHost(received ?? via.host), port: via.port ?? DEFAULT_SIP_PORT };
  }
  // the request's own received/rport are dropped, ours go last (no copy of the params for that)
  let out = formatVia(via, via.params, true);
  if (received !== null) out += `;received=${received}`;
  if (rport !== undefined) out += `;rport=${rport}`;
  return { dest, stampedVia: out };
}

/** the Via as text; `dropStamps`: without its received and rport params */
function formatVia(via: Via, params: Params, dropStamps = false): string {
  const port = via.port === null ? '' : `:${via.port}`;
  let out = `${via.protocol}/${via.transport} ${via.host}${port}`;
  for (const [n, v] of params) {
    if (dropStamps && (n === 'received' || n === 'rport')) continue;
    out += v === null ? `;${n}` : `;${n}=${v}`;
  }
  return out;
}

/** split a header value at top-level commas (outside quoted strings and <>) */
export function splitTopLevel(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') depth++;
    else if (c === '>') depth--;
    else if (c === ',' && depth === 0) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}

/** replace the first Via value of a header list (keeping any further values of that line) */
export function replaceTopVia(headers: Array<[string, string]>, stamped: string): Array<[string, string]> {
  const copy = headers.slice();
  stampTopVia(copy, stamped);
  return copy;
}

/** replaceTopVia in place, for a header list of our own (a response being built): no copy */
export function stampTopVia(headers: Array<[string, string]>, stamped: string): void {
  const i = headers.findIndex(([n]) => n === 'Via' || n.toLowerCase() === 'via' || n.toLowerCase() === 'v');
  if (i < 0) return;
  const value = headers[i][1];
  let line: string;
  if (!value.includes(',')) {
    line = stamped; // one Via value on the line (the usual case): nothing to split or keep
  } else {
    const parts = splitTopLevel(value);
    parts[0] = stamped;
    line = parts.map((p, k) => (k === 0 ? p : p.trim())).join(', ');
  }
  headers[i] = [headers[i][0], line];
}

function tagOf(params: Params): string {
  return params.find(([n]) => n === 'tag')?.[1] ?? '';
}

/**
 * The server transaction key of a request, or an error when the headers it needs do not parse.
 * ACK would map to INVITE here (§17.2.3); kdmq runs non-INVITE transactions only.
 */
/**
 * A flat copy: the branch is a slice of the decoded request head, and a key built from it keeps
 * that whole text alive for timer J (64·T1) unless it is copied once here.
 */
function flat(s: string): string {
  return (' ' + s).slice(1);
}

export function serverKey(req: SipRequest): { ok: true; key: string } | { ok: false; error: string } {
  const top = req.topVia();
  if (!top.ok) return top;
  const via = top.value;
  const method = req.method.toUpperCase();
  if (via.branch !== null && via.branch.startsWith(MAGIC_COOKIE)) {
    const sentBy = `${bareHost(via.host).toLowerCase()}:${via.port ?? DEFAULT_SIP_PORT}`;
    return { ok: true, key: flat(`${via.branch}|${sentBy}|${method}`) };
  }
  // RFC 2543 fallback: Request-URI, To tag, From tag, Call-ID, CSeq and the top Via
  const from = req.from();
  const to = req.to();
  const callId = req.callId();
  const cseq = req.cseq();
  if (!from.ok) return from;
  if (!to.ok) return to;
  if (!callId.ok) return callId;
  if (!cseq.ok) return cseq;
  const viaText = formatVia(via, via.params);
  const parts = [req.requestUriText, tagOf(to.value.params), tagOf(from.value.params), callId.value];
  return { ok: true, key: `2543|${parts.join('|')}|${cseq.value.seq} ${cseq.value.method}|${viaText}` };
}
