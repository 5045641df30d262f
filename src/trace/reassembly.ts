// IP fragment reassembly (RFC 791 / RFC 8200 §4.5) for capture import: fragments are keyed by
// (version, src, dst, proto, id); a datagram is complete when the pieces cover 0..end and the last
// (more = false) has arrived. Incomplete ones are reported, never guessed.

import type { IpPacket } from './packet.ts';

interface Pending {
  pieces: Array<{ offset: number; data: Uint8Array }>;
  total: number | null;
  first: number;
}

export class Reassembler {
  private readonly pending = new Map<string, Pending>();

  /** a complete IP packet (unfragmented, or the last piece completing one), or null */
  push(p: IpPacket, frameIndex: number): IpPacket | null {
    if (!p.frag) return p;
    const key = `${p.v}|${p.src}|${p.dst}|${p.proto}|${p.frag.id}`;
    let e = this.pending.get(key);
    if (!e) this.pending.set(key, (e = { pieces: [], total: null, first: frameIndex }));
    e.pieces.push({ offset: p.frag.offset, data: p.payload });
    if (!p.frag.more) e.total = p.frag.offset + p.payload.length;
    if (e.total === null) return null;
    e.pieces.sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const x of e.pieces) {
      if (x.offset > covered) return null;
      covered = Math.max(covered, x.offset + x.data.length);
    }
    if (covered < e.total) return null;
    const out = new Uint8Array(e.total);
    for (const x of e.pieces) out.set(x.data.subarray(0, Math.max(0, Math.min(x.data.length, e.total - x.offset))), x.offset);
    this.pending.delete(key);
    return { v: p.v, src: p.src, dst: p.dst, proto: p.proto, payload: out };
  }

  /** fragments never completed: one line each, naming the first frame */
  incomplete(): string[] {
    return [...this.pending.entries()].map(([k, e]) => `incomplete IP datagram ${k} starting at frame ${e.first}`);
  }
}
