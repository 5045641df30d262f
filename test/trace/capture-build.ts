// Test helper: builds captures the fixtures do not have — pcapng, SLL2, BSD loopback, IPv6,
// fragmented IPv4 and IPv6 — from a trace, via exportPcap and re-wrapping its IP packets.

import { exportPcap } from '../../src/trace/export.ts';
import { readCapture } from '../../src/trace/pcap.ts';
import { linkToIp } from '../../src/trace/packet.ts';
import type { Trace } from '../../src/trace/format.ts';

export function ipPackets(trace: Trace): Array<{ t: number; ip: Uint8Array }> {
  const cap = readCapture(exportPcap(trace, 'ethernet'));
  if (!cap.ok) throw new Error(cap.error);
  return cap.frames.map((f) => ({ t: f.t, ip: linkToIp(f.link, f.data) as Uint8Array }));
}

/** split an IPv4 packet into fragments of at most `size` payload bytes (multiple of 8) */
export function fragment4(ip: Uint8Array, size: number, id: number): Uint8Array[] {
  const payload = ip.subarray(20);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const piece = payload.subarray(off, off + size);
    const p = new Uint8Array(20 + piece.length);
    p.set(ip.subarray(0, 20));
    const dv = new DataView(p.buffer);
    dv.setUint16(2, p.length);
    dv.setUint16(4, id);
    const more = off + size < payload.length ? 0x2000 : 0;
    dv.setUint16(6, more | (off / 8));
    p.set(piece, 20);
    out.push(p);
  }
  return out;
}

/** an IPv6 version of an IPv4 UDP packet (::ffff-free: fd00::a.b.c.d), optionally fragmented */
export function toIpv6(ip4: Uint8Array, fragSize = 0, id = 7): Uint8Array[] {
  const udp = new Uint8Array(ip4.subarray(20));
  udp[6] = 0; // checksum 0: the importer does not verify
  udp[7] = 0;
  const addr = (o: number) => {
    const a = new Uint8Array(16);
    a[0] = 0xfd;
    a.set(ip4.subarray(o, o + 4), 12);
    return a;
  };
  const hdr = (plen: number, next: number) => {
    const h = new Uint8Array(40);
    h[0] = 0x60;
    new DataView(h.buffer).setUint16(4, plen);
    h[6] = next;
    h[7] = 64;
    h.set(addr(12), 8);
    h.set(addr(16), 24);
    return h;
  };
  if (!fragSize) return [Buffer.concat([hdr(udp.length, 17), udp])];
  const out: Uint8Array[] = [];
  for (let off = 0; off < udp.length; off += fragSize) {
    const piece = udp.subarray(off, off + fragSize);
    const fh = new Uint8Array(8);
    fh[0] = 17;
    new DataView(fh.buffer).setUint16(2, off | (off + fragSize < udp.length ? 1 : 0));
    new DataView(fh.buffer).setUint32(4, id);
    out.push(Buffer.concat([hdr(8 + piece.length, 44), fh, piece]));
  }
  return out;
}

export function sll2(ip: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = ip[0] >> 4 === 6 ? 0x86 : 0x08;
  h[1] = ip[0] >> 4 === 6 ? 0xdd : 0x00;
  return Buffer.concat([h, ip]);
}

export function nullLink(ip: Uint8Array): Uint8Array {
  const h = new Uint8Array([ip[0] >> 4 === 6 ? 30 : 2, 0, 0, 0]);
  return Buffer.concat([h, ip]);
}

/** a little-endian pcapng with one interface (µs resolution) */
export function pcapng(link: number, frames: Array<{ t: number; data: Uint8Array }>): Uint8Array {
  const block = (type: number, body: Uint8Array) => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true);
    dv.setUint32(4, len, true);
    b.set(body, 8);
    dv.setUint32(len - 4, len, true);
    return b;
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, link, true);
  new DataView(idb.buffer).setUint32(4, 262144, true);
  const parts = [block(0x0a0d0d0a, shb), block(1, idb)];
  for (const f of frames) {
    const body = new Uint8Array(20 + f.data.length);
    const dv = new DataView(body.buffer);
    const us = BigInt(Math.round(f.t * 1000));
    dv.setUint32(4, Number(us >> 32n), true);
    dv.setUint32(8, Number(us & 0xffffffffn), true);
    dv.setUint32(12, f.data.length, true);
    dv.setUint32(16, f.data.length, true);
    body.set(f.data, 20);
    parts.push(block(6, body));
  }
  return Buffer.concat(parts);
}
