// parseVia picks branch, received, rport, maddr and ttl out of the parameter list in one pass;
// each must be what getParam gives for that list (the first occurrence, null when valueless).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getParam, parseVia } from '../../src/sip/index.ts';

const name = fc.constantFrom('branch', 'BRANCH', 'rport', 'received', 'maddr', 'ttl', 'Ttl', 'x', 'lr');
const value = fc.option(fc.oneof(fc.constantFrom('1', '70', '255', '256', '65535'), fc.stringMatching(/^[a-z0-9.]{1,6}$/)), { nil: null });
const params = fc.array(fc.tuple(name, value), { maxLength: 6 });

function expected(ps: Array<[string, string | null]>): unknown {
  const num = (t: string | null | undefined, max: number) => (t === undefined ? undefined : t === null ? 'bad' : /^\d+$/.test(t) && Number(t) <= max ? Number(t) : 'bad');
  const ttl = num(getParam(ps, 'ttl'), 255);
  const rportText = getParam(ps, 'rport');
  const rport = rportText === null ? null : num(rportText, 65535);
  if (ttl === 'bad' || rport === 'bad') return 'error';
  return {
    branch: getParam(ps, 'branch') ?? null, received: getParam(ps, 'received') ?? null,
    maddr: getParam(ps, 'maddr') ?? null, ttl: ttl ?? null, rport,
  };
}

describe('parseVia parameters', () => {
  it('gives the first value of each known parameter, as getParam does', () => {
    fc.assert(fc.property(params, (ps) => {
      const text = `SIP/2.0/UDP h.example:5060${ps.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join('')}`;
      const r = parseVia(text);
      const lower = ps.map(([n, v]) => [n.toLowerCase(), v] as [string, string | null]);
      const want = expected(lower);
      if (want === 'error') {
        expect(r.ok).toBe(false);
        return;
      }
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const v = r.value[0];
      expect(v.params).toEqual(lower);
      expect({ branch: v.branch, received: v.received, maddr: v.maddr, ttl: v.ttl, rport: v.rport }).toEqual(want);
    }), { numRuns: 2000 });
  });
});
