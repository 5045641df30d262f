// Link-layer and IP decoding for capture import: Ethernet (VLAN tags), Linux cooked SLL and SLL2,
// BSD null/loopback, raw IP; IPv4 and IPv6 (extension headers, fragment header); UDP. IP
// fragments are handed to reassembly.ts. Pure; returns null (with a reason) instead of throwing.

export interface IpPacket {
  v: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  payload: Uint8Array;
  /** set when this is a fragment: id, byte offset, more-fragments flag */
  frag?: { id: number; offset: number; more: boolean };
}

export const LINK = { NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, LOOP: 108, RAW4: 228, RAW6: 229, LINUX_SLL2: 276 } as const;

/** the IP packet inside a frame, or a string saying why there is none */
export function linkToIp(link: number, d: Uint8Array): Uint8Array | string {
  const u16 = (o: number) => (d[o] << 8) | d[o + 1];
  let off: number;
  let etype: number;
  switch (link) {
    case LINK.ETHERNET:
      if (d.length < 14) return 'short Ethernet frame';
      off = 12;
      etype = u16(off);
      off += 2;
      while ((etype === 0x8100 || etype === 0x88a8) && off + 4 <= d.length) {
        etype = u16(off + 2);
        off += 4;
      }
      break;
    case LINK.LINUX_SLL:
      if (d.length < 16) return 'short SLL header';
      etype = u16(14);
      off = 16;
      break;
    case LINK.LINUX_SLL2:
      if (d.length < 20) return 'short SLL2 header';
      etype = u16(0);
      off = 20;
      break;
    case LINK.NULL:
    case LINK.LOOP: {
      if (d.length < 4) return 'short loopback header';
      const fam = link === LINK.LOOP ? (d[0] << 24) | (d[1] << 16) | u16(2) : d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24);
      const f = fam === 2 || fam === 0x02000000 ? 4 : [24, 28, 30, 0x18000000, 0x1c000000, 0x1e000000].includes(fam) ? 6 : 0;
      if (!f) return `loopback family ${fam} is not IP`;
      return d.subarray(4);
    }
    case LINK.RAW:
    case LINK.RAW4:
    case LINK.RAW6:
      return d;
    default:
      return `link type ${link} is not supported`;
  }
  if (etype !== 0x0800 && etype !== 0x86dd) return `ethertype 0x${etype.toString(16)} is not IP`;
  return d.subarray(off);
}

export function v4(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

export function v6(d: Uint8Array, o: number): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((d[o + i] << 8) | d[o + i + 1]).toString(16));
  // compress the longest run of zero groups
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

export function parseIp(d: Uint8Array): IpPacket | string {
  if (d.length < 1) return 'empty IP packet';
  const ver = d[0] >> 4;
  if (ver === 4) {
    if (d.length < 20) return 'short IPv4 header';
    const ihl = (d[0] & 15) * 4;
    const total = (d[2] << 8) | d[3];
    if (ihl < 20 || total < ihl || d.length < ihl) return 'bad IPv4 header length';
    const end = Math.min(total, d.length);
    const flags = d[6] >> 5;
    const fo = (((d[6] & 0x1f) << 8) | d[7]) * 8;
    const more = (flags & 1) === 1;
    const p: IpPacket = { v: 4, src: v4(d, 12), dst: v4(d, 16), proto: d[9], payload: d.subarray(ihl, end) };
    if (more || fo > 0) p.frag = { id: (d[4] << 8) | d[5], offset: fo, more };
    return p;
  }
  if (ver === 6) {
    if (d.length < 40) return 'short IPv6 header';
    const plen = (d[4] << 8) | d[5];
    const end = Math.min(40 + plen, d.length);
    let next = d[6];
    let o = 40;
    let frag: IpPacket['frag'];
    // hop-by-hop, routing, destination options, fragment
    while ([0, 43, 60, 44].includes(next)) {
      if (o + 8 > end) return 'truncated IPv6 extension header';
      if (next === 44) {
        const fo = ((d[o + 2] << 8) | d[o + 3]) & 0xfff8;
        frag = { id: ((d[o + 4] << 24) | (d[o + 5] << 16) | (d[o + 6] << 8) | d[o + 7]) >>> 0, offset: fo, more: (d[o + 3] & 1) === 1 };
        next = d[o];
        o += 8;
      } else {
        const l = (d[o + 1] + 1) * 8;
        next = d[o];
        o += l;
      }
    }
    const p: IpPacket = { v: 6, src: v6(d, 8), dst: v6(d, 24), proto: next, payload: d.subarray(o, end) };
    if (frag && (frag.more || frag.offset > 0)) p.frag = frag;
    return p;
  }
  return `IP version ${ver}`;
}

export interface Udp {
  sport: number;
  dport: number;
  payload: Uint8Array;
}

export function parseUdp(d: Uint8Array): Udp | string {
  if (d.length < 8) return 'short UDP header';
  const len = (d[4] << 8) | d[5];
  const end = len >= 8 && len <= d.length ? len : d.length;
  return { sport: (d[0] << 8) | d[1], dport: (d[2] << 8) | d[3], payload: d.subarray(8, end) };
}
