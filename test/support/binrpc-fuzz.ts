// Packets for fuzzing a BINRPC listener, from a seeded generator: random bytes, bytes behind a
// valid magic, valid requests for read-only methods, the same mutated (byte flips), truncated,
// with garbage or random value trees appended, and hand-made hostile ones (lengths past the
// packet, deep nesting, ints and doubles too long, a 4 GB length). expectedReplies() says how
// many replies a stream or a datagram of such packets gets, by running the real handler on a
// registry without methods (the answer's kind does not depend on the method). Test support only.
import { encodeBody, encodePacket, type BinrpcValue } from '../../src/control/binrpc/codec.ts';
import { answerBinrpc } from '../../src/control/binrpc/handler.ts';
import { createRegistry } from '../../src/control/rpc.ts';

/** xorshift32: deterministic from a seed, printed by the test */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** read-only calls (a mutated method name can only become an unknown one: the test counts calls) */
export const READ_CALLS: Array<[string, ...Array<string | number>]> = [
  ['dmq.list_nodes'], ['ul.dump'], ['ul.dump', 'brief'], ['ul.lookup', 'location', 'fuzz0'], ['htable.get', 't', 'k0'],
  ['htable.dump', 't'], ['htable.listTables'], ['htable.stats'], ['stats.get_statistics', 'all'], ['core.version'],
  ['core.uptime'], ['system.listMethods'], ['system.methodHelp', 'ul.dump'], ['no.such_method', 1, 'x'],
];

function randomValue(r: Rng, depth = 0): BinrpcValue {
  const k = r.int(depth > 3 ? 4 : 6);
  if (k === 0) return { t: 'int', v: r.next() | 0 };
  if (k === 1) return { t: 'str', v: String.fromCharCode(...r.bytes(r.int(20))) };
  if (k === 2) return { t: 'double', v: (r.next() | 0) / 1000 };
  if (k === 3) return { t: 'bytes', v: r.bytes(r.int(20)) };
  if (k === 4) return { t: 'array', v: Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1)) };
  return { t: 'struct', v: Array.from({ length: r.int(4) }, () => ({ name: r.int(3) ? `m${r.int(9)}` : null, value: randomValue(r, depth + 1) })) };
}

function validBody(r: Rng): BinrpcValue[] {
  const [m, ...p] = r.pick(READ_CALLS);
  return [{ t: 'str', v: m }, ...p.map((x): BinrpcValue => (typeof x === 'number' ? { t: 'int', v: x } : { t: 'str', v: x }))];
}

function valid(r: Rng): Uint8Array {
  return encodePacket({ type: 'request', cookie: r.next(), body: validBody(r) });
}

const HOSTILE: Uint8Array[] = [
  Uint8Array.from([0xa1, 0x0c, 0xff, 0xff, 0xff, 0xff, 0x01]), // a 4 GB body
  Uint8Array.from([0xa1, 0x00, 0x10, 0x01, 0xc1, 0x7f, 0xff, 0xff, 0xff]), // a string of 2 GB in a 16-byte body
  Uint8Array.from([0xa1, 0x00, 0x06, 0x01, 0x71, 0x61, 0x00, 0x50, 1, 2]), // an int of 5 bytes
  Uint8Array.from([0xa1, 0x00, 0x0b, 0x01, 0x21, 0x61, 0x00, 0xf2, 1, 2, 3, 4, 5, 6, 7]), // a double of 15 bytes
  Uint8Array.from([0xa1, 0x10, 0x00, 0x01, 0x00]), // a reply sent as a request
  Uint8Array.from([0xa1, 0x00, 0x01, 0x01, 0x25]), // an AVP at the top
  Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0xa5]), // a TLS hello
  Buffer.from('GET / HTTP/1.1\r\n\r\n'),
];

function deep(r: Rng): Uint8Array {
  const n = 65 + r.int(400);
  const body = new Uint8Array(n + 3);
  body.set([0x21, 0x61, 0x00]);
  body.fill(0x03, 3);
  return encodePacketRaw(body, r.next());
}

function encodePacketRaw(body: Uint8Array, cookie: number): Uint8Array {
  const len = body.length;
  const head = Uint8Array.from([0xa1, (0 << 4) | (1 << 2) | 3, len >> 8, len & 0xff, cookie >>> 24, (cookie >>> 16) & 0xff, (cookie >>> 8) & 0xff, cookie & 0xff]);
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** one fuzz packet; the kinds are weighted towards what gets past the header */
export function fuzzPacket(r: Rng): Uint8Array {
  const k = r.int(100);
  if (k < 25) return r.bytes(r.int(200));
  if (k < 35) return Uint8Array.from([0xa1, ...r.bytes(r.int(60))]);
  if (k < 50) return valid(r);
  if (k < 72) {
    const b = Uint8Array.from(valid(r));
    for (let i = 1 + r.int(6); i > 0; i--) b[r.int(b.length)] = r.next() & 0xff;
    return b;
  }
  if (k < 82) {
    const b = valid(r);
    return b.subarray(0, r.int(b.length));
  }
  if (k < 92) {
    const extra = r.int(2) ? r.bytes(1 + r.int(30)) : encodeBody([randomValue(r)]);
    return encodePacketRaw(new Uint8Array([...encodeBody(validBody(r)), ...extra]), r.next());
  }
  if (k < 96) return deep(r);
  return r.pick(HOSTILE);
}

const noMethods = createRegistry();
noMethods.methods.clear();

/** does a datagram of these bytes get a reply (one packet per datagram; a short one gets none) */
export async function datagramReplied(bytes: Uint8Array): Promise<boolean> {
  return (await answerBinrpc(noMethods, bytes)).kind === 'reply';
}

/** replies a server sends for these bytes written to one stream, and whether it then closes */
export async function expectedReplies(bytes: Uint8Array): Promise<{ replies: number; closes: boolean }> {
  let buf = bytes;
  let replies = 0;
  while (buf.length > 0) {
    const step = await answerBinrpc(noMethods, buf);
    if (step.kind === 'need') return { replies, closes: false };
    replies++;
    if (step.close) return { replies, closes: true };
    buf = buf.subarray(step.consumed);
  }
  return { replies, closes: false };
}
