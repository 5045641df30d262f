// A client transaction (RFC 3261 §17.1.2, non-INVITE): Trying → Proceeding (1xx) → Completed
// (final response, kept for timer K to absorb late copies) → Terminated. Timer E retransmits from
// T1 doubling to T2 (unreliable transports only), timer F times out. Created and keyed (by its
// branch) by the TransactionLayer (transactions.ts), which owns the timer K queue. It is also the
// handle request() returns, so a request costs no separate handle object.

import type { SipResponse } from '../sip/types.ts';
import type { TimerId } from '../ports/clock.ts';
import type { Endpoint } from './transport.ts';
import type { ClientHandle, ClientOutcome, TimerConfig, TransactionLayerOptions, TransactionStats, TxState } from './transactions.ts';

/** what a client transaction needs of its layer */
export interface ClientTxOwner {
  readonly timers: TimerConfig;
  readonly stats: TransactionStats;
  /** a final response arrived: timer K starts (expiresK) */
  clientCompleted(tx: ClientTransaction): void;
  /** the transaction ended: forget its branch */
  clientEnded(tx: ClientTransaction): void;
}

const NO_BYTES = new Uint8Array(0);
const noop = (): void => {};

export class ClientTransaction implements ClientHandle {
  state: TxState = 'trying';
  /** when timer K ends the completed transaction (the layer's queue terminates it then) */
  expiresK = Infinity;
  private interval: number;
  private timerE?: TimerId;
  private timerF?: TimerId;

  constructor(
    private readonly owner: ClientTxOwner,
    private readonly opts: TransactionLayerOptions,
    readonly branch: string,
    private bytes: Uint8Array,
    private readonly from: Endpoint,
    private readonly to: Endpoint,
    /** CSeq method, upper case: a response matches on branch and method (§17.1.3) */
    readonly method: string,
    private done: (r: ClientOutcome) => void,
  ) {
    this.interval = owner.timers.t1;
  }

  /** arm the timers (timer E only when `retransmit`: unreliable transports, §17.1.2.2) and send */
  start(retransmit: boolean): void {
    const { clock } = this.opts;
    if (retransmit) this.timerE = clock.setTimeout(() => this.onTimerE(), this.interval);
    this.timerF = clock.setTimeout(() => this.onTimerF(), this.owner.timers.timeoutF ?? 64 * this.owner.timers.t1);
    this.opts.send(this.from, this.to, this.bytes);
  }

  /** forget the transaction: no more retransmissions, `done` is never called */
  cancel(): void {
    this.end();
  }

  /** a response matched this transaction (§17.1.3) */
  response(resp: SipResponse): void {
    if (this.state === 'completed') {
      this.owner.stats.retransmissionsAbsorbed++;
      return;
    }
    if (resp.status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.clearTimers();
    this.state = 'completed';
    this.bytes = NO_BYTES; // never retransmitted again: timer K only absorbs late responses
    this.expiresK = this.opts.clock.now() + this.owner.timers.t4;
    this.owner.clientCompleted(this);
    const done = this.done;
    this.done = noop;
    done({ kind: 'response', response: resp });
  }

  /** @internal (also the layer: timer K, close) */
  end(): void {
    this.clearTimers();
    this.state = 'terminated';
    this.owner.clientEnded(this);
  }

  private onTimerE(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    const { timers } = this.owner;
    this.owner.stats.retransmissionsSent++;
    this.opts.send(this.from, this.to, this.bytes);
    this.interval = this.state === 'proceeding' ? timers.t2 : Math.min(2 * this.interval, timers.t2);
    this.timerE = this.opts.clock.setTimeout(() => this.onTimerE(), this.interval);
  }

  private onTimerF(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.owner.stats.timeouts++;
    this.end();
    this.done({ kind: 'timeout' });
  }

  private clearTimers(): void {
    const { clock } = this.opts;
    if (this.timerE !== undefined) clock.clearTimeout(this.timerE);
    if (this.timerF !== undefined) clock.clearTimeout(this.timerF);
    this.timerE = this.timerF = undefined;
  }
}
