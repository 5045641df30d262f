// The notification cycle machine (src/actors/membership/notification-cycle-machine.ts) through its
// whole graph (xstate/graph), read from the machine itself (its states, events, delays and invoked
// actors), for every answer its work can give (a DNS seed or not, no node / some nodes, none or
// some active, leave notices owed or not): every state node is reached; from every reachable
// snapshot a stop ends in `left` (after the leave answers or the leave wait), and the outcome
// events each run exactly their one action and never change the state.
import { describe, expect, it } from 'vitest';
import { transition, type EventObject, type SnapshotFrom } from 'xstate';
import { notificationCycleMachine, type CycleInput } from '../../../src/actors/membership/notification-cycle-machine.ts';
import type { CycleWork } from '../../../src/actors/membership/notification-cycle.ts';
import { allStateNodes, delayedEvents, invokeOutcomeEvents, shortestPaths, stateName, valueOf } from '../../support/machine-graph.ts';

type Snap = SnapshotFrom<typeof notificationCycleMachine>;
const m = notificationCycleMachine;

interface Scenario { dns: boolean; peers: number; active: number; leaveOwed: number }
const SCENARIOS: Scenario[] = [false, true].flatMap((dns) =>
  [[0, 0], [1, 0], [1, 1]].flatMap(([peers, active]) => [0, 1].map((leaveOwed) => ({ dns, peers, active, leaveOwed }))),
);

/** a CycleWork whose answers are the scenario's and whose actions do nothing */
function work(s: Scenario): CycleWork {
  return {
    hasDnsSeed: () => s.dns,
    peerCount: () => s.peers,
    activePeerCount: () => s.active,
    sendLeave: () => s.leaveOwed,
    expandSeed: () => Promise.resolve([]),
    // the actions: what runs during a traversal does nothing here
    addSeeds: () => {}, notifyAll: () => {}, notifySome: () => {}, probeLostSeeds: () => {},
    answer: () => '', applyOutcome: () => {}, applyProbe: () => {}, timedOut: () => {},
    scenario: s, // part of the serialized context: one graph per scenario
  } as unknown as CycleWork;
}

const node = { host: '127.0.0.2', port: '5090', transport: null };
const ok = { code: 200, reason: 'OK', body: '' };
/** the outcome events handled at the root, and the one action each runs */
const OUTCOMES: Array<[EventObject, string]> = [
  [{ type: 'cycle.request', body: '', sender: node, maxForwards: 1, respond: () => {} } as EventObject, 'answer'],
  [{ type: 'cycle.outcome', to: node, result: ok, sentAt: 0, sentWhile: 'active' } as EventObject, 'outcome'],
  [{ type: 'cycle.probed', to: node, result: ok } as EventObject, 'probed'],
  [{ type: 'cycle.dataTimedOut', to: node, sentAt: 0, sentWhile: 'active' } as EventObject, 'dataTimedOut'],
];
const COMMANDS: EventObject[] = m.events.filter((t) => !OUTCOMES.some(([e]) => e.type === t)).map((type) => ({ type }));
/** the commands, every delay's event, and the outcome of each invoked actor while it runs */
const EVENTS = (s: Snap): EventObject[] => [...COMMANDS, ...delayedEvents(m), ...invokeOutcomeEvents(s, [])];

const inputOf = (s: Scenario): CycleInput => ({ pingIntervalMs: 1000, work: work(s), onJoined: () => {}, leaveOnStop: true, leaveWaitMs: 2000 });
/**
 * The snapshots the cycle can be in, those in status `error` left out: an invoked actor's error
 * that no onError takes (discovery's DNS expansion has none; CycleWork.expandSeed does not reject,
 * DNS failures being values) stops the machine, and nothing runs after that.
 */
const reachable = (s: Scenario): Snap[] => shortestPaths(m, { input: inputOf(s), events: EVENTS }).map((p) => p.state).filter((x) => x.status !== 'error');

describe('notification cycle machine graph (xstate/graph)', () => {
  it('the outcome events are the machine\'s; the graph tries every other event and every delay', () => {
    for (const [e] of OUTCOMES) expect(m.events).toContain(e.type);
    expect(COMMANDS.length).toBeGreaterThan(0);
    expect(delayedEvents(m).length).toBeGreaterThan(0);
  });

  it('every state node is reached', () => {
    const snaps = SCENARIOS.flatMap(reachable);
    for (const n of allStateNodes(m)) expect(snaps.some((s) => s.matches(valueOf(n) as never)), n.id).toBe(true);
  });

  it('from every reachable snapshot, a stop ends in left: at once, after the leave answers, or after the leave wait', () => {
    const waited = delayedEvents(m).filter((e) => e.type.includes('leaving'));
    expect(waited.length).toBeGreaterThan(0);
    for (const sc of SCENARIOS) {
      for (const s0 of reachable(sc)) {
        if (s0.status === 'done') continue;
        const [stopped] = transition(m, s0, { type: 'cycle.stop' });
        const ends = [[{ type: 'cycle.leaveAnswered' }], waited].map((evs) => evs.reduce((s, e) => transition(m, s, e as never)[0], stopped));
        for (const end of ends) expect(stateName(end), `${JSON.stringify(s0.value)} ${JSON.stringify(sc)}`).toBe('left');
        if (sc.leaveOwed === 0) expect(stateName(stopped)).toBe('left');
      }
    }
  });

  it('in every reachable snapshot, each outcome event runs its one action and changes no state', () => {
    for (const sc of SCENARIOS) {
      for (const s0 of reachable(sc)) {
        if (s0.status === 'done') continue;
        for (const [e, action] of OUTCOMES) {
          const [next, actions] = transition(m, s0, e as never);
          expect(next.value).toEqual(s0.value);
          expect(actions.map((a) => a.type)).toEqual([action]);
        }
      }
    }
  });
});
