// replaceTopVia (src/transport/via-route.ts) skips work in the usual case (one Via value on the
// line, name written `Via`): the same output as the general path (split at top-level commas,
// replace the first value, join), kept here as the reference, for any header list.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replaceTopVia, splitTopLevel } from '../../src/transport/via-route.ts';

function reference(headers: Array<[string, string]>, stamped: string): Array<[string, string]> {
  const i = headers.findIndex(([n]) => n.toLowerCase() === 'via' || n.toLowerCase() === 'v');
  if (i < 0) return headers;
  const parts = splitTopLevel(headers[i][1]);
  parts[0] = stamped;
  const copy = headers.slice();
  copy[i] = [headers[i][0], parts.map((p, k) => (k === 0 ? p : p.trim())).join(', ')];
  return copy;
}

const name = fc.constantFrom('Via', 'via', 'VIA', 'v', 'V', 'From', 'To', 'Call-ID', 'X-Via', 'Vias');
const value = fc.stringMatching(/^[ a-zA-Z0-9.:;=,"<>\\/-]{0,40}$/);

describe('replacing the top Via value keeps every other value', () => {
  it('gives what the general split-and-join path gives', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 6 }), value, (headers, stamped) => {
        const h = headers.map(([n, v]) => [n, v] as [string, string]);
        expect(replaceTopVia(h, stamped)).toEqual(reference(h, stamped));
      }),
      { numRuns: 1000 },
    );
  });
});
