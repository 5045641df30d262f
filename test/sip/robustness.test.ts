// Parsing never throws (house rule 10, RFC 3261 §7 parsers facing arbitrary datagrams): arbitrary
// bytes, arbitrary text and mutated valid messages; every accessor of a message that did parse is
// called too, and such a message can be written back and re-parsed to the same headers.

import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, responseTo, validateRequest, writeMessage, writeResponse } from '../../src/sip/index.ts';
import type { SipMessage } from '../../src/sip/index.ts';
import { splitTrace } from './trace-text.ts';

/** Call every accessor; only ParseResult values may come back, never an exception. */
function exercise(m: SipMessage): void {
  for (const h of m.headers) {
    m.getAll(h.name);
    m.get(h.name);
    m.has(h.name);
  }
  const results = [m.vias(), m.topVia(), m.from(), m.to(), m.callId(), m.cseq(), m.contacts(), m.maxForwards(), m.expires()];
  for (const r of results) expect(typeof r.ok).toBe('boolean');
  m.contentType();
  m.bodyText();
  if (m.kind === 'request') {
    m.requestUri();
    validateRequest(m);
    const resp = writeResponse(responseTo(m, 400, 'Bad Request', { toTag: 'x1' }));
    expect(parseMessage(resp).ok).toBe(true);
  }
  const again = parseMessage(writeMessage(m));
  if (!again.ok) throw new Error(`re-parse failed: ${again.error}`);
  expect(again.value.headers).toEqual(m.headers);
}

function parseAndExercise(data: Uint8Array | string): void {
  const r = parseMessage(data);
  if (r.ok) exercise(r.value);
  else expect(r.error.length).toBeGreaterThan(0);
}

const fixtureDir = new URL('./fixtures/', import.meta.url);
const seeds: Uint8Array[] = [
  ...readdirSync(fixtureDir).filter((f) => f.endsWith('.sip'))
    .map((f) => new TextEncoder().encode(readFileSync(new URL(f, fixtureDir), 'utf8').replace(/\n/g, '\r\n'))),
  ...splitTrace(readFileSync('/work/shared/fixtures/kamailio-traces/formation/sip.txt', 'utf8')).slice(0, 6).map((t) => t.data),
  ...splitTrace(readFileSync('/work/shared/fixtures/kamailio-traces/register/sip.txt', 'utf8')).slice(0, 6).map((t) => t.data),
];

const interesting = fc.constantFrom(...':;,<>"\\ \t\r\n@[]%=?&/0189-'.split('').map((c) => c.charCodeAt(0)), 0, 0xc3, 0xff);
const byte = fc.oneof(interesting, fc.integer({ min: 0, max: 255 }));
type Edit = { kind: 'set' | 'insert' | 'delete' | 'truncate'; at: number; b: number; n: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const, 'truncate' as const),
  at: fc.nat(), b: byte, n: fc.integer({ min: 1, max: 8 }),
});

function mutate(src: Uint8Array, edits: Edit[]): Uint8Array {
  const a = Array.from(src);
  for (const e of edits) {
    if (a.length === 0) break;
    const at = e.at % a.length;
    if (e.kind === 'set') a[at] = e.b;
    else if (e.kind === 'insert') a.splice(at, 0, ...new Array<number>(e.n).fill(e.b));
    else if (e.kind === 'delete') a.splice(at, e.n);
    else a.length = at;
  }
  return Uint8Array.from(a);
}

describe('parsing never throws', () => {
  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => parseAndExercise(b)), { numRuns: 2000 });
  });

  it('arbitrary text built from SIP-ish pieces', () => {
    const piece = fc.oneof(
      fc.constantFrom('SIP/2.0', 'KDMQ ', 'sip:', 'Via: ', 'From: ', 'To: ', 'Contact: ', 'CSeq: ', 'Call-ID: ',
        'Content-Length: ', 'l: ', 'v: ', 'm: ', '\r\n', '\n', ' ', '\t', ';', ',', '<', '>', '"', '*', '[::1]',
        ';tag=', ';branch=z9hG4bK', ';q=', ';expires=', ';rport', ';+sip.instance=', '?', '&', '%4', '@', ':'),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.nat().map(String),
    );
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), (ps) => parseAndExercise(ps.join(''))), { numRuns: 3000 });
  });

  it('mutated valid messages', () => {
    const arb = fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 5 }));
    fc.assert(fc.property(arb, ([seed, edits]) => parseAndExercise(mutate(seed, edits))), { numRuns: 4000 });
  });

  it('every seed message parses and survives exercise', () => {
    expect(seeds.length).toBeGreaterThan(40);
    let ok = 0;
    for (const s of seeds) {
      const r = parseMessage(s);
      if (r.ok) {
        ok++;
        exercise(r.value);
      }
    }
    expect(ok).toBeGreaterThan(30);
  });
});
