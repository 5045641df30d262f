// The replication outbox's contract (replication-outbox.ts, specs/replication.md R1): what a
// channel hands it (a Change, how its changes pack into one KDMQ), what it needs (clock, config,
// a kick to the node's flow control, who is active) and what it counts.

import type { Clock } from '../../ports/clock.ts';
import type { NodeId } from '../membership/node-list.ts';

/** one version of one key, shared by every peer's pending set */
export interface Change {
  readonly channel: string;
  /** ruid (usrloc) or table + cell (htable): a newer change of the same key replaces this one */
  readonly key: string;
  /** clock ms when it was made */
  readonly at: number;
  /** its single-action body (formatted once, on first use) */
  body(): string;
}

/** how a channel packs changes waiting together into one KDMQ body */
export interface ChannelPacking {
  /** at most this many changes per KDMQ to `to` (1 = one change per KDMQ) */
  maxChanges(to: NodeId): number;
  /** at most this many body bytes per KDMQ to `to` */
  maxBytes(to: NodeId): number;
  /** the body of several changes (only called with 2 or more) */
  join(bodies: readonly string[]): string;
  /** the body of several changes' single bodies would take this many bytes (estimate ≥ real) */
  overhead(count: number): number;
}

export interface OutboxConfig {
  /** a failed KDMQ (other than a time-out) is tried again after this many ms */
  retryMs: number;
  /** a peer that answered nothing (data or pings) for this long counts as unreachable, not slow */
  liveMs: number;
}

export interface OutboxStats {
  enqueued: number;
  /** changes replaced by a newer version of the same key before they were sent */
  coalesced: number;
  /** KDMQ sent from the outbox, and the changes in them */
  batches: number;
  changesSent: number;
  /** changes put back after a failed KDMQ */
  retried: number;
  /** changes a peer refused with 4xx (not retried: it would refuse again; logged and counted) */
  rejected: number;
}

export interface OutboxDeps {
  clock: Clock;
  config: OutboxConfig;
  /** ask PeerFlow to pull now if the peer's data lane has room */
  kick(to: NodeId, key: string): void;
  /** changes are sent to a node only while it is active; they wait (coalescing) otherwise */
  isActive(key: string): boolean;
  onRejected?(to: NodeId, channel: string, changes: number, code: number): void;
}
