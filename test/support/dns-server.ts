// In-process authoritative DNS server on 127.0.0.1 (node:dgram + dns-packet) for resolver and
// discovery tests: A, AAAA, SRV with per-name TTL, NXDOMAIN for unknown names, NODATA with an SOA,
// forced rcodes, and modes that drop, garble or truncate answers. Never the machine's resolver.

import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { SrvRecord } from '../../src/ports/resolver.ts';

export interface ZoneRecords {
  A?: string[];
  AAAA?: string[];
  SRV?: SrvRecord[];
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

export async function startDnsServer(zones: Zones, opts: { mode?: ServerMode; negativeTtl?: number } = {}): Promise<DnsServer> {
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
      if (question.type === 'A') answers = (zone.A ?? []).map((data) => ({ type: 'A', name, ttl, data }));
      if (question.type === 'AAAA') answers = (zone.AAAA ?? []).map((data) => ({ type: 'AAAA', name, ttl, data }));
      if (question.type === 'SRV') answers = (zone.SRV ?? []).map((data) => ({ type: 'SRV', name, ttl, data }));
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
      authorities: negative ? [soa(question.name)] : [],
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
