// Message buffers carved out of shared slabs. A `new Uint8Array(n)` above 64 bytes gets its own
// off-heap backing store: about 300 ns to make and free, and GC work per message. Handing out
// views into a larger ArrayBuffer (as Node's Buffer pool does) costs one view object instead.
// Messages of 4–64 KB (an anti-entropy digest of ~16 KB to every peer each round, a 200 OK listing
// hundreds of contacts) come from large slabs: as buffers of their own they cost tens of µs each
// in a busy process and, as external memory, forced extra scavenges ("external memory pressure").
// A view keeps its whole slab alive, so callers keep one pool per lifetime class (see writer.ts).
// Bytes handed out are never written again by the pool.

export class SlabPool {
  private slab: ArrayBuffer;
  private used = 0;
  /** the slab of requests above maxPooled (made on first use) */
  private large: ArrayBuffer | null = null;
  private largeUsed = 0;

  /**
   * @param slabSize bytes per slab
   * @param maxPooled larger requests come from the large slabs
   * @param largeSlabSize bytes per large slab
   * @param maxLarge larger requests get a buffer of their own (and waste no slab space); a large
   *   slab holds at least largeSlabSize / maxLarge requests (8 by default)
   */
  constructor(
    private readonly slabSize = 32_768,
    private readonly maxPooled = 4_096,
    private readonly largeSlabSize = 524_288,
    private readonly maxLarge = 65_536,
  ) {
    this.slab = new ArrayBuffer(slabSize);
  }

  /** A zero-filled view of n bytes that no other alloc call shares. */
  alloc(n: number): Uint8Array {
    if (n > this.maxPooled) return n > this.maxLarge ? new Uint8Array(n) : this.allocLarge(n);
    if (this.used + n > this.slabSize) {
      this.slab = new ArrayBuffer(this.slabSize);
      this.used = 0;
    }
    const view = new Uint8Array(this.slab, this.used, n);
    this.used += n;
    return view;
  }

  private allocLarge(n: number): Uint8Array {
    if (this.large === null || this.largeUsed + n > this.largeSlabSize) {
      this.large = new ArrayBuffer(this.largeSlabSize);
      this.largeUsed = 0;
    }
    const view = new Uint8Array(this.large, this.largeUsed, n);
    this.largeUsed += n;
    return view;
  }
}
