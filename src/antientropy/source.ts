// What anti-entropy needs from a replicated store (specs/anti-entropy.md A2–A4): a two-level
// digest of the live items (LeafIndex), the versions (live items and remembered deletes) of some
// leaves, the store's conflict order on wire versions, full records to push, and applying a
// pushed record with the replication rules. One adapter per store.

import type { LeafIndex, WireVersion } from './digest.ts';

/** a change to tell the Kamailio nodes through their ordinary channel (never to kdmq nodes) */
export interface KamailioNotice {
  channel: string;
  body: string;
}

export interface AeSource {
  readonly id: 'ul' | 'ht';
  /** the digest for n buckets (SUB leaves each); `fresh`: a round starts (a source that rescans
   * may reuse a recent index otherwise) */
  index(n: number, fresh: boolean): LeafIndex;
  /** the versions held in these leaves of the n-bucket index (every leaf asked is in the answer) */
  versions(n: number, leaves: ReadonlySet<number>): Map<number, WireVersion[]>;
  /** an item of this range key (AoR) changed in the store (sources with an incremental digest) */
  touch?(rangeKey: string): void;
  /** > 0 when a is newer; ties between a live item and a delete go to the delete */
  compare(a: WireVersion, b: WireVersion): number;
  /** our item under `key` as it goes in a repair (live now, or a delete seen by versions()), or null */
  record(key: string): unknown;
  /** apply a repair record; the notice when it changed what this node holds */
  apply(rec: unknown): KamailioNotice | null;
}
