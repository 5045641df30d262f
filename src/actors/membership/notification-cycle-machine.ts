// The notification cycle's timing as an xstate machine (protocol reference §2.3, §2.6): start →
// startup notification, then a ping every ping_interval until stopped, then the leave notice.
// Actions are bound in create-node.ts to a NotificationCycle; the machine only orders them.

import { setup } from 'xstate';

export interface CycleInput {
  pingIntervalMs: number;
}

export type CycleEvent = { type: 'cycle.stop' } | { type: 'cycle.pingNow' };

export const notificationCycleMachine = setup({
  types: {
    context: {} as CycleInput,
    events: {} as CycleEvent,
    input: {} as CycleInput,
  },
  actions: {
    startup: () => {},
    ping: () => {},
    leave: () => {},
  },
  delays: {
    pingInterval: ({ context }) => context.pingIntervalMs,
  },
}).createMachine({
  id: 'notificationCycle',
  context: ({ input }) => ({ ...input }),
  initial: 'joining',
  states: {
    joining: {
      entry: 'startup',
      always: 'running',
    },
    running: {
      after: {
        pingInterval: { target: 'running', reenter: true, actions: 'ping' },
      },
      on: {
        'cycle.pingNow': { target: 'running', reenter: true, actions: 'ping' },
        'cycle.stop': 'left',
      },
    },
    left: {
      entry: 'leave',
      type: 'final',
    },
  },
});
