// The node machine's whole graph (xstate/graph) against specs/membership.md: from every kind of
// start (each initial status, seed kept or not, trusted or suspect), over a finite set of events
// that covers each event type the machine knows and each guard's both outcomes, every edge of the
// adjacency map is exactly one row of the spec's table and lands where the row says; every row is
// such an edge (the table has no row the machine cannot take); every state of the machine is
// reached, and each shortest path to it, replayed on a running actor, ends there.
import { describe, expect, it } from 'vitest';
import { createActor, type SnapshotFrom } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { nodeMachine, type NodeEvent, type NodeInput } from '../../../src/actors/membership/node-machine.ts';
import { NODE_STATUSES, type NodeStatus } from '../../../src/actors/membership/node-list-body.ts';
import { matchingRows, readMembershipRows } from '../../support/membership-table.ts';

const rows = readMembershipRows();
type Snap = SnapshotFrom<typeof nodeMachine>;

/** start time of every input; signs of life come at 5000, time-outs at 6000 */
const AT = 1000;
/**
 * Finite, so the graph is: a fresh time-out (sent at 5000, never before the latest sign of life),
 * sent while active or while disabled; a stale one (sent at -1, before any sign of life).
 */
const EVENTS: NodeEvent[] = [
  ...NODE_STATUSES.map((status): NodeEvent => ({ type: 'node.listed', status, fromSelf: false, at: 5000 })),
  { type: 'node.replied', at: 5000 },
  { type: 'node.heard', at: 5000 },
  { type: 'node.timedOut', at: 6000, sentAt: 5000, sentWhile: 'active' },
  { type: 'node.timedOut', at: 6000, sentAt: 5000, sentWhile: 'disabled' },
  { type: 'node.timedOut', at: 6000, sentAt: -1, sentWhile: 'active' },
  { type: 'node.remove' },
];

/** every kind of start: each initial status, seed kept (Kamailio) or not, trusted or suspect (a node removed after time-outs, C2) */
const INPUTS: NodeInput[] = NODE_STATUSES.flatMap((initial: NodeStatus) =>
  [{ seed: false, failRemove: true }, { seed: true, failRemove: false }].flatMap((s) =>
    [0, 2000].map((failedAt) => ({ key: 'k', host: '127.0.0.9', port: '5090', transport: null, initial, at: AT, failedAt, ...s })),
  ),
);

const options = (input: NodeInput) => ({ input, events: (s: Snap) => (s.status === 'done' ? [] : EVENTS) });
const stateOf = (s: Snap): string => (s.status === 'done' ? 'removed' : String(s.value));

describe('node machine graph (xstate/graph) against specs/membership.md', () => {
  it('the events cover every event type the machine handles', () => {
    expect(new Set(EVENTS.map((e) => e.type))).toEqual(new Set(nodeMachine.events));
  });

  it('every edge is exactly one row of the table and goes where it says; every row is an edge', () => {
    const taken = new Set<string>();
    for (const input of INPUTS) {
      for (const { state, event, nextState } of adjacencyMapToArray(getAdjacencyMap(nodeMachine, options(input)))) {
        const from = stateOf(state);
        const match = matchingRows(rows, from, state.context, event);
        expect(match.map((r) => r.id), `${from} ${JSON.stringify(event)} ${JSON.stringify(state.context)}`).toHaveLength(1);
        expect(stateOf(nextState)).toBe(match[0].to);
        taken.add(match[0].id);
      }
    }
    expect([...taken].sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it('every state is reached, and each shortest path replayed on an actor ends in it', () => {
    const resting = Object.keys(nodeMachine.root.states).filter((k) => nodeMachine.root.states[k].always === undefined);
    const reached = new Set<string>();
    for (const input of INPUTS) {
      for (const path of getShortestPaths(nodeMachine, options(input))) {
        const actor = createActor(nodeMachine, { input }).start();
        for (const step of path.steps) actor.send(step.event);
        expect(stateOf(actor.getSnapshot())).toBe(stateOf(path.state));
        expect(actor.getSnapshot().context).toEqual(path.state.context);
        reached.add(stateOf(path.state));
      }
    }
    expect([...reached].sort()).toEqual([...resting].sort());
  });
});
