// The usrloc digest's per-binding fingerprint, hashed part by part, equals FNV-1a of the joined text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a } from '../../src/antientropy/digest.ts';
import { fingerprint } from '../../src/antientropy/usrloc-source.ts';
import { Binding } from '../../src/actors/location/binding.ts';

describe('usrloc fingerprint', () => {
  it('equals fnv1a of the joined key and version text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.constantFrom('', '<urn:uuid:1>'), fc.string(), fc.string(), fc.integer(), fc.integer(), fc.integer(), fc.integer(), (aor, c, instance, ruid, callId, cseq, lm, expires, regId) => {
        const b = new Binding({
          aor, ruid, c, received: '', path: '', callId, userAgent: 'ua', instance, expires, cseq, flags: 0, cflags: 0, q: -1,
          lastModified: lm, methods: -1, regId, serverId: 0, replicated: true,
        });
        const key = `${aor}\n${instance !== '' ? `${instance};${regId}` : c}`;
        expect(fingerprint(b)).toBe(fnv1a(`${key}\n${ruid}\n${callId}\n${cseq}\n${lm}\n${expires}`));
      }),
      { numRuns: Number(process.env.RUNS ?? 1000) },
    );
  });
});
