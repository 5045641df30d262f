// A server transaction (RFC 3261 §17.2.2, non-INVITE): Trying → Proceeding (1xx) → Completed
// (final response, kept for timer J to answer retransmissions) → Terminated. Created and keyed by
// the TransactionLayer (transactions.ts), which owns the timer J queue.

import { responseTo, writeResponse } from '../sip/index.ts';
import type { SipRequest } from '../sip/types.ts';
import { isReliable, type Endpoint } from './transport.ts';
import { responseRoute, stampTopVia } from './via-route.ts';
import type { RespondOptions, ServerTx, TimerConfig, TransactionLayerOptions, TransactionStats, TxState } from './transactions.ts';

/** what a server transaction needs of its layer */
export interface ServerTxOwner {
  readonly timers: TimerConfig;
  readonly stats: TransactionStats;
  /** the final response was sent: timer J starts (expiresAt) */
  serverCompleted(tx: ServerTransaction): void;
  /** the transaction ended: forget its key */
  serverEnded(tx: ServerTransaction): void;
}

export class ServerTransaction implements ServerTx {
  state: TxState = 'trying';
  /** the last response sent and where to (kept for retransmitted requests): two fields, no object */
  private lastTo: Endpoint | null = null;
  private lastBytes: Uint8Array | null = null;
  /** when timer J fires (set with the final response); the layer's queue terminates it then */
  expiresAt = Infinity;
  /**
   * The request, until the final response: a completed transaction lives on for timer J (64 × T1
   * = 32 s) only to answer retransmissions with `last`, so it lets go of the parsed request and its
   * datagram (≈ 4 KB each; at 8000 REGISTER/s that was > 1 GB held for 32 s, all GC work).
   */
  private req: SipRequest | null;

  constructor(
    private readonly layer: ServerTxOwner,
    private readonly opts: TransactionLayerOptions,
    readonly id: string,
    request: SipRequest,
    readonly source: Endpoint,
    readonly local: Endpoint,
  ) {
    this.req = request;
  }

  get request(): SipRequest {
    if (this.req === null) throw new Error(`server transaction ${this.id}: the request is released after the final response`);
    return this.req;
  }

  respond(status: number, reason: string, opts: RespondOptions = {}): boolean {
    if (this.state === 'completed' || this.state === 'terminated') return false;
    const top = this.request.topVia();
    if (!top.ok) return false; // cannot happen: the key needed it
    const route = responseRoute(top.value, this.source);
    const out = responseTo(this.request, status, reason, opts);
    stampTopVia(out.headers, route.stampedVia); // responseTo built the list for us alone
    const bytes = writeResponse(out);
    // §18.2.2: over a reliable transport the response goes back on the request's connection
    const dest = isReliable(this.source) ? this.source : route.dest;
    this.lastTo = dest;
    this.lastBytes = bytes;
    this.opts.send(this.local, dest, bytes);
    if (status < 200) {
      this.state = 'proceeding';
    } else {
      this.state = 'completed';
      this.req = null;
      // Timer J: RFC 3261 gives 64·T1, which equals the client's timer F. A retransmission the client
      // sends just before its timer F can still be in flight when that runs out, so it would be handed
      // up as a new request; we add T4 (the longest a message stays in the network) to cover it.
      this.expiresAt = this.opts.clock.now() + 64 * this.layer.timers.t1 + this.layer.timers.t4;
      this.layer.serverCompleted(this);
    }
    return true;
  }

  /** a retransmission of our request arrived: answer it with the last response, never hand it up */
  retransmitted(): void {
    this.layer.stats.retransmissionsAbsorbed++;
    if (this.lastTo !== null && this.lastBytes !== null && this.state !== 'terminated') {
      this.layer.stats.retransmissionsSent++;
      this.opts.send(this.local, this.lastTo, this.lastBytes);
    }
  }

  /** @internal (also TransactionLayer.close) */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.layer.serverEnded(this);
  }
}
