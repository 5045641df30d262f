// What anti-entropy needs from a replicated store (specs/anti-entropy.md A2–A4): a snapshot of
// live items and remembered deletes by bucket, the store's conflict order on wire versions, full
// records to push, and applying a pushed record with the replication rules. One adapter per store.

import type { Snapshot, WireVersion } from './digest.ts';

/** a change to tell the Kamailio nodes through their ordinary channel (never to kdmq nodes) */
export interface KamailioNotice {
  channel: string;
  body: string;
}

export interface AeSource {
  readonly id: 'ul' | 'ht';
  snapshot(n: number): Snapshot;
  /** > 0 when a is newer; ties between a live item and a delete go to the delete */
  compare(a: WireVersion, b: WireVersion): number;
  /** our item under `key` as it goes in a repair (from the last snapshot), or null */
  record(key: string): unknown;
  /** apply a repair record; the notice when it changed what this node holds */
  apply(rec: unknown): KamailioNotice | null;
}
