// In-process authoritative DNS server on 127.0.0.1 (node:dgram + dns-packet) for resolver and
// discovery tests: A, AAAA, SRV with per-name TTL, NXDOMAIN for unknown names, NODATA with an SOA,
// forced rcodes, and modes that drop, garble or truncate answers. Never the machine's resolver.

import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { SrvRecord } from '../../src/ports/resolver.ts';

/** a record's data, or its data with its own TTL */
export type Rec<T> = T | { data: T; ttl: number };
export interface ZoneRecords {
  A?: Array<Rec<string>>;
  AAAA?: Array<Rec<string>>;
  SRV?: Array<Rec<SrvRecord>>;
  /** TTL of every record of this name, default 60 */
  ttl?: number;
  /** answer every query for this name with this rcode */
  rcode?: 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN';
}
export type Zones = Record<string, ZoneRecords>;
/** answer: normal; drop: never answer (timeouts); garbage: undecodable bytes; truncated: TC bit, no records;
 *  wrongId: an answer with another id (must be ignored) */
export type ServerMode = 'answer' | 'drop' | 'garbage' | 'truncated' | 'wrongId';

export interface DnsServer {
  port: number;
  address: string;
  /** every query received, in order */
  queries: Array<{ name: string; type: string }>;
  setZone(name: string, records: ZoneRecords | undefined): void;
  setMode(mode: ServerMode): void;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export interface DnsServerOptions {
  mode?: ServerMode;
  /** SOA TTL and minimum in negative answers (default 30) */
  negativeTtl?: number;
  /** put an SOA in negative answers (default true) */
  negativeSoa?: boolean;
}

function rec<T>(r: Rec<T>, ttl: number): { data: T; ttl: number } {
  return typeof r === 'object' && r !== null && 'ttl' in r && 'data' in r ? r : { data: r as T, ttl };
}

export async function startDnsServer(zones: Zones, opts: DnsServerOptions = {}): Promise<DnsServer> {
  const table = new Map<string, ZoneRecords>(Object.entries(zones).map(([k, v]) => [k.toLowerCase(), v]));
  let mode: ServerMode = opts.mode ?? 'answer';
  const negativeTtl = opts.negativeTtl ?? 30;
  const queries: DnsServer['queries'] = [];
  const socket = dgram.createSocket('udp4');

  const soa = (name: string): dnsPacket.Answer => ({
    type: 'SOA', name, ttl: negativeTtl, class: 'IN',
    data: { mname: 'ns.test', rname: 'admin.test', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: negativeTtl },
  });

  socket.on('message', (msg, rinfo) => {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    queries.push({ name: question.name, type: question.type });
    if (mode === 'drop') return;
    if (mode === 'garbage') {
      socket.send(Buffer.from([q.id! >> 8, q.id! & 0xff, 0x81, 0x80, 0, 1, 0, 9, 0xff]), rinfo.port, rinfo.address);
      return;
    }
    const zone = table.get(question.name.toLowerCase());
    const rcode: number = zone ? RCODE[zone.rcode ?? 'NOERROR'] : RCODE.NXDOMAIN;
    const ttl = zone?.ttl ?? 60;
    let answers: dnsPacket.Answer[] = [];
    if (zone && rcode === 0 && mode !== 'truncated') {
      const name = question.name;
      if (question.type === 'A') answers = (zone.A ?? []).map((r) => ({ type: 'A', name, ...rec(r, ttl) }));
      if (question.type === 'AAAA') answers = (zone.AAAA ?? []).map((r) => ({ type: 'AAAA', name, ...rec(r, ttl) }));
      if (question.type === 'SRV') answers = (zone.SRV ?? []).map((r) => ({ type: 'SRV', name, ...rec(r, ttl) }));
    }
    const flags =
      dnsPacket.AUTHORITATIVE_ANSWER | (mode === 'truncated' ? dnsPacket.TRUNCATED_RESPONSE : 0) | rcode;
    const negative = rcode === RCODE.NXDOMAIN || (rcode === 0 && answers.length === 0 && mode !== 'truncated');
    const reply = dnsPacket.encode({
      type: 'response',
      id: mode === 'wrongId' ? (q.id! + 1) & 0xffff : q.id,
      flags,
      questions: [question],
      answers,
      authorities: negative && opts.negativeSoa !== false ? [soa(question.name)] : [],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    port: socket.address().port,
    address: '127.0.0.1',
    queries,
    setZone(name, records) {
      if (records) table.set(name.toLowerCase(), records);
      else table.delete(name.toLowerCase());
    },
    setMode(m) {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
