// The kdmq trace format (specs/trace-format.md), version 1: JSON lines, a header then one record
// per line. Node traces hold the inputs at a node's ports (datagrams in, DNS answers, binds) and
// its outputs for comparison; cluster traces hold every datagram with from/to. Decoding never
// throws: a bad line gives one error naming the line number and byte offset.

import type { Endpoint } from '../transport/transport.ts';
import type { DnsAnswer } from '../ports/resolver.ts';

export const TRACE_FORMAT = 'kdmq-trace';
export const TRACE_VERSION = 1;

export interface TraceNode {
  /** short name (node1, …) */
  name: string;
  /** DMQ URI, sip:IP:PORT */
  id: string;
  /** endpoints (ip:port) that belong to the node: its DMQ and SIP sockets */
  endpoints: string[];
}

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  version: number;
  kind: 'node' | 'cluster';
  /** where it came from: "sim", "live", "pcap" */
  source: string;
  /** ms since the epoch (virtual time in the simulator) when recording started */
  start: number;
  /** node traces: the node's id, its validated config and its random seeds */
  node?: { id: string; config: Record<string, unknown>; seed: { node: string; app: string } };
  /** cluster traces: the nodes */
  nodes?: TraceNode[];
  /** rotation part (0 = first file) */
  part?: number;
}

export type TraceRecord =
  | { r: 'in'; t: number; local: string; remote: string; data: string }
  | { r: 'out'; t: number; local: string; remote: string; data: string }
  | { r: 'bind'; t: number; req: string; ep: string | null; error?: string }
  | { r: 'dns'; t: number; asked: number; q: 'a' | 'aaaa' | 'srv'; name: string; answer: DnsAnswer<unknown> }
  | { r: 'dgram'; t: number; from: string; to: string; data: string }
  | { r: 'end'; t: number };

/** sender and receiver endpoints of a datagram record (`dgram`, `in`, `out`); null for others */
export function recordEnds(r: TraceRecord): [from: string, to: string] | null {
  if (r.r === 'dgram') return [r.from, r.to];
  if (r.r === 'in') return [r.remote, r.local];
  if (r.r === 'out') return [r.local, r.remote];
  return null;
}

export interface Trace {
  header: TraceHeader;
  records: TraceRecord[];
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export function epText(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function parseEp(s: string): Endpoint | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return null;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

export const b64 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
export const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * A datagram record as the recorder makes it (recording-transport.ts): `data` is base64 by
 * construction and the endpoints come from epText, so encodeLine writes it with one template
 * instead of JSON.stringify, which scans the whole base64 text for characters to escape (about 8×
 * the cost; the recorder's largest share of the trace figure). Same bytes as JSON.stringify: the
 * fields are assigned in the record's order, and an endpoint that is not plain is left to it.
 */
export class DatagramRecord {
  constructor(
    readonly r: 'in' | 'out',
    readonly t: number,
    readonly local: string,
    readonly remote: string,
    readonly data: string,
  ) {}
}

/** endpoint text that needs no JSON escaping (IPv4, [IPv6], host names, ports) */
const PLAIN_EP = /^[0-9A-Za-z.:[\]%_-]*$/;

export function encodeLine(x: TraceHeader | TraceRecord): string {
  if (x instanceof DatagramRecord && Number.isFinite(x.t) && PLAIN_EP.test(x.local) && PLAIN_EP.test(x.remote)) {
    return `{"r":"${x.r}","t":${x.t},"local":"${x.local}","remote":"${x.remote}","data":"${x.data}"}\n`;
  }
  return JSON.stringify(x) + '\n';
}

export function encodeTrace(t: Trace): string {
  return encodeLine(t.header) + t.records.map(encodeLine).join('');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkHeader(h: Record<string, unknown>): string | null {
  if (h.format !== TRACE_FORMAT) return `not a kdmq trace (format is ${JSON.stringify(h.format)}, expected "${TRACE_FORMAT}")`;
  if (!isNum(h.version) || h.version < 1) return 'header: version must be a positive number';
  if (h.version > TRACE_VERSION) return `header: trace version ${h.version} is newer than this kdmq reads (${TRACE_VERSION})`;
  if (h.kind !== 'node' && h.kind !== 'cluster') return 'header: kind must be "node" or "cluster"';
  if (!isNum(h.start)) return 'header: start must be a number (ms)';
  if (h.kind === 'node') {
    const n = h.node as Record<string, unknown> | undefined;
    const seed = n?.seed as Record<string, unknown> | undefined;
    if (!n || !isStr(n.id) || typeof n.config !== 'object' || n.config === null || !seed || !isStr(seed.node) || !isStr(seed.app)) {
      return 'header: a node trace needs node.id, node.config and node.seed.{node,app}';
    }
  } else {
    const nodes = h.nodes;
    if (!Array.isArray(nodes) || !nodes.every((n) => n && isStr(n.name) && isStr(n.id) && Array.isArray(n.endpoints) && n.endpoints.every(isStr))) {
      return 'header: a cluster trace needs nodes: [{name, id, endpoints}]';
    }
  }
  return null;
}

function checkRecord(x: Record<string, unknown>): string | null {
  if (!isNum(x.t)) return 'field t (time, ms) must be a number';
  const ep = (k: string) => (isStr(x[k]) && parseEp(x[k] as string) ? null : `field ${k} must be an endpoint ip:port, got ${JSON.stringify(x[k])}`);
  const data = () => (isStr(x.data) && B64.test(x.data) ? null : 'field data must be base64');
  switch (x.r) {
    case 'in':
    case 'out':
      return ep('local') ?? ep('remote') ?? data();
    case 'dgram':
      return ep('from') ?? ep('to') ?? data();
    case 'bind':
      return ep('req') ?? (x.ep === null || (isStr(x.ep) && parseEp(x.ep)) ? null : 'field ep must be an endpoint or null');
    case 'dns': {
      if (x.q !== 'a' && x.q !== 'aaaa' && x.q !== 'srv') return 'field q must be a, aaaa or srv';
      if (!isStr(x.name) || !isNum(x.asked)) return 'fields name and asked are required';
      const a = x.answer as Record<string, unknown> | undefined;
      if (!a || typeof a.ok !== 'boolean' || (a.ok && !Array.isArray(a.records))) return 'field answer must be a DNS answer';
      return null;
    }
    case 'end':
      return null;
    default:
      return `unknown record type ${JSON.stringify(x.r)}`;
  }
}

/** decode a whole trace; errors name the line (1-based) and the byte offset of its start */
export function decodeTrace(input: string | Uint8Array): Decoded<Trace> {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  let header: TraceHeader | null = null;
  const records: TraceRecord[] = [];
  let offset = 0;
  let lineNo = 0;
  while (offset < text.length) {
    let nl = text.indexOf('\n', offset);
    const truncated = nl < 0;
    if (nl < 0) nl = text.length;
    const line = text.slice(offset, nl);
    const at = `trace line ${lineNo + 1} (byte ${Buffer.byteLength(text.slice(0, offset))})`;
    lineNo++;
    const start = offset;
    offset = nl + 1;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      const why = truncated ? 'truncated record (no end of line)' : `not JSON: ${(e as Error).message}`;
      return { ok: false, error: `${at}: ${why}` };
    }
    void start;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: `${at}: not a JSON object` };
    const o = v as Record<string, unknown>;
    if (!header) {
      const err = checkHeader(o);
      if (err) return { ok: false, error: `${at}: ${err}` };
      header = o as unknown as TraceHeader;
      continue;
    }
    if ('format' in o) continue; // a rotated file's header inside a concatenation: skip
    const err = checkRecord(o);
    if (err) return { ok: false, error: `${at}, record ${records.length}: ${err}` };
    records.push(o as unknown as TraceRecord);
  }
  if (!header) return { ok: false, error: 'trace is empty (no header line)' };
  return { ok: true, value: { header, records } };
}
