// Capture import: every lab capture imports with its three nodes named; pcapng, Linux SLL2, BSD
// loopback, IPv6 and fragmented IPv4/IPv6 (large sync bodies) import to the same SIP messages;
// truncated or mutated captures and traces give a clear error naming the record, never a crash.

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { importCapture } from '../../src/trace/import.ts';
import { decodeTrace, encodeTrace, type Trace } from '../../src/trace/format.ts';
import { fragment4, ipPackets, nullLink, pcapng, sll2, toIpv6 } from './capture-build.ts';

const FIX = '/work/shared/fixtures/kamailio-traces';
const captures = readdirSync(FIX).map((d) => ({ name: d, buf: readFileSync(`${FIX}/${d}/capture.pcap`) }));
const sipCount = (d: string) => readFileSync(`${FIX}/${d}/sip.txt`, 'utf8').split('\n').filter((l) => l.startsWith('=== #')).length;

function imported(buf: Uint8Array): Trace {
  const r = importCapture(buf);
  if (!r.ok) throw new Error(r.error);
  return r.trace;
}

const messages = (t: Trace) => t.records.flatMap((r) => (r.r === 'dgram' ? [r.data] : []));

describe('trace import', () => {
  it.each(captures.map((c) => [c.name, c.buf] as const))('imports %s with every SIP message and its three nodes', (name, buf) => {
    const t = imported(buf);
    expect(messages(t).length).toBe(sipCount(name));
    expect(t.header.nodes!.map((n) => n.id)).toEqual(['sip:127.0.0.11:5090', 'sip:127.0.0.12:5090', 'sip:127.0.0.13:5090']);
    expect(decodeTrace(encodeTrace(t)).ok).toBe(true);
  });

  it('register: node1 owns its SIP socket 5060 too', () => {
    const t = imported(captures.find((c) => c.name === 'register')!.buf);
    expect(t.header.nodes![0].endpoints).toEqual(['127.0.0.11:5090', '127.0.0.11:5060']);
  });

  const base = imported(captures.find((c) => c.name === 'htable')!.buf);
  const pkts = ipPackets(base);

  it('pcapng + SLL2 + fragmented IPv4 (fragments out of order) gives the same messages', () => {
    const frames = pkts.flatMap((p, i) => {
      const frags = p.ip.length > 300 ? fragment4(p.ip, 128, i + 1) : [p.ip];
      if (frags.length > 2) [frags[0], frags[1]] = [frags[1], frags[0]];
      return frags.map((f) => ({ t: p.t, data: sll2(f) }));
    });
    expect(frames.length).toBeGreaterThan(pkts.length);
    expect(messages(imported(pcapng(276, frames)))).toEqual(messages(base));
  });

  it('BSD loopback + IPv6 with fragment headers gives the same messages', () => {
    const frames = pkts.flatMap((p, i) => toIpv6(p.ip, p.ip.length > 300 ? 160 : 0, i).map((f) => ({ t: p.t, data: nullLink(f) })));
    const t = imported(pcapng(0, frames));
    expect(messages(t)).toEqual(messages(base));
    expect(t.header.nodes!.map((n) => n.id)[0]).toBe('sip:[fd00::7f00:b]:5090');
  });

  it('a truncated capture names the record and byte offset', () => {
    const buf = captures[0].buf;
    const r = importCapture(buf.subarray(0, buf.length - 37));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/(pcap record \d+|pcapng block \d+) at byte \d+: (data|block) truncated/);
    const g = importCapture(pcapng(1, [{ t: 1, data: new Uint8Array(60) }]).subarray(0, 70));
    expect(!g.ok && g.error).toMatch(/pcapng block \d+ at byte \d+/);
    expect(importCapture(new Uint8Array([1, 2, 3])).ok).toBe(false);
  });

  it('mutated capture bytes never crash the importer', () => {
    const buf = new Uint8Array(captures.find((c) => c.name === 'htable')!.buf);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(buf.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }), fc.nat(buf.length), (muts, cut) => {
        const b = buf.slice(0, Math.max(cut, 24));
        for (const [at, v] of muts) if (at < b.length) b[at] = v;
        const r = importCapture(b);
        if (!r.ok) expect(r.error).toMatch(/\S/);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated or mutated trace gives an error naming the line and byte offset', () => {
    const text = encodeTrace(base);
    const cut = decodeTrace(text.slice(0, text.length - 20));
    expect(!cut.ok && cut.error).toMatch(/^trace line \d+ \(byte \d+\): truncated record/);
    const bad = decodeTrace(text.replace('"r":"dgram"', '"r":"dgrm"'));
    expect(!bad.ok && bad.error).toMatch(/^trace line 2 \(byte \d+\), record 0: unknown record type "dgrm"/);
    expect(decodeTrace('').ok).toBe(false);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(text.length - 1), fc.string({ minLength: 1, maxLength: 1 })), { maxLength: 10 }), fc.nat(text.length), (muts, n) => {
        const arr = text.slice(0, n).split('');
        for (const [at, c] of muts) if (at < arr.length) arr[at] = c;
        const r = decodeTrace(arr.join(''));
        if (!r.ok) expect(r.error).toMatch(/trace/);
      }),
      { numRuns: 300 },
    );
  });
});
