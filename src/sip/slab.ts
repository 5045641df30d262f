// Message buffers carved out of shared slabs. A `new Uint8Array(n)` above 64 bytes gets its own
// off-heap backing store: about 300 ns to make and free, and GC work per message. Handing out
// views into a larger ArrayBuffer (as Node's Buffer pool does) costs one view object instead.
// A view keeps its whole slab alive, so callers keep one pool per lifetime class (see writer.ts).
// Bytes handed out are never written again by the pool.

export class SlabPool {
  private slab: ArrayBuffer;
  private used = 0;

  /**
   * @param slabSize bytes per slab
   * @param maxPooled larger requests get a buffer of their own (and waste no slab space)
   */
  constructor(
    private readonly slabSize = 32_768,
    private readonly maxPooled = 4_096,
  ) {
    this.slab = new ArrayBuffer(slabSize);
  }

  /** A zero-filled view of n bytes that no other alloc call shares. */
  alloc(n: number): Uint8Array {
    if (n > this.maxPooled) return new Uint8Array(n);
    if (this.used + n > this.slabSize) {
      this.slab = new ArrayBuffer(this.slabSize);
      this.used = 0;
    }
    const view = new Uint8Array(this.slab, this.used, n);
    this.used += n;
    return view;
  }
}
