// One peer node's membership status as an xstate machine (specs/membership.md, protocol
// reference §2.5 and §2.7). States are Kamailio 5.6.3's statuses plus `removed` (final).
// Our differences from 5.6.3 are guards: stale time-outs are ignored, suspects are not revived by
// gossip, direct evidence (a request from the node itself) revives, seeds can be removed.

import { and, assign, setup } from 'xstate';
import type { NodeStatus } from './node-list-body.ts';

export interface NodeContext {
  key: string;
  host: string;
  port: string;
  transport: string | null;
  /** configured notification address (Kamailio: orig_uri equals a notification_address) */
  seed: boolean;
  /** remove seeds after two failures too (kdmq); false = Kamailio: a failed seed goes pending */
  failRemove: boolean;
  /** last time (ms) we had direct evidence the node is alive: a 200 from it or a request from it */
  aliveAt: number;
  /** last time (ms) a request to it timed out */
  failedAt: number;
  /** status the entry was created with */
  initial: NodeStatus;
  /** the planted fault 'gossip-revives-disabled' (src/ports/faults.ts); false on every real node */
  gossipRevivesDisabled: boolean;
}

export type NodeEvent =
  /** a line about this node in a received node list (request or 200 body) */
  | { type: 'node.listed'; status: NodeStatus; fromSelf: boolean; at: number }
  /** a 200 to a notification request we sent to it */
  | { type: 'node.replied'; at: number }
  /** a request from the node itself whose body lists itself active (kdmq: direct evidence) */
  | { type: 'node.heard'; at: number }
  /** a request to it timed out (408); sentAt/sentWhile describe the request */
  | { type: 'node.timedOut'; at: number; sentAt: number; sentWhile: NodeStatus }
  /** dmq.remove RPC */
  | { type: 'node.remove' };

export interface NodeInput {
  key: string;
  host: string;
  port: string;
  transport: string | null;
  seed: boolean;
  failRemove: boolean;
  initial: NodeStatus;
  at: number;
  /** last failure of an earlier entry for this node, removed after time-outs (default 0) */
  failedAt?: number;
  /** plant the fault 'gossip-revives-disabled' (the simulator's tests; default false) */
  gossipRevivesDisabled?: boolean;
}

export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeEvent,
    input: {} as NodeInput,
  },
  guards: {
    /** a 408 for a request sent before the latest sign of life says nothing about now */
    stale: ({ context, event }) => event.type === 'node.timedOut' && event.sentAt < context.aliveAt,
    seedKept: ({ context }) => context.seed && !context.failRemove,
    sentWhileDisabled: ({ event }) => event.type === 'node.timedOut' && event.sentWhile === 'disabled',
    /** gossip may not promote a node whose last direct contact failed */
    trusted: ({ context }) => context.failedAt <= context.aliveAt,
    listedActive: ({ event }) => event.type === 'node.listed' && event.status === 'active',
    listedTimeout: ({ event }) => event.type === 'node.listed' && event.status === 'timeout',
    listedDisabled: ({ event }) => event.type === 'node.listed' && event.status === 'disabled',
    listedPending: ({ event }) => event.type === 'node.listed' && event.status === 'pending',
  },
  actions: {
    markAlive: assign({ aliveAt: ({ event, context }) => ('at' in event ? Math.max(context.aliveAt, event.at) : context.aliveAt) }),
    markFailed: assign({ failedAt: ({ event, context }) => ('at' in event ? Math.max(context.failedAt, event.at) : context.failedAt) }),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({
    key: input.key,
    host: input.host,
    port: input.port,
    transport: input.transport,
    seed: input.seed,
    failRemove: input.failRemove,
    aliveAt: input.initial === 'active' ? input.at : 0,
    failedAt: input.failedAt ?? 0,
    initial: input.initial,
    gossipRevivesDisabled: input.gossipRevivesDisabled ?? false,
  }),
  initial: 'boot',
  states: {
    boot: {
      always: [
        { guard: ({ context }) => context.initial === 'active', target: 'active' },
        { guard: ({ context }) => context.initial === 'timeout', target: 'timeout' },
        { guard: ({ context }) => context.initial === 'disabled', target: 'disabled' },
        { target: 'pending' },
      ],
    },
    pending: {
      on: {
        'node.listed': [
          { guard: and(['listedActive', 'trusted']), target: 'active' },
          { guard: 'listedTimeout', target: 'timeout' },
          { guard: 'listedDisabled', target: 'disabled' },
        ],
        'node.replied': { target: 'active', actions: 'markAlive' },
        'node.heard': { target: 'active', actions: 'markAlive' },
        'node.timedOut': [
          { guard: 'stale' },
          { guard: 'seedKept', target: 'pending', actions: 'markFailed' },
          { target: 'disabled', actions: 'markFailed' },
        ],
        'node.remove': 'removed',
      },
    },
    active: {
      on: {
        'node.listed': [
          { guard: 'listedTimeout', target: 'timeout' },
          { guard: 'listedDisabled', target: 'disabled' },
          { guard: 'listedPending', target: 'pending' },
        ],
        'node.replied': { actions: 'markAlive' },
        'node.heard': { actions: 'markAlive' },
        'node.timedOut': [
          { guard: 'stale' },
          { guard: 'seedKept', target: 'pending', actions: 'markFailed' },
          { target: 'disabled', actions: 'markFailed' },
        ],
        'node.remove': 'removed',
      },
    },
    timeout: {
      on: {
        'node.listed': [
          { guard: and(['listedActive', 'trusted']), target: 'active' },
          { guard: 'listedDisabled', target: 'disabled' },
          { guard: 'listedPending', target: 'pending' },
        ],
        'node.replied': { target: 'active', actions: 'markAlive' },
        'node.heard': { target: 'active', actions: 'markAlive' },
        'node.timedOut': [
          { guard: 'stale' },
          { guard: 'seedKept', target: 'pending', actions: 'markFailed' },
          { target: 'disabled', actions: 'markFailed' },
        ],
        'node.remove': 'removed',
      },
    },
    disabled: {
      on: {
        'node.listed': { guard: ({ context, event }) => context.gossipRevivesDisabled && event.type === 'node.listed' && event.status === 'active', target: 'active' }, // planted fault, see src/ports/faults.ts
        'node.replied': { target: 'active', actions: 'markAlive' },
        'node.heard': { target: 'active', actions: 'markAlive' },
        'node.timedOut': [
          { guard: 'stale' },
          { guard: 'seedKept', target: 'pending', actions: 'markFailed' },
          { guard: 'sentWhileDisabled', target: 'removed', actions: 'markFailed' },
          { actions: 'markFailed' },
        ],
        'node.remove': 'removed',
      },
    },
    removed: { type: 'final' },
  },
});

/**
 * The events that, in `state`, only raise `aliveAt`: the state has one transition for them, with
 * no guard and no target, whose only action is `markAlive` (a max). A run of such events has the
 * effect of its latest-timed one, so a caller may hold them back and hand the actor the latest,
 * just before any other event (NodeList does: every ping round brings each node one node.heard
 * and one node.replied per node, and through xstate they were a quarter of a 50-node round's CPU).
 * Read from this machine's own definition: a change that gives those events another effect makes
 * them stop coalescing. test/actors/membership/signs-of-life.test.ts checks the equivalence.
 */
export function coalescingEvents(state: string): ReadonlySet<string> {
  let found = coalescing.get(state);
  if (found === undefined) {
    const set = new Set<string>();
    const node = nodeMachine.root.states[state];
    for (const [type, ts] of node?.transitions ?? []) {
      const t = ts[0];
      const only = ts.length === 1 && t.guard === undefined && (t.target === undefined || t.target.length === 0) && t.actions.length === 1;
      if (only && (t.actions[0] === 'markAlive' || (t.actions[0] as { type?: string }).type === 'markAlive')) set.add(type);
    }
    coalescing.set(state, set);
    found = set;
  }
  return found;
}
/** per state of the one machine definition (the definition is immutable: the same for every node) */
const coalescing = new Map<string, ReadonlySet<string>>();
