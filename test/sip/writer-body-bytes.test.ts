// The writer's memo of encoded text bodies (writer.ts bodyBytes): whatever a body's size, whether
// it repeats, is ASCII or not, or comes after the memo was emptied, the message carries exactly
// its UTF-8 bytes and a matching Content-Length.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, writeRequest } from '../../src/sip/index.ts';

function bodyOf(text: string): { bytes: number[]; length: string | undefined } {
  const m = parseMessage(writeRequest({ method: 'KDMQ', uri: 'sip:a@b', headers: [['Call-ID', 'x']], body: text }));
  if (!m.ok) throw new Error(m.error);
  return { bytes: [...m.value.body], length: m.value.get('content-length') };
}

function expected(text: string): { bytes: number[]; length: string } {
  const bytes = [...new TextEncoder().encode(text)];
  return { bytes, length: String(bytes.length) };
}

/** bodies of every size class: small, above 16 K chars (memoised), above 32 K (never memoised) */
const pool = [
  '{"action":1}', 'é', '', '\ud800x', 'a'.repeat(4097), `${'d'.repeat(16_500)}`, `${'é'.repeat(17_000)}`,
  `${'s'.repeat(40_000)}`, '{"aor":"ü"}',
];

describe('a text body goes out as its UTF-8 bytes', () => {
  it('writes the UTF-8 bytes of every body, repeated or not', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constantFrom(...pool), fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 30 }), (texts) => {
      for (const t of texts) expect(bodyOf(t)).toEqual(expected(t));
    }), { numRuns: 60 });
  });

  it('still writes the right bytes after the memo was emptied by size', () => {
    const big = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(30_000, 'z'));
    for (const t of [...big, ...big.slice(0, 3)]) expect(bodyOf(t)).toEqual(expected(t));
  });
});
