// SlabPool (src/sip/slab.ts): every alloc is a zero-filled view of the asked size that no other
// alloc shares, whether it comes from a slab, a large slab, a fresh one, or its own buffer.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../src/sip/slab.ts';

describe('message buffers: zero-filled, never shared', () => {
  it('hands out zeroed views that never overlap, like new Uint8Array(n)', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 1200 }), { maxLength: 60 }), (sizes) => {
      const pool = new SlabPool(512, 200, 2048, 1000); // small, large and own-buffer sizes
      const got = sizes.map((n) => pool.alloc(n));
      got.forEach((v, i) => {
        expect(v.length).toBe(sizes[i]);
        expect(v.every((b) => b === 0)).toBe(true);
        v.fill(i + 1); // written after handing out: must not show through in any other view
      });
      got.forEach((v, i) => expect(v.every((b) => b === (i + 1) % 256)).toBe(true));
    }));
  });

  it('carves a request above maxPooled from a large slab, and one above maxLarge gets its own buffer', () => {
    const pool = new SlabPool(512, 200, 2048, 1000);
    const a = pool.alloc(201);
    const b = pool.alloc(1000);
    expect(a.buffer.byteLength).toBe(2048);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(201);
    expect(pool.alloc(900).buffer).not.toBe(a.buffer); // 2101 > 2048: a new large slab
    const own = pool.alloc(1001);
    expect(own.byteOffset).toBe(0);
    expect(own.buffer.byteLength).toBe(1001);
  });
});
