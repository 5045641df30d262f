// HEPv3 (the Homer encapsulation protocol) as Kamailio's siptrace writes it and sipcapture reads
// it: "HEP3", a 16-bit total length, then chunks {vendor u16, type u16, length u16 (chunk header
// included), data}, all in network byte order. Vendor 0 types: 1 IP family, 2 IP protocol,
// 3/4 IPv4 src/dst, 5/6 IPv6 src/dst, 7/8 ports, 9/10 time sec/usec, 11 protocol type (1 = SIP),
// 12 capture agent id, 14 auth key, 15 payload, 17 correlation id. Pure; decoding never throws.

import { v4, v6 } from './packet.ts';

export const HEP_AF_INET = 2;
export const HEP_AF_INET6 = 10;
export const HEP_PROTO_SIP = 1;
/** the largest HEP packet (its length field is 16 bits) */
export const HEP_MAX = 65_535;

export interface HepChunk {
  vendor: number;
  type: number;
  data: Uint8Array;
}

export interface HepPacket {
  /** 2 = AF_INET, 10 = AF_INET6 */
  family: number;
  /** IP protocol of the captured packet: 17 UDP, 6 TCP (Kamailio writes 22 for TLS, WS, WSS) */
  ipProto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  sec: number;
  usec: number;
  /** 1 = SIP */
  protoType: number;
  captureId: number;
  authKey?: string;
  correlationId?: string;
  payload: Uint8Array;
  /** chunks kdmq does not interpret (other vendors, VLAN, group id…), kept in order */
  extra?: HepChunk[];
}

export type HepDecoded = { ok: true; value: HepPacket } | { ok: false; error: string };

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: false });

/** an IP literal (IPv4 dotted, IPv6 with or without brackets) → its 4 or 16 bytes, or null */
export function ipToBytes(text: string): Uint8Array | null {
  const s = text.replace(/^\[(.*)\]$/, '$1');
  if (!s.includes(':')) {
    const p = s.split('.');
    if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return null;
    return new Uint8Array(p.map(Number));
  }
  let head = s;
  let tail4: Uint8Array | null = null;
  const last = s.slice(s.lastIndexOf(':') + 1);
  if (last.includes('.')) {
    tail4 = ipToBytes(last);
    if (!tail4) return null;
    head = s.slice(0, s.lastIndexOf(':') + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const part = (h: string) => (h === '' ? [] : h.split(':'));
  const a = part(halves[0]);
  const b = halves.length === 2 ? part(halves[1]) : [];
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...a, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...b];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  });
  if (tail4) out.set(tail4, 12);
  return out;
}

function chunk(vendor: number, type: number, data: Uint8Array): Uint8Array {
  const c = new Uint8Array(6 + data.length);
  const dv = new DataView(c.buffer);
  dv.setUint16(0, vendor);
  dv.setUint16(2, type);
  dv.setUint16(4, 6 + data.length);
  c.set(data, 6);
  return c;
}

function uint(bytes: 1 | 2 | 4, v: number): Uint8Array {
  const d = new Uint8Array(bytes);
  const dv = new DataView(d.buffer);
  if (bytes === 1) dv.setUint8(0, v);
  else if (bytes === 2) dv.setUint16(0, v);
  else dv.setUint32(0, v);
  return d;
}

/**
 * One HEPv3 packet, chunks in the order siptrace writes them; a string when it cannot be written
 * (addresses not of the family, a field out of range, more than 65 535 bytes).
 */
export function encodeHep(p: HepPacket): Uint8Array | string {
  const len = p.family === HEP_AF_INET ? 4 : p.family === HEP_AF_INET6 ? 16 : 0;
  if (len === 0) return `IP family ${p.family} is neither 2 (IPv4) nor 10 (IPv6)`;
  const src = ipToBytes(p.src);
  const dst = ipToBytes(p.dst);
  if (!src || src.length !== len || !dst || dst.length !== len) return `addresses ${p.src} and ${p.dst} are not both of IP family ${p.family}`;
  const fits = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  if (!fits(p.ipProto, 255) || !fits(p.protoType, 255) || !fits(p.sport, 65535) || !fits(p.dport, 65535)) return 'protocol or port out of range';
  if (!fits(p.sec, 0xffffffff) || !fits(p.usec, 0xffffffff) || !fits(p.captureId, 0xffffffff)) return 'time or capture id out of range';
  const v6 = len === 16;
  const parts = [
    chunk(0, 1, uint(1, p.family)),
    chunk(0, 2, uint(1, p.ipProto)),
    chunk(0, v6 ? 5 : 3, src),
    chunk(0, v6 ? 6 : 4, dst),
    chunk(0, 7, uint(2, p.sport)),
    chunk(0, 8, uint(2, p.dport)),
    chunk(0, 9, uint(4, p.sec)),
    chunk(0, 10, uint(4, p.usec)),
    chunk(0, 11, uint(1, p.protoType)),
    chunk(0, 12, uint(4, p.captureId)),
  ];
  if (p.correlationId) parts.push(chunk(0, 17, te.encode(p.correlationId)));
  if (p.authKey) parts.push(chunk(0, 14, te.encode(p.authKey)));
  parts.push(chunk(0, 15, p.payload));
  for (const x of p.extra ?? []) {
    if (!fits(x.vendor, 65535) || !fits(x.type, 65535)) return 'extra chunk id out of range';
    parts.push(chunk(x.vendor, x.type, x.data));
  }
  const total = 6 + parts.reduce((a, c) => a + c.length, 0);
  if (total > HEP_MAX) return `HEP packet of ${total} bytes is over ${HEP_MAX}`;
  const out = new Uint8Array(total);
  out.set([0x48, 0x45, 0x50, 0x33]); // "HEP3"
  new DataView(out.buffer).setUint16(4, total);
  let off = 6;
  for (const c of parts) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** does this datagram start as HEPv3 ("HEP3")? */
export function isHep3(d: Uint8Array): boolean {
  return d.length >= 4 && d[0] === 0x48 && d[1] === 0x45 && d[2] === 0x50 && d[3] === 0x33;
}

/** fixed data sizes of the vendor-0 chunks kdmq reads (strings and payload are free) */
const FIXED: Record<number, number> = { 1: 1, 2: 1, 3: 4, 4: 4, 5: 16, 6: 16, 7: 2, 8: 2, 9: 4, 10: 4, 11: 1, 12: 4 };
const NAMES: Record<number, string> = { 1: 'IP family', 2: 'IP protocol', 3: 'IPv4 source', 4: 'IPv4 destination', 5: 'IPv6 source', 6: 'IPv6 destination', 7: 'source port', 8: 'destination port', 9: 'time (s)', 10: 'time (µs)', 11: 'protocol type', 12: 'capture id', 14: 'auth key', 15: 'payload', 17: 'correlation id' };

/** One HEPv3 packet (the whole datagram); an error names the chunk and its byte offset. */
export function decodeHep(d: Uint8Array): HepDecoded {
  const bad = (error: string): HepDecoded => ({ ok: false, error });
  if (d.length < 6) return bad(`HEP packet too short (${d.length} bytes)`);
  if (!isHep3(d)) return bad('not HEPv3 (no "HEP3" at byte 0)');
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const total = dv.getUint16(4);
  if (total !== d.length) return bad(`HEP length field says ${total} bytes, the datagram has ${d.length}`);
  const seen = new Map<number, Uint8Array>();
  const extra: HepChunk[] = [];
  let off = 6;
  while (off < total) {
    if (off + 6 > total) return bad(`HEP chunk at byte ${off}: header truncated`);
    const vendor = dv.getUint16(off);
    const type = dv.getUint16(off + 2);
    const len = dv.getUint16(off + 4);
    if (len < 6 || off + len > total) return bad(`HEP chunk ${vendor}/${type} at byte ${off}: length ${len} does not fit`);
    const data = d.subarray(off + 6, off + len);
    if (vendor === 0 && (FIXED[type] !== undefined || NAMES[type] !== undefined)) {
      if (FIXED[type] !== undefined && data.length !== FIXED[type]) return bad(`HEP chunk ${NAMES[type]} at byte ${off}: ${data.length} data bytes, expected ${FIXED[type]}`);
      if (seen.has(type)) return bad(`HEP chunk ${NAMES[type]} at byte ${off}: given twice`);
      seen.set(type, data);
    } else if (vendor === 0 && type === 16) return bad(`HEP chunk at byte ${off}: compressed payload is not supported`);
    else extra.push({ vendor, type, data: data.slice() });
    off += len;
  }
  return fromChunks(seen, extra);
}

function fromChunks(seen: Map<number, Uint8Array>, extra: HepChunk[]): HepDecoded {
  const missing = (t: number): HepDecoded => ({ ok: false, error: `HEP packet has no ${NAMES[t]} chunk` });
  const num = (t: number): number | undefined => {
    const x = seen.get(t);
    if (!x) return undefined;
    const dv = new DataView(x.buffer, x.byteOffset, x.byteLength);
    return x.length === 1 ? x[0] : x.length === 2 ? dv.getUint16(0) : dv.getUint32(0);
  };
  const family = num(1);
  if (family === undefined) return missing(1);
  if (family !== HEP_AF_INET && family !== HEP_AF_INET6) return { ok: false, error: `HEP IP family ${family} is neither 2 (IPv4) nor 10 (IPv6)` };
  const [ts, td6] = family === HEP_AF_INET ? [3, 4] : [5, 6];
  const src = seen.get(ts);
  const dst = seen.get(td6);
  if (!src) return missing(ts);
  if (!dst) return missing(td6);
  const text = (b: Uint8Array) => (b.length === 4 ? v4(b, 0) : v6(b, 0));
  const payload = seen.get(15);
  if (!payload) return missing(15);
  for (const t of [2, 7, 8, 9, 10, 11, 12]) if (!seen.has(t)) return missing(t);
  const p: HepPacket = {
    family,
    ipProto: num(2)!,
    src: text(src),
    dst: text(dst),
    sport: num(7)!,
    dport: num(8)!,
    sec: num(9)!,
    usec: num(10)!,
    protoType: num(11)!,
    captureId: num(12)!,
    payload: payload.slice(),
  };
  if (seen.has(14)) p.authKey = td.decode(seen.get(14));
  if (seen.has(17)) p.correlationId = td.decode(seen.get(17));
  if (extra.length > 0) p.extra = extra;
  return { ok: true, value: p };
}

/** ms since the epoch (fraction = µs) of a packet's timestamp chunks */
export function hepTimeMs(p: HepPacket): number {
  return p.sec * 1000 + p.usec / 1000;
}

/** "ip:port" as the trace format writes endpoints */
export function hepEndpoints(p: HepPacket): [from: string, to: string] {
  const ep = (h: string, port: number) => (h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`);
  return [ep(p.src, p.sport), ep(p.dst, p.dport)];
}
