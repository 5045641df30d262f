// Capture file readers: classic pcap (µs and ns, either byte order) and pcapng (SHB, IDB with
// if_tsresol, EPB, SPB; other blocks skipped). Out: frames with time (ms), link type and bytes.
// Never throws: a bad or truncated file gives one error naming the record index and byte offset.

export interface Frame {
  /** ms since the epoch */
  t: number;
  link: number;
  data: Uint8Array;
  /** record index in the file (0-based), for error messages */
  index: number;
}

export type CaptureResult = { ok: true; frames: Frame[]; format: 'pcap' | 'pcapng' } | { ok: false; error: string };

export function readCapture(buf: Uint8Array): CaptureResult {
  if (buf.byteLength < 4) return { ok: false, error: `capture is too short (${buf.byteLength} bytes) to be pcap or pcapng` };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = dv.getUint32(0, false);
  if (m === 0x0a0d0d0a) return readPcapng(buf, dv);
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(m)) return readPcap(buf, dv);
  return { ok: false, error: `not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, '0')} at byte 0)` };
}

function readPcap(buf: Uint8Array, dv: DataView): CaptureResult {
  if (buf.byteLength < 24) return { ok: false, error: `pcap global header truncated (${buf.byteLength} of 24 bytes)` };
  const m = dv.getUint32(0, false);
  const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
  const nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
  const link = dv.getUint32(20, le) & 0x0fffffff;
  const frames: Frame[] = [];
  let off = 24;
  while (off < buf.byteLength) {
    const index = frames.length;
    if (off + 16 > buf.byteLength) return { ok: false, error: `pcap record ${index} at byte ${off}: header truncated (${buf.byteLength - off} of 16 bytes)` };
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (incl > 262_144) return { ok: false, error: `pcap record ${index} at byte ${off}: captured length ${incl} is implausible` };
    if (off + 16 + incl > buf.byteLength) return { ok: false, error: `pcap record ${index} at byte ${off}: data truncated (${buf.byteLength - off - 16} of ${incl} bytes)` };
    frames.push({ t: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), link, data: buf.subarray(off + 16, off + 16 + incl), index });
    off += 16 + incl;
  }
  return { ok: true, frames, format: 'pcap' };
}

interface Iface {
  link: number;
  /** ticks per second */
  res: number;
}

function readPcapng(buf: Uint8Array, dv: DataView): CaptureResult {
  const frames: Frame[] = [];
  let ifaces: Iface[] = [];
  let le = true;
  let off = 0;
  let block = 0;
  while (off < buf.byteLength) {
    const at = `pcapng block ${block} at byte ${off}`;
    if (off + 12 > buf.byteLength) return { ok: false, error: `${at}: block header truncated` };
    const type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else return { ok: false, error: `${at}: bad byte-order magic 0x${bom.toString(16)}` };
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0) return { ok: false, error: `${at}: bad block length ${len}` };
    if (off + len > buf.byteLength) return { ok: false, error: `${at}: block truncated (${buf.byteLength - off} of ${len} bytes)` };
    if (dv.getUint32(off + len - 4, le) !== len) return { ok: false, error: `${at}: trailing block length does not match ${len}` };
    const body = off + 8;
    if (type === 1) {
      if (len < 20) return { ok: false, error: `${at}: interface block too short` };
      ifaces.push({ link: dv.getUint16(body, le), res: tsresol(buf, dv, body + 8, off + len - 4, le) });
    } else if (type === 6 || type === 3) {
      const index = frames.length;
      const ifId = type === 6 ? dv.getUint32(body, le) : 0;
      const iface = ifaces[ifId];
      if (!iface) return { ok: false, error: `${at} (packet ${index}): interface ${ifId} was not described` };
      const hdr = type === 6 ? 20 : 4;
      if (len < 12 + hdr) return { ok: false, error: `${at} (packet ${index}): packet block too short` };
      const capLen = type === 6 ? dv.getUint32(body + 12, le) : Math.min(dv.getUint32(body, le), len - 16);
      if (body + hdr + capLen > off + len - 4) return { ok: false, error: `${at} (packet ${index}): captured length ${capLen} exceeds the block` };
      let t = 0;
      if (type === 6) {
        const ticks = dv.getUint32(body + 4, le) * 0x1_0000_0000 + dv.getUint32(body + 8, le);
        t = (ticks / iface.res) * 1000;
      }
      frames.push({ t, link: iface.link, data: buf.subarray(body + hdr, body + hdr + capLen), index });
    }
    off += len;
    block++;
  }
  return { ok: true, frames, format: 'pcapng' };
}

function tsresol(buf: Uint8Array, dv: DataView, from: number, to: number, le: boolean): number {
  let o = from;
  while (o + 4 <= to) {
    const code = dv.getUint16(o, le);
    const l = dv.getUint16(o + 2, le);
    if (code === 0) break;
    if (code === 9 && l >= 1) {
      const v = buf[o + 4];
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    o += 4 + ((l + 3) & ~3);
  }
  return 1e6;
}
