// The root actor of one node: invokes the transport actor (sockets + transactions) and the
// notification cycle actor, hands what the transport actor reports (a request received, the
// outcome of a request sent) to the router and the KDMQ client, and forwards commands to its
// children. `route` and `complete` are bound by create-node.ts (the one composition root) with
// `provide`; this file only wires events between actors.

import { sendTo, setup } from 'xstate';
import { transportActor, type TransportActorInput, type TransportOutEvent } from '../../transport/transport-actor.ts';
import { notificationCycleMachine, type CycleInput } from '../membership/notification-cycle-machine.ts';

export type RootEvent = TransportOutEvent | { type: 'node.pingNow' } | { type: 'node.stop' };

export interface RootInput {
  transport: TransportActorInput;
  cycle: CycleInput;
}

export const nodeRootMachine = setup({
  types: { events: {} as RootEvent, input: {} as RootInput, context: {} as RootInput },
  actors: { transport: transportActor, cycle: notificationCycleMachine },
  actions: {
    route: (_, _params: { event: Extract<TransportOutEvent, { type: 'transport.received' }> }) => {},
    complete: (_, _params: { event: Exclude<TransportOutEvent, { type: 'transport.received' }> }) => {},
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => input,
  initial: 'running',
  states: {
    running: {
      invoke: [
        { id: 'transport', src: 'transport', input: ({ context }) => context.transport },
        { id: 'cycle', src: 'cycle', input: ({ context }) => context.cycle },
      ],
      on: {
        'transport.received': { actions: { type: 'route', params: ({ event }) => ({ event }) } },
        'transport.response': { actions: { type: 'complete', params: ({ event }) => ({ event }) } },
        'transport.timedOut': { actions: { type: 'complete', params: ({ event }) => ({ event }) } },
        'node.pingNow': { actions: sendTo('cycle', { type: 'cycle.pingNow' }) },
        'node.stop': { actions: sendTo('cycle', { type: 'cycle.stop' }) },
      },
    },
  },
});
