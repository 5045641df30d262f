// parseUsrlocBodyShared (the memo of the last few bodies) answers exactly what parseUsrlocBody
// answers, for valid and broken bodies, repeated or not, in any interleaving.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUsrlocBody, parseUsrlocBody, parseUsrlocBodyShared, type UsrlocContact } from '../../../src/actors/channels/usrloc-body.ts';

const contact = (i: number, c: string): UsrlocContact => ({
  aor: `sip:u${i}@h`, ruid: `r${i}`, c, received: '', path: '', callid: `x${i}`, user_agent: 'ua', instance: '',
  expires: 100 + i, cseq: i, flags: 0, cflags: 0, q: -1, last_modified: i, methods: 4294967295, reg_id: 0, server_id: 0,
});

const bodyArb = fc.oneof(
  fc.tuple(fc.constantFrom(1 as const, 2 as const), fc.integer({ min: 0, max: 12 }), fc.constantFrom('sip:a@h', 'sip:b@h'))
    .map(([action, i, c]) => formatUsrlocBody({ action, contact: contact(i, c) })),
  fc.constantFrom('{"action":3}', '{"action":0}', '', '{', '{"action":7}', '{"action":1}', '[]'),
  fc.string(),
  // a body past the memo's size limit
  fc.integer({ min: 30, max: 40 }).map((n) => formatUsrlocBody({ multi: Array.from({ length: n }, (_, i) => contact(i, 'sip:m@h')) })),
);

describe('a usrloc body received again reads as it did the first time', () => {
  it('equals parseUsrlocBody over any sequence of bodies (repeats included)', () => {
    fc.assert(
      fc.property(fc.array(bodyArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), (bodies, picks) => {
        const seq = [...bodies, ...picks.map((p) => bodies[p % bodies.length])];
        for (const text of seq) expect(parseUsrlocBodyShared(text)).toEqual(parseUsrlocBody(text));
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });

  it('a repeated body is parsed once: the same result object comes back', () => {
    const text = formatUsrlocBody({ action: 1, contact: contact(1, 'sip:a@h') });
    const first = parseUsrlocBodyShared(text);
    expect(parseUsrlocBodyShared(String(text.slice(0, 5)) + text.slice(5))).toBe(first);
  });
});
