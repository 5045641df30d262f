// The monitor's INV-07 memo (the last node-list body per sender and message kind) and its
// blank-line search give what the plain check of each datagram's whole text gives; INV-04's
// per-ruid chains answer as a map keyed by ruid|Call-ID.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexOfBlankLine, Monitor } from '../../src/sim/monitor.ts';
import { checkCseqMonotonic, checkNodeListOnWire, type CseqMemory } from '../../src/sim/invariants.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import type { SimDelivery } from '../../src/transport/sim-transport.ts';

const latin1 = new TextDecoder('latin1');
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

const LINES = ['sip:127.0.0.1:5090;status=active', 'sip:127.0.0.2:5090;kdmq=1;status=pending', 'sip:host:5090;status=active', 'sip:127.0.0.3:5090', ''];
const bodyArb = fc.tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 4 }), fc.constantFrom('\r\n', '\n', '')).map(([ls, end]) => ls.join('\r\n') + (ls.length > 0 ? end : ''));
const dgramArb = fc.record({
  from: fc.constantFrom('127.0.1.1', '127.0.1.2'),
  port: fc.constantFrom(5060, 5090),
  head: fc.constantFrom('KDMQ sip:notification_peer@127.0.1.9:5090 SIP/2.0', 'SIP/2.0 200 OK', 'KDMQ sip:usrloc@127.0.1.9:5090 SIP/2.0', 'SIP/2.0 408 Timeout'),
  body: fc.nat(),
  blank: fc.boolean(),
});

describe('INV-07: node lists on the wire', () => {
  it('reports exactly the datagrams whose whole text checkNodeListOnWire refuses', () => {
    fc.assert(
      // a few bodies per run, so that senders repeat them in both kinds of message
      fc.property(fc.array(bodyArb, { minLength: 1, maxLength: 3 }), fc.array(dgramArb, { maxLength: 30 }), (bodies, ds) => {
        const m = new Monitor({ record: false, now: () => 0 });
        const want: string[] = [];
        for (const d of ds) {
          const body = bodies[d.body % bodies.length];
          const text = `${d.head}\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK-1\r\nContent-Length: ${body.length}\r\n${d.blank ? `\r\n${body}` : ''}`;
          const bad = checkNodeListOnWire(text);
          if (bad) want.push(`${d.from}:${d.port} → 127.0.1.9:5090: ${bad}`);
          const del: SimDelivery = { from: { host: d.from, port: d.port }, to: { host: '127.0.1.9', port: 5090 }, data: bytes(text), time: 0 };
          m.onDatagram(del);
        }
        expect(m.violations.filter((v) => v.inv === 'INV-07').map((v) => v.detail)).toEqual(want);
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
  });

  it('indexOfBlankLine finds the first CRLF CRLF as String.indexOf does', () => {
    const piece = fc.constantFrom('\r', '\n', '\r\n', '\r\n\r\n', 'a', 'Via: x', '\n\r');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (ps) => {
        const data = bytes(ps.join(''));
        expect(indexOfBlankLine(data)).toBe(latin1.decode(data).indexOf('\r\n\r\n'));
      }),
      { numRuns: Number(process.env.RUNS ?? 1000) },
    );
  });
});

describe('INV-04: CSeq per ruid and Call-ID', () => {
  it('checkCseqMonotonic answers as a map keyed by ruid|Call-ID does (a lower CSeq only with a later last_modified)', () => {
    const change = fc.record({
      kind: fc.constantFrom('insert' as const, 'update' as const, 'delete' as const),
      ruid: fc.constantFrom('r1', 'r2', 'r3'),
      callid: fc.constantFrom('x', 'y', 'z'),
      cseq: fc.integer({ min: 0, max: 6 }),
      lm: fc.integer({ min: 100, max: 103 }),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 40 }), (cs) => {
        const mem: CseqMemory = new Map();
        const ref = new Map<string, { cseq: number; lm: number }>();
        for (const x of cs) {
          const contact = { aor: 'a', c: 'sip:c', ruid: x.ruid, callid: x.callid, cseq: x.cseq, last_modified: x.lm } as UsrlocContact;
          const got = checkCseqMonotonic(mem, { kind: x.kind, contact, origin: 'replicated' });
          let want: { cseq: number; lm: number } | null = null;
          if (x.kind !== 'delete') {
            const before = ref.get(`${x.ruid}|${x.callid}`);
            if (before === undefined || x.cseq >= before.cseq || x.lm > before.lm) ref.set(`${x.ruid}|${x.callid}`, { cseq: x.cseq, lm: x.lm });
            else want = before;
          }
          expect(got).toBe(want === null ? null
            : `a sip:c (${x.ruid}): CSeq ${want.cseq} → ${x.cseq} by a replicated ${x.kind} (last_modified ${want.lm} → ${x.lm})`);
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
  });
});
