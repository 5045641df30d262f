// Each typed accessor of a parsed message (message.ts) parses its header on the first call and keeps
// the result: whatever the order of calls, every later call gives the same object, equal to what a
// fresh parse of the same bytes gives on its first call.

import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/index.ts';
import type { SipMessage } from '../../src/sip/index.ts';

const dir = new URL('./fixtures/', import.meta.url);
const messages = readdirSync(dir).filter((f) => f.endsWith('.sip'))
  .map((f) => new TextEncoder().encode(readFileSync(new URL(f, dir), 'utf8').replace(/\n/g, '\r\n')))
  .filter((b) => parseMessage(b).ok);

const accessors = ['vias', 'topVia', 'from', 'to', 'callId', 'cseq', 'contacts', 'maxForwards', 'expires', 'bodyText', 'requestUri'] as const;
type Accessor = (typeof accessors)[number];

function call(m: SipMessage, a: Accessor): unknown {
  if (a === 'requestUri') return m.kind === 'request' ? m.requestUri() : null;
  return m[a]();
}

describe('typed accessors: one value in any call order, equal to a fresh parse', () => {
  it('are parsed once and equal a fresh parse, in any call order', () => {
    expect(messages.length).toBeGreaterThan(5);
    fc.assert(fc.property(fc.nat({ max: messages.length - 1 }), fc.array(fc.constantFrom(...accessors), { maxLength: 25 }), (i, order) => {
      const parsed = parseMessage(messages[i]);
      if (!parsed.ok) throw new Error(parsed.error);
      const m = parsed.value;
      const first = new Map<Accessor, unknown>();
      for (const a of order) {
        const r = call(m, a);
        if (!first.has(a)) first.set(a, r);
        else if (a !== 'topVia') expect(r).toBe(first.get(a)); // topVia wraps the cached Via list's first
        else expect(r).toEqual(first.get(a));
      }
      for (const a of accessors) {
        const fresh = parseMessage(messages[i]);
        if (!fresh.ok) throw new Error(fresh.error);
        expect(call(m, a)).toEqual(call(fresh.value, a));
      }
    }), { numRuns: 300 });
  });
});
