// The node's limits (config `limits:`): defaults from the schema, the refusal counters behind
// kdmq_limit_refusals_total{limit}, the REGISTER token bucket per source IP and the sync-request
// window per sending node. Every refusal is a SIP reply with a reason (503 + Retry-After, 413,
// 513), never a drop of stored data (DESIGN.md house rule 11). Pure: time comes from the Clock.

import type { LimitsConfig } from '../../config/types.ts';
import { schema } from '../../config/schema.ts';
import type { Clock } from '../../ports/clock.ts';

export type LimitName =
  | 'bindings' | 'contacts_per_aor' | 'htable_items' | 'datagram' | 'body' | 'headers'
  | 'pending_transactions' | 'sync_requests' | 'register_rate' | 'signature'
  | 'replication_lag' | 'replication_backlog' | 'queue_wait';

export const LIMIT_NAMES: readonly LimitName[] = [
  'bindings', 'contacts_per_aor', 'htable_items', 'datagram', 'body', 'headers',
  'pending_transactions', 'sync_requests', 'register_rate', 'signature',
  'replication_lag', 'replication_backlog', 'queue_wait',
];

/** the replication outbox's slowest live active node (replication-outbox.ts `worst`) */
export type ReplicationProbe = () => { key: string; lagMs: number; backlog: number } | null;

export const DEFAULT_LIMITS: LimitsConfig = Object.fromEntries(
  Object.entries((schema.limits.type as { kind: 'object'; fields: Record<string, { default?: unknown }> }).fields).map(([k, f]) => [k, f.default]),
) as unknown as LimitsConfig;

export interface LimitReply {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
}

/** the SIP answer of each refusal; the reason phrase names the limit */
export function limitReply(limit: LimitName, retryAfter = 5): LimitReply {
  switch (limit) {
    case 'body':
      return { status: 413, reason: 'Request Entity Too Large', headers: [] };
    case 'datagram':
    case 'headers':
      return { status: 513, reason: limit === 'datagram' ? 'Message Too Large' : 'Message Too Large (too many headers)', headers: [] };
    case 'signature':
      return { status: 403, reason: 'Forbidden (KDMQ signature)', headers: [] };
    default:
      return { status: 503, reason: `Service Unavailable (limit ${limit})`, headers: [['Retry-After', String(retryAfter)]] };
  }
}

const MAX_TRACKED = 50_000;

export class LimitGuard {
  readonly config: LimitsConfig;
  readonly refusals: Record<LimitName, number> = Object.fromEntries(LIMIT_NAMES.map((n) => [n, 0])) as Record<LimitName, number>;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly syncs = new Map<string, number[]>();

  constructor(private readonly clock: Clock, config?: Partial<LimitsConfig>) {
    this.config = { ...DEFAULT_LIMITS, ...config };
  }

  /** count one refusal and return its SIP answer */
  refuse(limit: LimitName, retryAfter?: number): LimitReply {
    this.refusals[limit]++;
    return limitReply(limit, retryAfter);
  }

  private probe: ReplicationProbe | null = null;

  /** the node's outbox reports how far behind its slowest live active node is */
  setReplicationProbe(p: ReplicationProbe): void {
    this.probe = p;
  }

  /**
   * Admission control before a change is made (specs/replication.md R1): null = go ahead, else the
   * 503 to answer (counted). A change answered 200 is then owed to every active node and never
   * dropped, so the node refuses when the slowest live one is too far behind.
   */
  admitChange(): LimitReply | null {
    const w = this.probe?.() ?? null;
    if (w === null) return null;
    const { replication_max_lag: lag, replication_max_backlog: backlog } = this.config;
    if (lag > 0 && w.lagMs > lag) return this.refuse('replication_lag', Math.max(1, Math.ceil(w.lagMs / 1000)));
    if (backlog > 0 && w.backlog > backlog) return this.refuse('replication_backlog', 2);
    return null;
  }

  /** token bucket of limits.register_rate per source IP; false = refuse (the caller counts it with refuse()) */
  registerAllowed(ip: string): boolean {
    const rate = this.config.register_rate;
    if (rate <= 0) return true;
    const now = this.clock.now();
    const burst = Math.max(1, this.config.register_burst);
    let b = this.buckets.get(ip);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.pruneBuckets(now, rate, burst);
      b = { tokens: burst, at: now };
      this.buckets.set(ip, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** limits.sync_requests_per_minute per sending node (sliding minute); false = refuse (the caller counts it with refuse()) */
  syncAllowed(node: string): boolean {
    const max = this.config.sync_requests_per_minute;
    if (max <= 0) return true;
    const now = this.clock.now();
    const recent = (this.syncs.get(node) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= max) {
      this.syncs.set(node, recent);
      return false;
    }
    if (!this.syncs.has(node) && this.syncs.size >= MAX_TRACKED) this.syncs.clear();
    recent.push(now);
    this.syncs.set(node, recent);
    return true;
  }

  /** seconds until the oldest sync request of `node` leaves the window (for Retry-After) */
  syncRetryAfter(node: string): number {
    const oldest = this.syncs.get(node)?.[0];
    return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + 60_000 - this.clock.now()) / 1000));
  }

  private pruneBuckets(now: number, rate: number, burst: number): void {
    for (const [ip, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * rate >= burst) this.buckets.delete(ip);
    if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
  }
}
