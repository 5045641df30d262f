// TransactionLayer: RFC 3261 §17 non-INVITE transactions over UDP, TCP and TLS. Client (§17.1.2):
// timer E retransmits from T1 doubling to T2 (unreliable transports only), timer F (64·T1) times out, timer K (T4) absorbs late
// responses (client-transaction.ts). Server (§17.2.2): Trying/Proceeding/Completed, retransmissions answered with the last
// response and never handed up twice (server-transaction.ts), timer J (64·T1 + T4: see respond()). Matching per §17.1.3/§17.2.3. All time
// comes from the Clock port, branches from the Random port.

import { parseMessage, validateRequest, writeRequest } from '../sip/index.ts';
import type { OutgoingRequest, SipRequest, SipResponse } from '../sip/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import { protoOf, type Datagram, type Endpoint } from './transport.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { ClientTransaction } from './client-transaction.ts';
import { ServerTransaction } from './server-transaction.ts';
import { MAGIC_COOKIE, hostPort, serverKey } from './via-route.ts';
import { badRequestReason, checkRequestLimits, statelessResponse, type RequestLimitName, type RequestLimits } from './request-limits.ts';

export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
  /** client time-out (timer F), default 64·T1; Kamailio's tm fr_timer plays this role */
  timeoutF?: number;
}
export const DEFAULT_TIMERS: TimerConfig = { t1: 500, t2: 4000, t4: 5000 };

export type ClientOutcome = { kind: 'response'; response: SipResponse } | { kind: 'timeout' };

export interface ClientHandle {
  branch: string;
  /** forget the transaction: no more retransmissions, `done` is never called */
  cancel(): void;
}

export interface RespondOptions {
  toTag?: string;
  headers?: Array<[string, string]>;
  body?: Uint8Array | string;
}

export type TxState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ServerTx {
  /** the §17.2.3 key (branch|sent-by|method), stable for the transaction's life */
  readonly id: string;
  readonly request: SipRequest;
  readonly source: Endpoint;
  readonly local: Endpoint;
  readonly state: TxState;
  /** send a response (1xx keeps the transaction open); false once a final response was sent */
  respond(status: number, reason: string, opts?: RespondOptions): boolean;
}

export interface TransactionStats {
  /** messages that did not parse or validate (requests and responses) */
  parseErrors: number;
  badRequests400: number;
  /** bad requests dropped because no response could be formed */
  unanswerable: number;
  /** request retransmissions not handed up, plus final-response retransmissions swallowed */
  retransmissionsAbsorbed: number;
  /** request retransmissions (timer E) and response re-sends to retransmitted requests */
  retransmissionsSent: number;
  timeouts: number;
  strayResponses: number;
}

export interface TransactionLayerOptions {
  clock: Clock;
  random: Random;
  timers?: Partial<TimerConfig>;
  /** put `;rport` (RFC 3581) in the Vias we add */
  rport?: boolean;
  send(from: Endpoint, to: Endpoint, data: Uint8Array): void;
  onRequest(req: SipRequest, tx: ServerTx): void;
  onStray?(resp: SipResponse, d: Datagram): void;
  /** config `limits:` applied to every new request (request-limits.ts); absent = none */
  limits?: RequestLimits;
  /** one request refused by a limit (answered statelessly) */
  onRefused?(limit: RequestLimitName): void;
}

export class TransactionLayer {
  readonly stats: TransactionStats = {
    parseErrors: 0, badRequests400: 0, unanswerable: 0, retransmissionsAbsorbed: 0,
    retransmissionsSent: 0, timeouts: 0, strayResponses: 0,
  };
  readonly timers: TimerConfig;
  /** by branch (ours, unique); a response must also carry the transaction's method */
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /**
   * Answered server transactions in order of their timer J, and completed client transactions in
   * order of their timer K: each timer is the same for all, so expiry order is insertion order and
   * one clock timer serves a whole queue. Expired ones are swept before every lookup, so a
   * retransmission or a size read sees exactly what per-transaction timers would have left.
   */
  private readonly answered: ExpiryQueue<ServerTransaction>;
  private readonly completedClients: ExpiryQueue<ClientTransaction>;
  /** viaPrefix's last answer and what it was made from */
  private lastVia: { proto: string; host: string; port: number; prefix: string } | null = null;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.answered = new ExpiryQueue(opts.clock, (tx) => tx.expiresAt, (tx) => tx.terminate());
    this.completedClients = new ExpiryQueue(opts.clock, (tx) => tx.expiresK, (tx) => {
      if (tx.state === 'completed') tx.end(); // a cancelled one is already ended
    });
  }

  /** live transactions, for tests and leak checks */
  get size(): { clients: number; servers: number } {
    this.answered.sweep();
    this.completedClients.sweep();
    return { clients: this.clients.size, servers: this.servers.size };
  }

  // ---- client side (§17.1.2) ----

  request(out: OutgoingRequest, from: Endpoint, to: Endpoint, done: (r: ClientOutcome) => void): ClientHandle {
    const branch = MAGIC_COOKIE + this.opts.random.hex(8);
    const proto = protoOf(to.proto ? to : from);
    const via = `${this.viaPrefix(proto, from)}${branch}${this.opts.rport ? ';rport' : ''}`;
    const bytes = writeRequest(out, via); // our Via first, then the caller's headers
    // keyed by branch alone (no `branch|METHOD` string per request): our branches are unique, and
    // the method is compared on match (§17.1.3)
    this.completedClients.sweep();
    if (this.clients.has(branch)) throw new Error(`branch collision ${branch}`); // broken invariant
    const tx = new ClientTransaction(this, this.opts, branch, bytes, from, to, out.method.toUpperCase(), done);
    this.clients.set(branch, tx);
    tx.start(proto === 'udp'); // timer E only on unreliable transports (§17.1.2.2); timer F applies to all
    return tx;
  }

  /**
   * `SIP/2.0/<PROTO> <host:port>;branch=` for a request from `from`: a node sends from one socket,
   * so the last one is kept (by the values it was made from) rather than formatted per request.
   */
  private viaPrefix(proto: string, from: Endpoint): string {
    const m = this.lastVia;
    if (m !== null && m.proto === proto && m.host === from.host && m.port === from.port) return m.prefix;
    const prefix = `SIP/2.0/${proto.toUpperCase()} ${hostPort(from)};branch=`;
    this.lastVia = { proto, host: from.host, port: from.port, prefix };
    return prefix;
  }

  private onResponse(resp: SipResponse, d: Datagram): void {
    const top = resp.topVia();
    const cseq = resp.cseq();
    if (!top.ok || !cseq.ok) {
      this.stats.parseErrors++;
      return;
    }
    this.completedClients.sweep();
    const found = this.clients.get(top.value.branch ?? '');
    const tx = found !== undefined && found.method === cseq.value.method.toUpperCase() ? found : undefined;
    if (!tx) {
      this.stats.strayResponses++;
      this.opts.onStray?.(resp, d);
      return;
    }
    tx.response(resp);
  }

  // ---- inbound ----

  receive(d: Datagram): void {
    const parsed = parseMessage(d.data);
    if (!parsed.ok) {
      // a broken frame around a readable request: answer 400 <error> (never hand it up)
      if (parsed.partial) return this.onRequestIn(parsed.partial, d, parsed.error);
      // nothing parsed, so no Via/From/To/Call-ID/CSeq to answer with
      this.stats.parseErrors++;
      if (!looksLikeResponse(d.data)) this.stats.unanswerable++;
      return;
    }
    const m = parsed.value;
    if (m.kind === 'response') this.onResponse(m, d);
    else this.onRequestIn(m, d);
  }

  // ---- server side (§17.2.2) ----

  /** `framingError`: the request came from a message that failed to parse as a whole */
  private onRequestIn(req: SipRequest, d: Datagram, framingError?: string): void {
    if (req.method === 'ACK') {
      // no non-INVITE transaction takes an ACK (§17.2.3), and no ACK is answered
      if (framingError !== undefined) {
        this.stats.parseErrors++;
        this.stats.unanswerable++;
      }
      return;
    }
    const valid = framingError !== undefined ? { ok: false as const, error: framingError } : validateRequest(req);
    const keyed = serverKey(req);
    this.answered.sweep();
    const existing = keyed.ok ? this.servers.get(keyed.key) : undefined;
    if (existing) {
      existing.retransmitted();
      return;
    }
    if (this.opts.limits && keyed.ok && canAnswer(req)) {
      // only requests still waiting for their answer count: answered ones (kept for timer J, 37 s)
      // would otherwise refuse everything, DMQ pings included, above ~2 700 requests/s
      const unanswered = this.servers.size - this.answered.length;
      const waited = d.at === undefined ? 0 : this.opts.clock.now() - d.at;
      const refusal = checkRequestLimits(req, d, this.opts.limits, unanswered, waited);
      if (refusal?.limit === 'queue_wait' && valid.ok) {
        // answered by a transaction: a later copy of the same request (the client retransmits)
        // gets this 503 again instead of being processed after the client was told no
        this.opts.onRefused?.(refusal.limit);
        this.newServer(keyed.key, req, d).respond(refusal.status, refusal.reason, { headers: refusal.headers });
        return;
      }
      const out = refusal && statelessResponse(req, d.remote, refusal);
      if (refusal && out) {
        this.opts.onRefused?.(refusal.limit);
        this.opts.send(d.local, out.to, out.bytes);
        return;
      }
    }
    if (valid.ok && keyed.ok) {
      const tx = this.newServer(keyed.key, req, d);
      this.opts.onRequest(req, tx);
      return;
    }
    this.stats.parseErrors++;
    const error = valid.ok ? (keyed as { error: string }).error : valid.error;
    if (!keyed.ok || !canAnswer(req)) {
      this.stats.unanswerable++;
      return;
    }
    const tx = this.newServer(keyed.key, req, d);
    this.stats.badRequests400++;
    tx.respond(400, badRequestReason(error));
  }

  private newServer(key: string, req: SipRequest, d: Datagram): ServerTransaction {
    const tx = new ServerTransaction(this, this.opts, key, req, d.remote, d.local);
    this.servers.set(key, tx);
    return tx;
  }

  /** end every transaction and clear its timers (stop: nothing may keep the process alive) */
  close(): void {
    for (const tx of [...this.clients.values()]) tx.end();
    for (const tx of [...this.servers.values()]) tx.terminate();
    this.answered.clear();
    this.completedClients.clear();
  }

  /** a live server transaction by its id (a completed one only answers retransmissions) */
  server(id: string): ServerTx | undefined {
    return this.servers.get(id);
  }

  /** ids of the server transactions still waiting for their final response, oldest first */
  unanswered(): string[] {
    const out: string[] = [];
    for (const tx of this.servers.values()) if (tx.state === 'trying' || tx.state === 'proceeding') out.push(tx.id);
    return out;
  }

  /** @internal a client transaction got its final response: timer K starts (expiresK) */
  clientCompleted(tx: ClientTransaction): void {
    this.completedClients.push(tx);
  }

  /** @internal */
  clientEnded(tx: ClientTransaction): void {
    if (this.clients.get(tx.branch) === tx) this.clients.delete(tx.branch);
  }

  /** @internal a server transaction sent its final response: timer J starts (expiresAt) */
  serverCompleted(tx: ServerTransaction): void {
    this.answered.push(tx);
  }

  /** @internal */
  serverEnded(tx: ServerTransaction): void {
    if (this.servers.get(tx.id) === tx) this.servers.delete(tx.id);
  }
}

/** responseTo needs Via, From, To, Call-ID and CSeq */
function canAnswer(req: SipRequest): boolean {
  return req.vias().ok && req.from().ok && req.to().ok && req.callId().ok && req.cseq().ok;
}

function looksLikeResponse(data: Uint8Array): boolean {
  // "SIP/" at the start: a status line
  return data.length >= 4 && data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f;
}
