// toTagFor (src/actors/node/router.ts) hashes Call-ID and From tag part by part and formats the hex
// itself: the same tag as FNV-1a over the joined `${callId}|${tag}` text with toString(16).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toTagFor } from '../../../src/actors/node/router.ts';
import { parse } from '../../transport/fixtures.ts';
import type { SipRequest } from '../../../src/sip/types.ts';

function fnv(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** the tag as first written: one seed string, two hashes, toString(16) */
function reference(callId: string, tag: string, localKey: string): string {
  const seed = `${callId}|${tag}`;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return `${hex(fnv(seed))}${hex(fnv(seed, 0x1234567))}.${hex(fnv(localKey))}`;
}

const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,24}$/);

describe('the To tag of a reply (toTagFor)', () => {
  it('equals FNV-1a of `callId|tag` in hex, for any Call-ID, From tag and node key', () => {
    fc.assert(
      fc.property(token, fc.option(token, { nil: null }), fc.stringMatching(/^[0-9.:a-z;=]{0,30}$/), (callId, tag, localKey) => {
        const from = `<sip:usrloc@127.0.0.1:5090>${tag === null ? '' : `;tag=${tag}`}`;
        const text = `KDMQ sip:usrloc@127.0.0.2:5090 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK1\r\nFrom: ${from}\r\nTo: <sip:usrloc@127.0.0.2:5090>\r\nCall-ID: ${callId}\r\nCSeq: 10 KDMQ\r\nContent-Length: 0\r\n\r\n`;
        const req = parse(text) as SipRequest;
        expect(toTagFor(req, localKey)).toBe(reference(callId, tag ?? '', localKey));
      }),
      { numRuns: 300 },
    );
  });
});
