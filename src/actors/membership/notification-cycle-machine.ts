// The notification cycle of one node as an xstate machine (protocol reference §2.3–§2.6, §2.9;
// specs/membership.md "The notification cycle"). Its states are the cycle's:
//   discovery  the notification addresses go into the node list (a DNS name: multi_notify's
//              expansion, an invoked promise actor), then
//   joining    the startup notification (MF 2) went to every known node; no node is active yet
//   running    joined: some node answered or notified us; the channels' init callbacks ran once.
//              Every ping (`cycle.tick`) notifies every node (MF 1); a DNS seed is re-expanded
//              after it (`running.expanding`), lost seeds are probed (fail_remove)
//   leaving    stopped: the leave notice (our own line `disabled`) went to every active node;
//              waits for their answers, at most `leaveWaitMs`
//   left       final.
// A ping that finds the list empty goes back to discovery (Kamailio redoes the startup). The ping
// timer is a parallel region, started with the cycle, so the pings keep their period whatever the
// membership region does. What each action does (list bodies, merging, sends) is CycleWork's
// (notification-cycle.ts); which action runs when, and every state change, is this machine's.

import { assign, fromPromise, raise, setup, type Actor, type StateValue } from 'xstate';
import type { KdmqOutcome } from '../dmq/dmq-sender.ts';
import type { NodeStatus } from './node-list-body.ts';
import type { NodeId } from './node-list.ts';
import type { CycleWork } from './notification-cycle.ts';

export interface CycleInput {
  pingIntervalMs: number;
  /** what the actions do: the node list's bodies and merges, and the sends */
  work: CycleWork;
  /** the channels' init callbacks (sync requests, §2.8): once per join */
  onJoined: () => void;
  /** send the leave notice on stop (config dmq.leave_on_stop) */
  leaveOnStop: boolean;
  /** how long `leaving` waits for the leave notice's answers (default 2 s) */
  leaveWaitMs?: number;
}

interface CycleContext extends CycleInput {
  /** leave notices not yet answered */
  leavePending: number;
  /** which re-expansion `running.expanding` waits for (a late answer of an earlier one is ignored) */
  expansion: number;
}

export type CycleEvent =
  /** a notification request from another node; `respond` gets the body of our 200 */
  | { type: 'cycle.request'; body: string; sender: NodeId | null; maxForwards: number; respond: (body: string) => void }
  /** the outcome of a notification we sent (sentAt/sentWhile describe it) */
  | { type: 'cycle.outcome'; to: NodeId; result: KdmqOutcome; sentAt: number; sentWhile: NodeStatus }
  /** the outcome of a probe of a seed that is not in the list (kdmq C4) */
  | { type: 'cycle.probed'; to: NodeId; result: KdmqOutcome }
  /** a data-channel request timed out: the same failure evidence as a ping time-out (kdmq) */
  | { type: 'cycle.dataTimedOut'; to: NodeId; sentAt: number; sentWhile: NodeStatus }
  /** an answer (or time-out) to the leave notice */
  | { type: 'cycle.leaveAnswered' }
  /** a re-expansion of the DNS seed in `running.expanding` finished (`nodes`: the nodes it added) */
  | { type: 'cycle.expanded'; expansion: number; nodes: NodeId[] }
  | { type: 'cycle.pingNow' }
  | { type: 'cycle.tick' }
  | { type: 'cycle.stop' };

type Ctx = { context: CycleContext };

export const notificationCycleMachine = setup({
  types: { context: {} as CycleContext, events: {} as CycleEvent, input: {} as CycleInput },
  actors: {
    /** multi_notify's expansion of the first notification address; resolves to the nodes it added */
    expand: fromPromise<NodeId[], { work: CycleWork }>(({ input }) => input.work.expandSeed()),
  },
  guards: {
    dnsSeed: ({ context }: Ctx) => context.work.hasDnsSeed(),
    noPeers: ({ context }: Ctx) => context.work.peerCount() === 0,
    hasActivePeer: ({ context }: Ctx) => context.work.activePeerCount() > 0,
    leaveAnswered: ({ context }: Ctx) => context.leavePending <= 0,
  },
  actions: {
    addSeeds: ({ context }: Ctx) => context.work.addSeeds(),
    notifyAll: ({ context }: Ctx, p: { maxForwards: number }) => context.work.notifyAll(p.maxForwards),
    notifySome: ({ context }: Ctx, p: { nodes: NodeId[] }) => context.work.notifySome(p.nodes, 2),
    probeSeeds: ({ context }: Ctx) => context.work.probeLostSeeds(),
    joined: ({ context }: Ctx) => context.onJoined(),
    answer: ({ context }: Ctx, e: Extract<CycleEvent, { type: 'cycle.request' }>) => e.respond(context.work.answer(e.body, e.sender, e.maxForwards)),
    outcome: ({ context }: Ctx, e: Extract<CycleEvent, { type: 'cycle.outcome' }>) => context.work.applyOutcome(e.to, e.result, e.sentAt, e.sentWhile),
    probed: ({ context }: Ctx, e: Extract<CycleEvent, { type: 'cycle.probed' }>) => context.work.applyProbe(e.to, e.result),
    dataTimedOut: ({ context }: Ctx, e: Extract<CycleEvent, { type: 'cycle.dataTimedOut' }>) => context.work.timedOut(e.to, e.sentAt, e.sentWhile),
    leave: assign({ leavePending: ({ context, self }) => (context.leaveOnStop ? context.work.sendLeave(() => self.send({ type: 'cycle.leaveAnswered' })) : 0) }),
    leaveAnswered: assign({ leavePending: ({ context }) => context.leavePending - 1 }),
    nextExpansion: assign({ expansion: ({ context }) => context.expansion + 1 }),
    /** the re-expansion as a plain promise whose end is an event (no actor per ping: see cycleSender's figure) */
    reexpand: ({ context, self }: Ctx & { self: { send(e: CycleEvent): void } }) => {
      const expansion = context.expansion;
      const done = (nodes: NodeId[]): void => self.send({ type: 'cycle.expanded', expansion, nodes });
      context.work.expandSeed().then(done, () => done([]));
    },
  },
  delays: {
    pingInterval: ({ context }) => context.pingIntervalMs,
    leaveWait: ({ context }) => context.leaveWaitMs ?? 2000,
  },
}).createMachine({
  id: 'notificationCycle',
  context: ({ input }) => ({ ...input, leavePending: 0, expansion: 0 }),
  initial: 'cycling',
  on: {
    'cycle.request': { actions: { type: 'answer', params: ({ event }) => event } },
    'cycle.outcome': { actions: { type: 'outcome', params: ({ event }) => event } },
    'cycle.probed': { actions: { type: 'probed', params: ({ event }) => event } },
    'cycle.dataTimedOut': { actions: { type: 'dataTimedOut', params: ({ event }) => event } },
  },
  states: {
    cycling: {
      type: 'parallel',
      on: { 'cycle.stop': '#notificationCycle.leaving' },
      states: {
        membership: {
          initial: 'discovery',
          states: {
            discovery: {
              always: { guard: ({ context }) => !context.work.hasDnsSeed(), target: 'joining', actions: 'addSeeds' },
              invoke: { src: 'expand', input: ({ context }) => ({ work: context.work }), onDone: 'joining', onError: 'joining' },
            },
            joining: {
              entry: { type: 'notifyAll', params: { maxForwards: 2 } },
              always: { guard: 'hasActivePeer', target: 'running', actions: 'joined' },
              on: {
                'cycle.tick': [{ guard: 'noPeers', target: 'discovery' }, { actions: { type: 'notifyAll', params: { maxForwards: 1 } } }],
              },
            },
            running: {
              initial: 'idle',
              states: {
                idle: {
                  on: {
                    'cycle.tick': [
                      { guard: 'noPeers', target: '#notificationCycle.cycling.membership.discovery' },
                      { guard: 'dnsSeed', target: 'expanding', actions: { type: 'notifyAll', params: { maxForwards: 1 } } },
                      { actions: [{ type: 'notifyAll', params: { maxForwards: 1 } }, 'probeSeeds'] },
                    ],
                  },
                },
                expanding: {
                  entry: ['nextExpansion', 'reexpand'],
                  on: {
                    'cycle.expanded': {
                      guard: ({ context, event }) => event.expansion === context.expansion,
                      target: 'idle',
                      actions: { type: 'notifySome', params: ({ event }) => ({ nodes: event.nodes }) },
                    },
                    'cycle.tick': [{ guard: 'noPeers', target: '#notificationCycle.cycling.membership.discovery' }, { actions: { type: 'notifyAll', params: { maxForwards: 1 } } }],
                  },
                },
              },
            },
          },
        },
        pinger: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { pingInterval: { target: 'waiting', reenter: true, actions: raise({ type: 'cycle.tick' }) } },
              on: { 'cycle.pingNow': { target: 'waiting', reenter: true, actions: raise({ type: 'cycle.tick' }) } },
            },
          },
        },
      },
    },
    leaving: {
      entry: 'leave',
      always: { guard: 'leaveAnswered', target: 'left' },
      on: { 'cycle.leaveAnswered': { actions: 'leaveAnswered' } },
      after: { leaveWait: 'left' },
    },
    left: { type: 'final' },
  },
});

type CycleActor = Actor<typeof notificationCycleMachine>;
type ActionImpl = (args: { context: CycleContext; event: CycleEvent; self: CycleActor; system: unknown }, params: unknown) => void;
interface DirectTransition { impl: ActionImpl; params: (args: { context: CycleContext; event: CycleEvent }) => unknown }

/**
 * The one measured shortcut of this machine (#16 item 1), read from its definition: an event whose
 * only transition anywhere in the machine is one unguarded, targetless transition of the root
 * whose only action is a named one (cycle.request, cycle.outcome, cycle.probed,
 * cycle.dataTimedOut) is applied by calling that action, exactly as the macrostep would, while
 * no active state has an eventless (`always`) transition that the action could enable (that is:
 * in `running`; in discovery, joining and leaving the event goes through xstate). Figure: the
 * checker's speed as `kdmq check` runs it (`npm run bench -- --only sim-check`, 5 nodes) went from
 * about 2 600 to 1 300 node-s per CPU second when these became macrosteps (2026-12-07, same machine).
 */
export function cycleSender(actor: CycleActor): (e: CycleEvent) => void {
  const machine = actor.logic;
  const direct = directTransitions(machine);
  const eventless = eventlessStates(machine.root);
  // whether the snapshot allows it, worked out once per snapshot (a macrostep makes a new one)
  let seen: unknown = null;
  let allowed = false;
  return (e) => {
    const t = direct.get(e.type);
    const snap = actor.getSnapshot();
    if (snap !== seen) {
      seen = snap;
      allowed = snap.status === 'active' && !eventless.some((v) => snap.matches(v as Parameters<typeof snap.matches>[0]));
    }
    if (t === undefined || !allowed) return void actor.send(e);
    t.impl({ context: snap.context, event: e, self: actor, system: actor.system }, t.params({ context: snap.context, event: e }));
  };
}

type AnyNode = typeof notificationCycleMachine.root;

function directTransitions(machine: typeof notificationCycleMachine): Map<string, DirectTransition> {
  const handledBelow = new Set<string>();
  const walk = (n: AnyNode): void => {
    for (const c of Object.values(n.states) as AnyNode[]) {
      for (const type of c.transitions.keys()) handledBelow.add(type);
      walk(c);
    }
  };
  walk(machine.root);
  const impls = machine.implementations.actions as Record<string, ActionImpl>;
  const out = new Map<string, DirectTransition>();
  for (const [type, ts] of machine.root.transitions) {
    const t = ts[0];
    const a = t.actions[0] as { type?: string; params?: DirectTransition['params'] } | undefined;
    const only = ts.length === 1 && t.guard === undefined && (t.target === undefined || t.target.length === 0) && t.actions.length === 1;
    if (!only || handledBelow.has(type) || typeof a?.type !== 'string' || typeof a.params !== 'function' || impls[a.type] === undefined) continue;
    out.set(type, { impl: impls[a.type], params: a.params });
  }
  return out;
}

/** the state values of every state node with an eventless transition */
function eventlessStates(root: AnyNode): StateValue[] {
  const out: StateValue[] = [];
  const walk = (n: AnyNode): void => {
    if (n.always !== undefined && n.always.length > 0 && n.path.length > 0) out.push(valueOf(n.path));
    for (const c of Object.values(n.states) as AnyNode[]) walk(c);
  };
  walk(root);
  return out;
}

function valueOf(path: readonly string[]): StateValue {
  let v: StateValue = path[path.length - 1];
  for (let i = path.length - 2; i >= 0; i--) v = { [path[i]]: v };
  return v;
}
