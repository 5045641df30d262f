// HEP mirroring (siptrace.*, docs/tracing.md): a Transport wrapper that copies every datagram in
// and out, as Kamailio's siptrace does with trace_mode (core events), to a HepOutlet: HEPv3 for
// bit 1, the plain datagram for bit 4. The copy is made and handed over on the SIP path; sending is
// the outlet's (bounded queue, drops of trace copies only, counted). No I/O here.

import type { SiptraceConfig } from '../config/types.ts';
import type { Datagram, Endpoint, Transport, TransportStats } from '../transport/transport.ts';
import type { HepOutlet, MirrorCounters } from '../transport/hep-outlet.ts';
import { encodeHep, HEP_AF_INET, HEP_AF_INET6, HEP_PROTO_SIP, ipToBytes } from './hep.ts';

export type { HepOutlet, MirrorCounters };

export const SIPTRACE_MODE_HEP = 1;
export const SIPTRACE_MODE_DB = 2;
export const SIPTRACE_MODE_URI = 4;

/** `sip:IP[:PORT][;transport=udp]` → the endpoint copies go to, or an error naming the key */
export function parseDuplicateUri(uri: string): Endpoint | string {
  const m = /^sip:(\[[^\]]+\]|[^:;\]]+)(?::(\d{1,5}))?(;transport=udp)?$/i.exec(uri.trim());
  const bad = `config key siptrace.duplicate_uri: expected sip:IP:PORT (IP literal, UDP), got ${JSON.stringify(uri)}`;
  if (!m) return bad;
  const ip = ipToBytes(m[1]);
  const port = m[2] === undefined ? 5060 : Number(m[2]);
  if (!ip || port < 1 || port > 65535) return bad;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** the siptrace keys checked before the node binds anything: an error line naming the key, or null */
export function siptraceConfigError(c: SiptraceConfig | undefined): string | null {
  if (!c) return null;
  if (c.hep_version !== 3) return `config key siptrace.hep_version: kdmq writes HEPv3 only, expected 3, got ${c.hep_version}`;
  if (c.trace_mode & SIPTRACE_MODE_DB) return `config key siptrace.trace_mode: bit 2 (store to a database) is not supported by kdmq, got ${c.trace_mode} (1 = HEP, 4 = plain copy)`;
  if (c.duplicate_uri !== undefined) {
    const d = parseDuplicateUri(c.duplicate_uri);
    if (typeof d === 'string') return d;
  } else if (c.trace_mode !== 0) return `config key siptrace.duplicate_uri: needed by siptrace.trace_mode ${c.trace_mode} (where the copies go)`;
  return null;
}

/** Kamailio's IP protocol numbers in HEP: 17 UDP, 6 TCP, 22 (IDP, its stand-in) for TLS */
const IP_PROTO = { udp: 17, tcp: 6, tls: 22 } as const;

export class HepMirrorTransport implements Transport {
  readonly counters: MirrorCounters = { copied: 0, dropped: 0, unencodable: 0, tracedRequests: 0, tracedReplies: 0 };
  /** siptrace.status on/off */
  enabled: boolean;

  constructor(
    private readonly inner: Transport,
    private readonly outlet: HepOutlet,
    private readonly o: { mode: number; captureId: number; authKey?: string; enabled: boolean; nowMs: () => number },
  ) {
    this.enabled = o.enabled;
  }

  get stats(): TransportStats {
    return this.inner.stats;
  }

  bind(local: Endpoint): Promise<Endpoint> {
    return this.inner.bind(local);
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    this.inner.send(from, to, data);
    if (this.enabled) this.copy(from, to, data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.inner.onDatagram((d) => {
      if (this.enabled) this.copy(d.remote, d.local, d.data);
      handler(d);
    });
  }

  endpoints(): Endpoint[] {
    return this.inner.endpoints();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private copy(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    if (data.length >= 8 && data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f) this.counters.tracedReplies++; // "SIP/"
    else this.counters.tracedRequests++;
    if (this.o.mode & SIPTRACE_MODE_HEP) this.hand(this.hep(from, to, data));
    if (this.o.mode & SIPTRACE_MODE_URI) this.hand(data.slice());
  }

  private hep(from: Endpoint, to: Endpoint, data: Uint8Array): Uint8Array | string {
    const ms = this.o.nowMs();
    const sec = Math.floor(ms / 1000);
    const usec = Math.min(999_999, Math.round((ms - sec * 1000) * 1000));
    const v6 = from.host.includes(':');
    return encodeHep({
      family: v6 ? HEP_AF_INET6 : HEP_AF_INET,
      ipProto: IP_PROTO[from.proto ?? 'udp'],
      src: from.host,
      dst: to.host,
      sport: from.port,
      dport: to.port,
      sec,
      usec,
      protoType: HEP_PROTO_SIP,
      captureId: this.o.captureId,
      authKey: this.o.authKey,
      payload: data,
    });
  }

  private hand(p: Uint8Array | string): void {
    if (typeof p === 'string') {
      this.counters.unencodable++;
      return;
    }
    if (this.outlet.push(p)) this.counters.copied++;
    else this.counters.dropped++;
  }
}
