// Node-list body of the notification channel (kamailio-dmq-protocol.md §2.2, §10): a lenient-but-safe
// reader (a bad line is dropped alone and reported) and a strict writer whose output can never freeze
// a Kamailio 5.6.3 node (IP literals, explicit port, known status, CRLF after every line).
// `isSafeNodeListBody` is the same strictness as a predicate, for invariant checkers. Pure.

import { noFaults, type Faults } from '../../ports/faults.ts';
import { readStatus, wireStatus, type Dialect } from './node-dialect.ts';

export type NodeStatus = 'active' | 'timeout' | 'disabled' | 'pending';
export const NODE_STATUSES: readonly NodeStatus[] = ['active', 'timeout', 'disabled', 'pending'];

export interface NodeLine {
  /** as written; IPv6 keeps its brackets */
  host: string;
  /** as written, '' when absent (Kamailio's `sip:h:;status=…` form) */
  port: string;
  /** lower-cased value of `;transport=`, null when absent */
  transport: string | null;
  /** null when the line has no status param (Kamailio then makes the node pending) */
  status: NodeStatus | null;
  /** other params in order, names lower-cased, values as written */
  params: Array<[string, string | null]>;
}

export interface NodeListInput {
  host: string;
  port: string | number;
  transport?: string | null;
  status: NodeStatus;
  /** written between transport and status; Kamailio parses and ignores unknown params (§2.2) */
  extraParams?: Array<[string, string | null]>;
}

export interface NodeListParse {
  nodes: NodeLine[];
  bad: Array<{ line: string; error: string }>;
}

export interface NodeListFormat {
  /** always safe for a 5.6.3 receiver; '' when no line was valid */
  body: string;
  skipped: Array<{ index: number; error: string }>;
}

const TRANSPORTS = new Set(['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss']);
/** params Kamailio's URI parser interprets itself: never written as extras */
const RESERVED = new Set(['transport', 'status', 'ttl', 'maddr', 'lr', 'r2', 'user', 'method', 'gr']);
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const PARAM_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const PARAM_VALUE = /^[A-Za-z0-9._~!*'+-]+$/;

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** Bare IPv6 text (no brackets), with optional trailing dotted IPv4; no zone id. */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | null => (h === '' ? [] : h.split(':'));
  const parts = halves.map(groups);
  if (parts.some((p) => p === null)) return false;
  const all = (parts as string[][]).flat();
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g.includes('.')) {
      if (i !== all.length - 1 || !isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** IPv4 literal or bracketed IPv6 literal, as a node URI host must be written. */
export function isIpLiteralHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1));
  return isIPv4(host);
}

function isPort(p: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(p) && Number(p) <= 65535;
}

/** Parse one line (without its line end). */
export function parseNodeLine(line: string): { ok: true; value: NodeLine } | { ok: false; error: string } {
  if (line.length === 0) return { ok: false, error: 'empty line' };
  if (/[\x00-\x20\x7f]/.test(line)) return { ok: false, error: 'whitespace or control character' };
  if (!line.startsWith('sip:')) return { ok: false, error: 'not a sip: URI' };
  const rest = line.slice(4);
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  const paramText = semi < 0 ? '' : rest.slice(semi + 1);
  if (hostport.includes('@')) return { ok: false, error: 'user part not allowed in a node URI' };
  let host: string;
  let portPart: string | null;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return { ok: false, error: 'unterminated IPv6 reference' };
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { ok: false, error: 'junk after IPv6 reference' };
    portPart = after === '' ? null : after.slice(1);
    if (!isIPv6(host.slice(1, -1))) return { ok: false, error: `bad IPv6 address ${host}` };
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portPart = colon < 0 ? null : hostport.slice(colon + 1);
    if (!HOSTNAME.test(host)) return { ok: false, error: `bad host "${host}"` };
  }
  const port = portPart ?? '';
  if (port !== '' && !isPort(port)) return { ok: false, error: `bad port "${port}"` };
  let transport: string | null = null;
  let status: NodeStatus | null = null;
  const params: Array<[string, string | null]> = [];
  if (semi >= 0) {
    for (const p of paramText.split(';')) {
      if (p === '') return { ok: false, error: 'empty parameter' };
      const eq = p.indexOf('=');
      const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? null : p.slice(eq + 1);
      if (name === '') return { ok: false, error: 'parameter without a name' };
      if (name === 'status') {
        // every version's statuses (5.6/6.0: active, disabled, timeout, pending; 6.1: not_active as timeout)
        const read = value === null ? null : readStatus(value);
        if (read === null) return { ok: false, error: `unknown status "${value ?? ''}"` };
        status = read;
      } else if (name === 'transport') {
        const t = (value ?? '').toLowerCase();
        if (!TRANSPORTS.has(t)) return { ok: false, error: `unknown transport "${value ?? ''}"` };
        transport = t;
      } else params.push([name, value]);
    }
  }
  return { ok: true, value: { host, port, transport, status, params } };
}

/** Split on LF, strip one trailing CR; a final empty segment (after the last line end) is fine. */
export function parseNodeList(body: string): NodeListParse {
  const out: NodeListParse = { nodes: [], bad: [] };
  if (typeof body !== 'string' || body.length === 0) return out;
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const r = parseNodeLine(line);
    if (r.ok) out.nodes.push(r.value);
    else out.bad.push({ line, error: r.error });
  }
  return out;
}

/** Render one line (without CRLF), or say why it cannot be written safely. */
export function formatNodeLine(n: NodeListInput, dialect: Dialect = '5.6'): { ok: true; value: string } | { ok: false; error: string } {
  if (n === null || typeof n !== 'object') return { ok: false, error: 'not a node' };
  let host = typeof n.host === 'string' ? n.host : '';
  if (isIPv6(host)) host = `[${host}]`;
  if (!isIpLiteralHost(host)) return { ok: false, error: `host "${host}" is not an IP literal` };
  const port = typeof n.port === 'number' ? String(n.port) : typeof n.port === 'string' ? n.port : '';
  if (!isPort(port)) return { ok: false, error: `port "${port}" is not an explicit port 1..65535` };
  if (!(NODE_STATUSES as readonly unknown[]).includes(n.status)) {
    return { ok: false, error: `status "${String(n.status)}" is not one of ${NODE_STATUSES.join('|')}` };
  }
  let line = `sip:${host}:${port}`;
  const t = n.transport ?? null;
  if (t !== null) {
    if (typeof t !== 'string' || !TRANSPORTS.has(t)) return { ok: false, error: `unknown transport "${String(t)}"` };
    if (t !== 'udp') line += `;transport=${t}`; // Kamailio writes it only for non-UDP (§2.2)
  }
  const extras: unknown = n.extraParams ?? [];
  if (!Array.isArray(extras)) return { ok: false, error: 'extraParams is not a list' };
  for (const p of extras as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2) return { ok: false, error: 'extra parameter is not a [name, value] pair' };
    const [name, value] = p as [unknown, unknown];
    if (typeof name !== 'string' || !PARAM_NAME.test(name) || RESERVED.has(name)) {
      return { ok: false, error: `parameter name "${String(name)}" not allowed` };
    }
    if (value !== null && (typeof value !== 'string' || !PARAM_VALUE.test(value))) {
      return { ok: false, error: `parameter value "${String(value)}" not allowed` };
    }
    line += value === null ? `;${name}` : `;${name}=${value}`;
  }
  return { ok: true, value: `${line};status=${wireStatus(n.status, dialect)}` };
}

/** Strict writer: every valid line followed by CRLF; invalid lines are skipped and reported. */
export function formatNodeList(lines: readonly NodeListInput[], faults: Faults = noFaults): NodeListFormat {
  const out: NodeListFormat = { body: '', skipped: [] };
  const written: string[] = [];
  lines.forEach((n, index) => {
    const r = formatNodeLine(n);
    if (r.ok) written.push(r.value);
    else out.skipped.push({ index, error: r.error });
  });
  out.body = joinNodeLines(written, faults);
  return out;
}

/** the body of lines already written by formatNodeLine: each followed by CRLF (what formatNodeList does) */
export function joinNodeLines(written: readonly string[], faults: Faults = noFaults): string {
  let body = '';
  for (const l of written) body += `${l}\r\n`;
  if (faults.has('node-list-no-crlf')) body = body.replace(/\r\n$/, ''); // planted fault, see src/ports/faults.ts
  return body;
}

/**
 * True when a 5.6.3 node can merge this body without error (and so without the lock-held freeze of
 * §2.2 / §8 #1). Conservative: the body must be empty or exactly what `formatNodeList` writes
 * (IP literals, explicit ports, known transport, a status, CRLF after every line); it refuses some
 * bodies Kamailio would survive (hostnames, no status, `;transport=udp`), never the reverse.
 */
export function isSafeNodeListBody(body: string): boolean {
  if (typeof body !== 'string') return false;
  if (body === '') return true;
  if (!body.endsWith('\r\n')) return false;
  return body
    .slice(0, -2)
    .split('\r\n')
    .every((line) => {
      const r = parseNodeLine(line);
      if (!r.ok || r.value.status === null) return false;
      const { host, port, transport, status, params } = r.value;
      const f = formatNodeLine({ host, port, transport, status, extraParams: params });
      return f.ok && f.value === line;
    });
}
