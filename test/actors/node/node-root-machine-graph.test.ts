// The node's root machine (src/actors/node/node-root-machine.ts) through its whole graph
// (xstate/graph): every state it can rest in is reached, and each event it declares does, in every
// reachable state, what the root's wiring says: transport events go to the router (route) or to the
// KDMQ client (complete), commands go to the child that owns them.
import { describe, expect, it } from 'vitest';
import { nodeRootMachine, type RootInput } from '../../../src/actors/node/node-root-machine.ts';
import { edgesOf, restingStates, shortestPaths, stateName } from '../../support/machine-graph.ts';

/** the wiring the root promises: event type → the actions it runs (a sendTo as sendTo:<child>:<event>) */
const WIRING: Record<string, string[]> = {
  'transport.received': ['route'],
  'transport.response': ['complete'],
  'transport.timedOut': ['complete'],
  'node.pingNow': ['sendTo:cycle:cycle.pingNow'],
  'node.stop': ['sendTo:cycle:cycle.stop'],
};

// pure traversal: the invoked children are created, never started, so no socket is needed
const input = { transport: {}, cycle: { pingIntervalMs: 1000 } } as unknown as RootInput;
const events = nodeRootMachine.events.map((type) => ({ type }));

describe('node root machine graph (xstate/graph)', () => {
  it('reaches every state it can rest in', () => {
    const reached = new Set(shortestPaths(nodeRootMachine, { input, events }).map((p) => stateName(p.state)));
    expect([...reached].sort()).toEqual(restingStates(nodeRootMachine).sort());
  });

  it('every event, in every reachable state, runs the wiring, and the wiring names no other event', () => {
    expect(Object.keys(WIRING).sort()).toEqual([...nodeRootMachine.events].sort());
    const edges = edgesOf(nodeRootMachine, { input, events });
    for (const e of edges) expect(e.actions, `${e.from} ${e.event.type}`).toEqual(WIRING[e.event.type]);
    const handled = new Set(edges.map((e) => `${e.from} ${e.event.type}`));
    for (const s of restingStates(nodeRootMachine)) for (const type of nodeRootMachine.events) expect(handled.has(`${s} ${type}`), `${s} ${type}`).toBe(true);
  });
});
