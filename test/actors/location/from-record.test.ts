// fromRecord with `like` (strings equal to the updated binding's are taken from it) builds the same
// binding as without.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/actors/location/binding.ts';
import type { UsrlocContact } from '../../../src/actors/channels/usrloc-body.ts';

const s = fc.constantFrom('', 'sip:alice@lab.local', 'sip:alice@127.0.0.20:5070', 'x', 'a-long-call-id@127.0.0.20');
const n = fc.integer({ min: 0, max: 5000 });
const rec: fc.Arbitrary<UsrlocContact> = fc.record({
  aor: s, ruid: s, c: s, received: s, path: s, callid: s, user_agent: s, instance: s,
  expires: n, cseq: n, flags: n, cflags: n, q: n, last_modified: n, methods: n, reg_id: n, server_id: n,
});

describe('fromRecord', () => {
  it('with a binding to take equal strings from, gives the same fields', () => {
    fc.assert(
      fc.property(rec, rec, fc.boolean(), (r, other, replicated) => {
        const like = fromRecord(other, true);
        expect({ ...fromRecord(r, replicated, like) }).toEqual({ ...fromRecord(r, replicated) });
      }),
    );
  });
});
