// `kdmq trace export`: a trace → a classic pcap (µs) or a pcapng (SHB, IDB, EPBs) tshark reads. Link type Ethernet or Linux
// SLL; IPv4 or IPv6 + UDP with correct lengths and checksums. Node traces export their in and out
// datagrams; large datagrams are written as one IP packet (no fragmentation, snaplen 262144).

import { parseEp, recordEnds, unb64, type Trace } from './format.ts';

export type ExportLink = 'ethernet' | 'sll';

function ipBytes(host: string): Uint8Array {
  if (!host.includes(':')) return new Uint8Array(host.split('.').map(Number));
  const [a, b = ''] = host.split('::');
  const pa = a ? a.split(':') : [];
  const pb = host.includes('::') ? (b ? b.split(':') : []) : [];
  const groups = [...pa, ...Array(8 - pa.length - pb.length).fill('0'), ...pb];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g || '0', 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  });
  return out;
}

function sum16(parts: Uint8Array[], init = 0): number {
  let s = init;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) s += (p[i] << 8) | (i + 1 < p.length ? p[i + 1] : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function packet(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, payload: Uint8Array, id: number): Uint8Array {
  const v6 = src.length === 16;
  const udpLen = 8 + payload.length;
  const udp = new Uint8Array(udpLen);
  const dv = new DataView(udp.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, udpLen & 0xffff);
  udp.set(payload, 8);
  const pseudo = new Uint8Array(v6 ? 40 : 12);
  pseudo.set(src, 0);
  pseudo.set(dst, src.length);
  if (v6) new DataView(pseudo.buffer).setUint32(32, udpLen), (pseudo[39] = 17);
  else (pseudo[9] = 17), new DataView(pseudo.buffer).setUint16(10, udpLen & 0xffff);
  const ck = 0xffff - sum16([pseudo, udp]);
  dv.setUint16(6, ck === 0 ? 0xffff : ck);
  const hdr = new Uint8Array(v6 ? 40 : 20);
  const h = new DataView(hdr.buffer);
  if (v6) {
    hdr[0] = 0x60;
    h.setUint16(4, udpLen & 0xffff);
    hdr[6] = 17;
    hdr[7] = 64;
    hdr.set(src, 8);
    hdr.set(dst, 24);
  } else {
    hdr[0] = 0x45;
    h.setUint16(2, (20 + udpLen) & 0xffff);
    h.setUint16(4, id & 0xffff);
    hdr[6] = 0x40; // DF
    hdr[8] = 64;
    hdr[9] = 17;
    hdr.set(src, 12);
    hdr.set(dst, 16);
    h.setUint16(10, 0xffff - sum16([hdr]));
  }
  const out = new Uint8Array(hdr.length + udpLen);
  out.set(hdr);
  out.set(udp, hdr.length);
  return out;
}

function linkHeader(link: ExportLink, v6: boolean): Uint8Array {
  const etype = v6 ? 0x86dd : 0x0800;
  if (link === 'ethernet') {
    const e = new Uint8Array(14);
    e[11] = 1; // src MAC 00:..:01, dst 00:..:00
    e[12] = etype >> 8;
    e[13] = etype & 255;
    return e;
  }
  const s = new Uint8Array(16);
  s[1] = 0; // packet type: to us
  s[3] = 772; // ARPHRD_LOOPBACK (low byte)
  s[2] = 772 >> 8;
  s[5] = 6;
  s[14] = etype >> 8;
  s[15] = etype & 255;
  return s;
}

export type ExportFormat = 'pcap' | 'pcapng';

/** the trace's datagrams as link-layer frames (time in ms) */
function frames(trace: Trace, link: ExportLink): Array<{ t: number; data: Uint8Array }> {
  const out: Array<{ t: number; data: Uint8Array }> = [];
  let id = 1;
  for (const r of trace.records) {
    const ends = recordEnds(r);
    if (!ends || !('data' in r)) continue;
    const [from, to] = ends;
    const a = parseEp(from)!;
    const b = parseEp(to)!;
    const src = ipBytes(a.host);
    const dst = ipBytes(b.host);
    if (src.length !== dst.length) continue;
    const ip = packet(src, dst, a.port, b.port, unb64(r.data), id++);
    const lh = linkHeader(link, src.length === 16);
    const f = new Uint8Array(lh.length + ip.length);
    f.set(lh);
    f.set(ip, lh.length);
    out.push({ t: r.t, data: f });
  }
  return out;
}

const linkType = (link: ExportLink) => (link === 'ethernet' ? 1 : 113);

export function exportPcap(trace: Trace, link: ExportLink = 'ethernet'): Uint8Array {
  const chunks: Uint8Array[] = [];
  const g = new DataView(new ArrayBuffer(24));
  g.setUint32(0, 0xa1b2c3d4, true);
  g.setUint16(4, 2, true);
  g.setUint16(6, 4, true);
  g.setUint32(16, 262_144, true);
  g.setUint32(20, linkType(link), true);
  chunks.push(new Uint8Array(g.buffer));
  for (const f of frames(trace, link)) {
    const rec = new DataView(new ArrayBuffer(16));
    const us = Math.round(f.t * 1000);
    rec.setUint32(0, Math.floor(us / 1e6), true);
    rec.setUint32(4, us % 1e6, true);
    rec.setUint32(8, f.data.length, true);
    rec.setUint32(12, f.data.length, true);
    chunks.push(new Uint8Array(rec.buffer), f.data);
  }
  return Buffer.concat(chunks);
}

/** pcapng: one section (SHB), one interface (IDB, µs timestamps), one EPB per datagram */
export function exportPcapng(trace: Trace, link: ExportLink = 'ethernet'): Uint8Array {
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const len = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true);
    dv.setUint32(4, len, true);
    b.set(body, 8);
    dv.setUint32(len - 4, len, true);
    return b;
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, true);
  shb.setUint16(4, 1, true);
  shb.setUint16(6, 0, true);
  shb.setBigInt64(8, -1n, true); // section length not given
  const idb = new DataView(new ArrayBuffer(20));
  idb.setUint16(0, linkType(link), true);
  idb.setUint32(4, 262_144, true);
  idb.setUint16(8, 9, true); // if_tsresol: 10^-6 s
  idb.setUint16(10, 1, true);
  idb.setUint8(12, 6);
  // bytes 16..19: opt_endofopt (0, 0)
  const chunks = [block(0x0a0d0d0a, new Uint8Array(shb.buffer)), block(1, new Uint8Array(idb.buffer))];
  for (const f of frames(trace, link)) {
    const body = new Uint8Array(20 + f.data.length);
    const dv = new DataView(body.buffer);
    const us = Math.round(f.t * 1000);
    dv.setUint32(4, Math.floor(us / 0x1_0000_0000), true);
    dv.setUint32(8, us % 0x1_0000_0000, true);
    dv.setUint32(12, f.data.length, true);
    dv.setUint32(16, f.data.length, true);
    body.set(f.data, 20);
    chunks.push(block(6, body));
  }
  return Buffer.concat(chunks);
}

export function exportCapture(trace: Trace, o: { link?: ExportLink; format?: ExportFormat } = {}): Uint8Array {
  return o.format === 'pcapng' ? exportPcapng(trace, o.link) : exportPcap(trace, o.link);
}
