// The transport actor as a node's root invokes it: its input from the config, and the one measured
// shortcut between the root and the transport actor (#16 item 1).

import { fromCallback, type Actor } from 'xstate';
import type { KdmqConfig } from '../../config/types.ts';
import { createTransportHandle, type TransportActorInput, type TransportInEvent, type TransportOutEvent } from '../../transport/transport-actor.ts';
import type { LimitGuard } from '../channels/limits.ts';
import type { nodeRootMachine } from './node-root-machine.ts';
import type { Ports } from './create-node.ts';

export function transportInputOf(config: KdmqConfig, ports: Ports, limits: LimitGuard): TransportActorInput {
  const timeoutF = config.sip.kdmq_timeout > 0 ? config.sip.kdmq_timeout : undefined;
  return {
    transport: ports.transport,
    clock: ports.clock,
    random: ports.random.fork('transport'),
    timers: { t1: config.sip.t1, t2: config.sip.t2, t4: config.sip.t4, ...(timeoutF ? { timeoutF } : {}) },
    closeOnStop: false,
    limits: {
      maxDatagram: limits.config.max_datagram,
      maxHeaders: limits.config.max_headers,
      maxBody: limits.config.max_body,
      maxPendingServer: limits.config.max_pending_transactions,
      maxQueueWait: limits.config.max_queue_wait,
      maxStreamMessage: config.tcp?.max_message ?? 1_048_576,
    },
    onRefused: (l) => void limits.refusals[l]++,
  };
}

/**
 * The transport actor as the root invokes it, with the one measured shortcut of #16: while the
 * root runs, what the transport reports goes straight to the root's own `route`/`complete`
 * actions (in order: one reported while another is handled waits for it, as in a mailbox), and
 * commands go straight to the actor's handle (createNode's toTransport), instead of one xstate
 * macrostep of the root (and a relay to the child) per datagram. Figure: the simulated REGISTER
 * rate of `npm run bench -- --only trace` halved without it (7 265 → 3 069 req/s median, same
 * machine, 2026-12-07). A root that stopped gets the events through xstate as the card says.
 */
export function transportShortcut(
  rootOf: () => Actor<typeof nodeRootMachine>,
  route: (e: Extract<TransportOutEvent, { type: 'transport.received' }>) => void,
  complete: (e: Exclude<TransportOutEvent, { type: 'transport.received' }>) => void,
) {
  return fromCallback<TransportInEvent, TransportActorInput>(({ input, sendBack, receive }) => {
    const queue: TransportOutEvent[] = [];
    let busy = false;
    const handle = createTransportHandle(input, (e) => {
      if (rootOf().getSnapshot().status !== 'active') return sendBack(e);
      queue.push(e);
      if (busy) return;
      busy = true;
      try {
        for (let x = queue.shift(); x !== undefined; x = queue.shift()) {
          if (x.type === 'transport.received') route(x);
          else complete(x);
        }
      } finally {
        busy = false;
      }
    });
    receive((e) => handle.handle(e));
    return () => void handle.stop();
  });
}
