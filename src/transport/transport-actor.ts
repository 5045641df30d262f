// The transport actor: owns a (bound) Transport and its TransactionLayer (RFC 3261 §17 non-INVITE,
// see transactions.ts) and speaks typed events with its parent. `transportActor` is xstate v5
// callback logic for `spawn`/`invoke`; `createTransportHandle` is the same core without xstate
// (for the CLI and plain tests).
//
// Events the actor RECEIVES (from its parent):
//   transport.request  { id, request: OutgoingRequest (no Via), from: Endpoint, to: Endpoint }
//                      start a client transaction; `id` is the caller's domain key, unique while
//                      in flight (a duplicate in-flight id is a bug and throws)
//   transport.respond  { txId, status, reason, toTag?, headers?, body? }
//                      answer the server transaction `txId` (1xx may be followed by a final);
//                      an unknown or finished txId is ignored
//   transport.cancel   { id }  forget a client transaction: no more retransmissions, no reply event
// Events the actor SENDS BACK (to its parent):
//   transport.received { request: SipRequest, txId, source: Endpoint, local: Endpoint }
//                      a new request (retransmissions and 400-answered garbage never appear)
//   transport.response { id, response: SipResponse }   the final response of client tx `id`
//   transport.timedOut { id }                          timer F fired (the 408 of §17.1.2.2)

import { fromCallback } from 'xstate';
import type { OutgoingRequest, SipRequest, SipResponse } from '../sip/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Endpoint, Transport } from './transport.ts';
import { TransactionLayer } from './transactions.ts';
import type { ClientHandle, TimerConfig, TransactionStats } from './transactions.ts';
import type { RequestLimitName, RequestLimits } from './request-limits.ts';

export type TransportInEvent =
  | { type: 'transport.request'; id: string; request: OutgoingRequest; from: Endpoint; to: Endpoint }
  | {
      type: 'transport.respond';
      txId: string;
      status: number;
      reason: string;
      toTag?: string;
      headers?: Array<[string, string]>;
      body?: Uint8Array | string;
    }
  | { type: 'transport.cancel'; id: string };

export type TransportOutEvent =
  | { type: 'transport.received'; request: SipRequest; txId: string; source: Endpoint; local: Endpoint }
  | { type: 'transport.response'; id: string; response: SipResponse }
  | { type: 'transport.timedOut'; id: string };

export interface TransportActorInput {
  /** already bound: the actor neither binds nor picks addresses */
  transport: Transport;
  clock: Clock;
  /** used for branches; fork it per node ("node-a/transport") before passing it in */
  random: Random;
  timers?: Partial<TimerConfig>;
  rport?: boolean;
  /** close the transport when the actor stops (default true) */
  closeOnStop?: boolean;
  /** request limits (config `limits:`) and where refusals are counted */
  limits?: RequestLimits;
  onRefused?: (limit: RequestLimitName) => void;
}

export interface TransportHandle {
  handle(event: TransportInEvent): void;
  readonly layer: TransactionLayer;
  readonly stats: TransactionStats;
  /** server transactions awaiting their final response */
  pendingServerTx(): string[];
  /** client transactions awaiting their outcome */
  pendingClientTx(): string[];
  /** cancel every client transaction, detach, and close the transport if it owns it */
  stop(): Promise<void>;
}

/**
 * The handle built for each input. Its layer and client map live in closures: the exhaustive
 * explorer's state digest (src/sim/state-digest.ts) finds them here from the actor's input.
 */
const handles = new WeakMap<object, TransportHandle>();

export function transportHandleOf(input: object): TransportHandle | undefined {
  return handles.get(input);
}

/** The transaction layer over the input's transport; a new server transaction is emitted as transport.received. */
function transactionLayerOf(input: TransportActorInput, emit: (event: TransportOutEvent) => void): TransactionLayer {
  const { transport } = input;
  return new TransactionLayer({
    clock: input.clock,
    random: input.random,
    timers: input.timers,
    rport: input.rport,
    limits: input.limits,
    onRefused: input.onRefused,
    send: (from, to, data) => transport.send(from, to, data),
    onRequest: (request, tx) => {
      emit({ type: 'transport.received', request, txId: tx.id, source: tx.source, local: tx.local });
    },
  });
}

/** The transport core without xstate: events in through handle(), out through emit. */
export function createTransportHandle(
  input: TransportActorInput,
  emit: (event: TransportOutEvent) => void,
): TransportHandle {
  const { transport } = input;
  const clients = new Map<string, ClientHandle>();
  let stopped = false;

  const layer = transactionLayerOf(input, emit);
  transport.onDatagram((d) => {
    if (!stopped) layer.receive(d);
  });

  const startClient = (e: Extract<TransportInEvent, { type: 'transport.request' }>): void => {
    if (clients.has(e.id)) throw new Error(`transport.request: id ${e.id} is already in flight`);
    const h = layer.request(e.request, e.from, e.to, (outcome) => {
      clients.delete(e.id);
      if (outcome.kind === 'response') emit({ type: 'transport.response', id: e.id, response: outcome.response });
      else emit({ type: 'transport.timedOut', id: e.id });
    });
    clients.set(e.id, h);
  };

  const respond = (e: Extract<TransportInEvent, { type: 'transport.respond' }>): void => {
    // the layer's own transaction: one that already sent its final response (kept for timer J)
    // ignores a second one, as an unknown or ended txId is ignored
    const tx = layer.server(e.txId);
    if (!tx) return;
    tx.respond(e.status, e.reason, e); // e carries toTag, headers and body
  };

  const h: TransportHandle = {
    layer,
    stats: layer.stats,
    handle(event) {
      if (stopped) return;
      switch (event.type) {
        case 'transport.request':
          startClient(event);
          break;
        case 'transport.respond':
          respond(event);
          break;
        case 'transport.cancel':
          clients.get(event.id)?.cancel();
          clients.delete(event.id);
          break;
      }
    },
    pendingServerTx: () => layer.unanswered(),
    pendingClientTx: () => [...clients.keys()],
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const h of clients.values()) h.cancel();
      clients.clear();
      layer.close(); // timers J/K of finished transactions would keep the process alive
      transport.onDatagram(() => {});
      if (input.closeOnStop !== false) await transport.close();
    },
  };
  handles.set(input, h);
  return h;
}

/** xstate v5 callback logic: `spawn(transportActor, { input })` or `invoke: { src: transportActor }` */
export const transportActor = fromCallback<TransportInEvent, TransportActorInput>(({ input, sendBack, receive }) => {
  const handle = createTransportHandle(input, (e) => sendBack(e));
  receive((e) => handle.handle(e));
  return () => {
    void handle.stop();
  };
});
