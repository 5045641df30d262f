// BINRPC, the wire format of Kamailio's ctl module (kamcmd, kamailio_exporter): packet header
// (magic 0xA, version 1, type, length and cookie on 1–4 bytes each) and the records (int, str,
// double as fixed point ×1000, bytes, struct of name/value pairs, array). Pure: bytes in, values
// out; decoding never throws (a truncated, oversized or hostile packet is a value). Layout read
// from Kamailio 5.6.3 src/modules/ctl/binrpc.h; docs/rpc.md "BINRPC" describes it.

export const BINRPC_MAGIC_VERS = 0xa1;
export const T_INT = 0, T_STR = 1, T_DOUBLE = 2, T_STRUCT = 3, T_ARRAY = 4, T_AVP = 5, T_BYTES = 6;
export type PacketType = 'request' | 'reply' | 'fault';
const TYPE_CODE: Record<PacketType, number> = { request: 0, reply: 1, fault: 3 };

export type BinrpcValue =
  | { t: 'int'; v: number } // a C int: -2^31 … 2^31-1
  | { t: 'str'; v: string }
  | { t: 'double'; v: number } // carried as a 64-bit integer of thousandths
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'struct'; v: BinrpcMember[] }
  | { t: 'array'; v: BinrpcValue[] };
/** a struct member: named (an AVP) or, as Kamailio's array_add writes into a struct, anonymous */
export interface BinrpcMember {
  name: string | null;
  value: BinrpcValue;
}
export interface BinrpcPacket {
  type: PacketType;
  cookie: number;
  body: BinrpcValue[];
}

/** Kamailio's binrpc_error() texts, which its faults quote ("bad request: corrupted packet") */
export const E = {
  badPacket: 'corrupted packet',
  moreData: 'more data needed',
  endOfPacket: 'end of packet encountered',
  type: "record doesn't match type",
  record: 'bad record',
} as const;

export type HeaderResult =
  | { ok: true; type: PacketType; cookie: number; headerLen: number; bodyLen: number }
  | { ok: false; need: number } // not enough bytes yet (at least `need` more)
  | { ok: false; error: string };

export type DecodeResult = { ok: true; packet: BinrpcPacket; size: number } | { ok: false; need: number } | { ok: false; error: string };

/** deepest struct/array nesting accepted (Kamailio's replies nest 7 levels at most) */
export const MAX_DEPTH = 64;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

/** reads the header: its length, the packet type and cookie, and the body length it announces */
export function readHeader(buf: Uint8Array): HeaderResult {
  if (buf.length < 4) return { ok: false, need: 4 - buf.length };
  if (buf[0] !== BINRPC_MAGIC_VERS) return { ok: false, error: E.badPacket };
  const code = buf[1] >> 4;
  const type: PacketType | undefined = code === 0 ? 'request' : code === 1 ? 'reply' : code === 3 ? 'fault' : undefined;
  if (!type) return { ok: false, error: E.badPacket };
  const lenLen = ((buf[1] >> 2) & 3) + 1;
  const cookieLen = (buf[1] & 3) + 1;
  const headerLen = 2 + lenLen + cookieLen;
  if (buf.length < headerLen) return { ok: false, need: headerLen - buf.length };
  return { ok: true, type, bodyLen: readUint(buf, 2, lenLen), cookie: readUint(buf, 2 + lenLen, cookieLen), headerLen };
}

function readUint(b: Uint8Array, at: number, n: number): number {
  let u = 0;
  for (let i = 0; i < n; i++) u = u * 256 + b[at + i];
  return u;
}

/** decodes one whole packet from the start of `buf` (extra bytes after it are left: `size` says where it ends) */
export function decodePacket(buf: Uint8Array): DecodeResult {
  const h = readHeader(buf);
  if (!h.ok) return h;
  const size = h.headerLen + h.bodyLen;
  if (buf.length < size) return { ok: false, need: size - buf.length };
  const body = decodeBody(buf.subarray(h.headerLen, size));
  return body.ok ? { ok: true, packet: { type: h.type, cookie: h.cookie, body: body.values }, size } : body;
}

/** the records of a packet body */
export function decodeBody(b: Uint8Array): { ok: true; values: BinrpcValue[] } | { ok: false; error: string } {
  const r = new Reader(b);
  const values: BinrpcValue[] = [];
  while (r.pos < b.length) {
    const v = r.value(0);
    if (typeof v === 'string') return { ok: false, error: v };
    if (v === END) return { ok: false, error: E.record };
    values.push(v);
  }
  return { ok: true, values };
}

const END = Symbol('end');
type Read = BinrpcValue | typeof END | string; // a string is an error text

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  /** one record: its type nibble, and its size or (flag 8) the byte count of an explicit length */
  private head(): { type: number; len: number; flagged: boolean } | string {
    if (this.pos >= this.b.length) return E.endOfPacket;
    const x = this.b[this.pos++];
    const type = x & 0xf;
    let len = x >> 4;
    const flagged = type !== T_DOUBLE && (len & 8) !== 0;
    if (flagged) {
      const n = len & 7;
      if (n > 4) return E.record;
      if (this.pos + n > this.b.length) return E.moreData;
      len = readUint(this.b, this.pos, n);
      this.pos += n;
    }
    if (this.pos + (type === T_STRUCT || type === T_ARRAY ? 0 : len) > this.b.length) return E.moreData;
    return { type, len, flagged };
  }

  value(depth: number): Read {
    const h = this.head();
    if (typeof h === 'string') return h;
    return this.body(h.type, h.len, h.flagged, depth);
  }

  private body(type: number, len: number, flagged: boolean, depth: number): Read {
    const b = this.b;
    switch (type) {
      case T_INT: {
        if (len > 4) return E.record;
        const u = readUint(b, this.pos, len);
        this.pos += len;
        return { t: 'int', v: len === 4 ? u | 0 : u };
      }
      case T_DOUBLE: {
        if (len > 8) return E.record;
        let u = 0n;
        for (let i = 0; i < len; i++) u = (u << 8n) | BigInt(b[this.pos + i]);
        this.pos += len;
        return { t: 'double', v: Number(len === 8 ? BigInt.asIntN(64, u) : u) / 1000 };
      }
      case T_STR:
      case T_BYTES: {
        const zero = type === T_STR ? 1 : 0;
        if (len < zero) return E.record;
        const s = b.subarray(this.pos, this.pos + len - zero);
        this.pos += len;
        return type === T_STR ? { t: 'str', v: fromUtf8.decode(s) } : { t: 'bytes', v: s.slice() };
      }
      case T_STRUCT:
      case T_ARRAY:
        if (flagged) return END;
        if (depth >= MAX_DEPTH) return E.record;
        return type === T_STRUCT ? this.struct(depth + 1) : this.array(depth + 1);
      default: // an AVP outside a struct, or an unknown type
        return E.type;
    }
  }

  private array(depth: number): Read {
    const items: BinrpcValue[] = [];
    for (;;) {
      const v = this.value(depth);
      if (typeof v === 'string') return v;
      if (v === END) return { t: 'array', v: items };
      items.push(v);
    }
  }

  private struct(depth: number): Read {
    const members: BinrpcMember[] = [];
    for (;;) {
      const h = this.head();
      if (typeof h === 'string') return h;
      if (h.type === T_AVP) {
        if (h.len < 1) return E.record;
        const name = fromUtf8.decode(this.b.subarray(this.pos, this.pos + h.len - 1));
        this.pos += h.len;
        const v = this.value(depth);
        if (typeof v === 'string') return v;
        if (v === END) return E.record;
        members.push({ name, value: v });
        continue;
      }
      const v = this.body(h.type, h.len, h.flagged, depth);
      if (typeof v === 'string') return v;
      if (v === END) return h.type === T_STRUCT ? { t: 'struct', v: members } : E.record;
      members.push({ name: null, value: v });
    }
  }
}

// ---- encoding (total: any value encodes; out-of-range numbers are clamped as documented) ----

class Writer {
  private buf = new Uint8Array(256);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(x: number): void {
    this.room(1);
    this.buf[this.len++] = x;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** big-endian bytes of an unsigned value, minimal (0 → none) */
function minimal(u: bigint): number[] {
  const out: number[] = [];
  for (let x = u; x > 0n; x >>= 8n) out.unshift(Number(x & 0xffn));
  return out;
}

function writeNumber(w: Writer, type: number, u: bigint): void {
  const bs = minimal(u);
  w.byte((bs.length << 4) | type);
  for (const x of bs) w.byte(x);
}

function writeSized(w: Writer, type: number, content: Uint8Array, zero: boolean): void {
  const l = content.length + (zero ? 1 : 0);
  if (l < 8) w.byte((l << 4) | type);
  else {
    const ls = minimal(BigInt(l));
    w.byte(((8 | ls.length) << 4) | type);
    for (const x of ls) w.byte(x);
  }
  w.bytes(content);
  if (zero) w.byte(0);
}

const INT64_MAX = 2n ** 63n - 1n;

function writeValue(w: Writer, v: BinrpcValue): void {
  switch (v.t) {
    case 'int':
      return writeNumber(w, T_INT, BigInt(Number.isInteger(v.v) ? v.v >>> 0 : 0));
    case 'double': {
      const m = Math.round(v.v * 1000); // NaN → 0, beyond ±2^63 thousandths → the end of the range
      const k = Number.isNaN(m) ? 0n : m >= 2 ** 63 ? INT64_MAX : m <= -(2 ** 63) ? -INT64_MAX - 1n : BigInt(m);
      return writeNumber(w, T_DOUBLE, BigInt.asUintN(64, k));
    }
    case 'str':
      return writeSized(w, T_STR, utf8.encode(v.v), true);
    case 'bytes':
      return writeSized(w, T_BYTES, v.v, false);
    case 'array':
      w.byte(T_ARRAY);
      for (const x of v.v) writeValue(w, x);
      return w.byte(0x80 | T_ARRAY);
    case 'struct':
      w.byte(T_STRUCT);
      for (const m of v.v) {
        if (m.name !== null) writeSized(w, T_AVP, utf8.encode(m.name), true);
        writeValue(w, m.value);
      }
      return w.byte(0x80 | T_STRUCT);
  }
}

export function encodeBody(values: BinrpcValue[]): Uint8Array {
  const w = new Writer();
  for (const v of values) writeValue(w, v);
  return w.done();
}

/** header + body; length and cookie on as few bytes as they need (as Kamailio writes them) */
export function encodePacket(p: BinrpcPacket): Uint8Array {
  const body = encodeBody(p.body);
  const ls = minimal(BigInt(body.length));
  const cs = minimal(BigInt(p.cookie >>> 0));
  if (ls.length === 0) ls.push(0);
  if (cs.length === 0) cs.push(0);
  const out = new Uint8Array(2 + ls.length + cs.length + body.length);
  out[0] = BINRPC_MAGIC_VERS;
  out[1] = (TYPE_CODE[p.type] << 4) | ((ls.length - 1) << 2) | (cs.length - 1);
  out.set(ls, 2);
  out.set(cs, 2 + ls.length);
  out.set(body, 2 + ls.length + cs.length);
  return out;
}

/** a fault body as Kamailio sends it: the code as an int, then the message */
export function faultPacket(cookie: number, code: number, message: string): BinrpcPacket {
  return { type: 'fault', cookie, body: [{ t: 'int', v: code | 0 }, { t: 'str', v: message }] };
}
