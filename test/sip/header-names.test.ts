// Common header names (headers.ts COMMON_HEADER_NAMES): the parser gives a name in exactly that
// spelling as the literal (commonName) and headerKey answers it from a table. Both must give what
// the plain path gives: the same text as the slice, and the lower-case (compact-expanded) key.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMON_HEADER_NAMES, commonName, headerKey } from '../../src/sip/headers.ts';
import { parseMessage } from '../../src/sip/index.ts';

/** headerKey without the table: every common name is longer than 1 char, so a compact form
 *  (length 1) is expanded by headerKey's own path, any other name is just lower-cased */
function plainKey(name: string): string {
  return name.length === 1 ? headerKey(name) : name.toLowerCase();
}

/** a common name, a case or length variant of one, or any token */
const name = fc.oneof(
  fc.constantFrom(...COMMON_HEADER_NAMES),
  fc.constantFrom(...COMMON_HEADER_NAMES).map((n) => n.toLowerCase()),
  fc.constantFrom(...COMMON_HEADER_NAMES).map((n) => n.toUpperCase()),
  fc.constantFrom(...COMMON_HEADER_NAMES).map((n) => `${n}x`),
  fc.constantFrom(...COMMON_HEADER_NAMES).map((n) => n.slice(1)),
  fc.constantFrom('i', 'm', 'f', 't', 'v', 'l', 'c', 'V', 'X-Via', 'Tx', 'CSEQ'),
  fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,20}$/),
);

describe('common header names', () => {
  it('commonName is the slice and headerKey the plain key, for any name anywhere in a text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 5 }), name, fc.string({ maxLength: 5 }), (before, n, after) => {
      const head = `${before}${n}${after}`;
      const got = commonName(head, before.length, before.length + n.length);
      expect(got).toBe(n);
      expect(headerKey(got)).toBe(plainKey(n));
      expect(headerKey(n)).toBe(plainKey(n));
    }), { numRuns: 2000 });
  });

  it('parsed messages find their headers whatever the spelling', () => {
    fc.assert(fc.property(fc.constantFrom('Via', 'via', 'VIA', 'v'), fc.constantFrom('CSeq', 'cseq', 'CSEQ'), (via, cseq) => {
      const m = parseMessage(`OPTIONS sip:a@b SIP/2.0\r\n${via}: SIP/2.0/UDP h:1;branch=z9hG4bKx\r\n${cseq}: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n\r\n`);
      if (!m.ok) throw new Error(m.error);
      expect(m.value.headers.map((h) => h.name)).toEqual([via, cseq, 'From', 'To', 'Call-ID']);
      expect(m.value.get('via')).toBe('SIP/2.0/UDP h:1;branch=z9hG4bKx');
      expect(m.value.cseq()).toEqual({ ok: true, value: { seq: 1, method: 'OPTIONS' } });
    }));
  });
});
