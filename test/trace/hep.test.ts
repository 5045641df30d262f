// HEPv3 codec: the bytes siptrace writes for one message (chunk order, sizes, network byte order),
// encode/decode round trips over random packets (IPv4, IPv6, auth key, correlation id, foreign
// chunks), and truncated, mutated or random datagrams refused with an error, never a throw.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeHep, encodeHep, hepEndpoints, hepTimeMs, ipToBytes, type HepPacket } from '../../src/trace/hep.ts';

const sip = new TextEncoder().encode('REGISTER sip:kdmq.test SIP/2.0\r\nCall-ID: a\r\n\r\n');
const base: HepPacket = {
  family: 2, ipProto: 17, src: '127.0.0.1', dst: '127.0.0.2', sport: 5060, dport: 9060,
  sec: 1_700_000_000, usec: 123_456, protoType: 1, captureId: 234, payload: sip,
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('HEPv3 codec', () => {
  it('writes the chunks siptrace writes, in its order, big-endian', () => {
    const b = encodeHep({ ...base, authKey: 'k' }) as Uint8Array;
    expect(b).toBeInstanceOf(Uint8Array);
    const c = (type: number, data: string) => '0000' + type.toString(16).padStart(4, '0') + (6 + data.length / 2).toString(16).padStart(4, '0') + data;
    const chunks = [
      c(1, '02'), c(2, '11'), c(3, '7f000001'), c(4, '7f000002'), c(7, '13c4'), c(8, '2364'),
      c(9, '6553f100'), c(10, '0001e240'), c(11, '01'), c(12, '000000ea'), c(14, '6b'), c(15, hex(sip)),
    ].join('');
    const expected = '48455033' + (6 + chunks.length / 2).toString(16).padStart(4, '0') + chunks;
    expect(hex(b)).toBe(expected);
  });

  it('decodes what it writes; time and endpoints as the trace writes them', () => {
    const d = decodeHep(encodeHep(base) as Uint8Array);
    expect(d).toEqual({ ok: true, value: base });
    if (!d.ok) return;
    expect(hepTimeMs(d.value)).toBe(1_700_000_000_123.456);
    expect(hepEndpoints(d.value)).toEqual(['127.0.0.1:5060', '127.0.0.2:9060']);
    const d6 = decodeHep(encodeHep({ ...base, family: 10, src: '::1', dst: 'fd00::7f00:b' }) as Uint8Array);
    expect(d6.ok && hepEndpoints(d6.value)).toEqual(['[::1]:5060', '[fd00::7f00:b]:9060']);
  });

  it('refuses what it cannot write', () => {
    expect(encodeHep({ ...base, family: 10 })).toMatch(/not both of IP family 10/);
    expect(encodeHep({ ...base, sport: 70000 })).toMatch(/out of range/);
    expect(encodeHep({ ...base, payload: new Uint8Array(65_500) })).toMatch(/over 65535/);
  });

  it('reads IP literals', () => {
    expect([...ipToBytes('10.0.0.1')!]).toEqual([10, 0, 0, 1]);
    expect(hex(ipToBytes('[2001:db8::1]')!)).toBe('20010db8000000000000000000000001');
    expect(hex(ipToBytes('::ffff:1.2.3.4')!)).toBe('00000000000000000000ffff01020304');
    for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', 'x::1', '1:2:3:4:5:6:7:8:9', 'host.example']) expect(ipToBytes(bad)).toBeNull();
  });

  const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const v6text = bytes16.map((b) => decodeHep(encodeHep({ ...base, family: 10, src: hexToV6(b), dst: '::' }) as Uint8Array)).map((d) => (d.ok ? d.value.src : '::'));
  const packet = fc.record({
    v6: fc.boolean(),
    a4: fc.ipV4(), b4: fc.ipV4(), a6: v6text, b6: v6text,
    ipProto: fc.integer({ min: 0, max: 255 }), protoType: fc.integer({ min: 0, max: 255 }),
    sport: fc.integer({ min: 0, max: 65535 }), dport: fc.integer({ min: 0, max: 65535 }),
    sec: fc.nat(), usec: fc.integer({ min: 0, max: 999_999 }), captureId: fc.nat(),
    authKey: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    correlationId: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 2000 }),
    extra: fc.option(fc.array(fc.record({ vendor: fc.integer({ min: 1, max: 65535 }), type: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 30 }) }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  }).map((r): HepPacket => {
    const p: HepPacket = {
      family: r.v6 ? 10 : 2, ipProto: r.ipProto, src: r.v6 ? r.a6 : r.a4, dst: r.v6 ? r.b6 : r.b4, sport: r.sport, dport: r.dport,
      sec: r.sec, usec: r.usec, protoType: r.protoType, captureId: r.captureId, payload: r.payload,
    };
    if (r.authKey !== undefined) p.authKey = r.authKey;
    if (r.correlationId !== undefined) p.correlationId = r.correlationId;
    if (r.extra !== undefined) p.extra = r.extra;
    return p;
  });

  it('round trip: decode(encode(p)) = p, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const b = encodeHep(p);
        expect(b).toBeInstanceOf(Uint8Array);
        const d = decodeHep(b as Uint8Array);
        expect(d).toEqual({ ok: true, value: p });
        if (d.ok) expect(hex(encodeHep(d.value) as Uint8Array)).toBe(hex(b as Uint8Array));
      }),
      { numRuns: 300 },
    );
  });

  it('every truncation of a packet is refused with a reason', () => {
    const b = encodeHep({ ...base, authKey: 'secret', correlationId: 'c' }) as Uint8Array;
    for (let n = 0; n < b.length; n++) {
      const d = decodeHep(b.subarray(0, n));
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toMatch(/HEP/);
    }
  });

  it('hostile packets (length fields, mutated bytes, random data) never throw', () => {
    fc.assert(
      fc.property(packet, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (p, muts) => {
        const b = (encodeHep(p) as Uint8Array).slice();
        for (const [i, v] of muts) b[i % b.length] = v;
        const d = decodeHep(b);
        if (d.ok) expect(d.value.payload.length).toBeLessThanOrEqual(b.length);
        else expect(typeof d.error).toBe('string');
      }),
      { numRuns: 2000 },
    );
    const pieces = [[0x48, 0x45, 0x50, 0x33, 0, 6], [0x48, 0x45, 0x50, 0x33, 0, 12, 0, 0, 0, 1, 0, 0], [0x48, 0x45, 0x50, 0x33, 0, 12, 0, 0, 0, 1, 0, 200]];
    for (const x of pieces) expect(decodeHep(new Uint8Array(x)).ok).toBe(false);
    expect(decodeHep(new Uint8Array([0x48, 0x45, 0x50, 0x33, 0, 6]))).toEqual({ ok: false, error: 'HEP packet has no IP family chunk' });
  });

  it('10^5 random datagrams behind "HEP3": each refused or decoded, none throws', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    const valid = encodeHep(base) as Uint8Array;
    let decoded = 0;
    for (let i = 0; i < 100_000; i++) {
      const b = i % 2 ? valid.slice() : new Uint8Array(6 + (rnd() % 120));
      if (i % 2) for (let k = 0; k < 1 + (i % 5); k++) b[rnd() % b.length] = rnd();
      else for (let k = 6; k < b.length; k++) b[k] = rnd() % 3 === 0 ? 0 : rnd();
      b.set([0x48, 0x45, 0x50, 0x33]);
      if (i % 2 === 0) new DataView(b.buffer).setUint16(4, b.length);
      if (decodeHep(b).ok) decoded++;
    }
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(100_000);
  });
});

function hexToV6(b: Uint8Array): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
  return g.join(':');
}
