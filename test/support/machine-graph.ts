// Helpers for the machines' graph tests (xstate/graph): a machine's own states and delayed events,
// the edges of its adjacency map with the actions each one runs (xstate's pure transition()), and
// the states its shortest paths reach. Nothing here knows a particular machine.
import { transition, type AnyStateMachine, type EventObject, type SnapshotFrom } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';

export interface GraphOptions<M extends AnyStateMachine> {
  input?: unknown;
  /** the events to try in every snapshot (none once the machine is done or stopped by an error) */
  events: readonly EventObject[] | ((s: SnapshotFrom<M>) => readonly EventObject[]);
}

export interface Edge {
  from: string;
  event: EventObject;
  to: string;
  /** the actions the transition runs, in order: an action's name, `sendTo:<child id>:<event type>` for a sendTo */
  actions: string[];
}

/** a snapshot's state as text: the top-level state's name, JSON for nested values */
export function stateName(s: { value: unknown }): string {
  return typeof s.value === 'string' ? s.value : JSON.stringify(s.value);
}

/** the machine's top-level states where it can rest (a state with an `always` transition is left at once) */
export function restingStates(machine: AnyStateMachine): string[] {
  return Object.values(machine.root.states)
    .filter((n) => n.always === undefined || n.always.length === 0)
    .map((n) => n.key);
}

type StateNode = AnyStateMachine['root'];

/** every state node of the machine, nested ones included (the root excluded) */
export function allStateNodes(machine: AnyStateMachine): StateNode[] {
  const out: StateNode[] = [];
  const walk = (n: StateNode): void => {
    for (const c of Object.values(n.states) as StateNode[]) {
      out.push(c);
      walk(c);
    }
  };
  walk(machine.root);
  return out;
}

/** a state node's value as `matches()` takes it: its path from the root, nested */
export function valueOf(node: StateNode): string | Record<string, unknown> {
  const path = node.path as string[];
  let v: string | Record<string, unknown> = path[path.length - 1];
  for (let i = path.length - 2; i >= 0; i--) v = { [path[i]]: v };
  return v;
}

/** one event per delayed (`after`) transition, at any depth: what the clock sends when the delay is up */
export function delayedEvents(machine: AnyStateMachine): EventObject[] {
  const types = new Set<string>();
  for (const n of allStateNodes(machine)) for (const t of n.after ?? []) types.add(t.eventType);
  return [...types].map((type) => ({ type }));
}

/** the done and error events of the actors a snapshot has invoked and that still run (output: `output`) */
export function invokeOutcomeEvents(s: { children: Record<string, unknown> }, output: unknown): EventObject[] {
  return Object.keys(s.children).flatMap((id) => [
    { type: `xstate.done.actor.${id}`, output } as EventObject,
    { type: `xstate.error.actor.${id}`, error: new Error('failed') } as EventObject,
  ]);
}

/** snapshots are told apart by status too (xstate's default key leaves it out: an `error` snapshot would hide an `active` one) */
const serializeState = (s: unknown): string => {
  const x = s as { status: string; value: unknown; context: unknown };
  return JSON.stringify({ status: x.status, value: x.value, context: x.context });
};

function actionName(a: { type: string; params?: unknown }): string {
  if (a.type !== 'xstate.sendTo') return a.type;
  const p = a.params as { targetId?: string; to?: { id?: string } | string; event?: { type?: string } };
  const to = p.targetId ?? (typeof p.to === 'string' ? p.to : p.to?.id);
  return `sendTo:${to}:${p.event?.type}`;
}

/** every edge of the machine's adjacency map, with the actions the transition runs */
export function edgesOf<M extends AnyStateMachine>(machine: M, opts: GraphOptions<M>): Edge[] {
  const events = typeof opts.events === 'function' ? opts.events : () => opts.events as readonly EventObject[];
  const options = { input: opts.input, serializeState, events: (s: SnapshotFrom<M>) => ((s as { status: string }).status !== 'active' ? [] : events(s)) };
  return adjacencyMapToArray(getAdjacencyMap(machine, options as never)).map(({ state, event, nextState }) => {
    const [, actions] = transition(machine, state as never, event as never);
    return {
      from: stateName(state as { value: unknown }),
      event: event as EventObject,
      to: stateName(nextState as { value: unknown }),
      actions: (actions as Array<{ type: string; params?: unknown }>).map(actionName),
    };
  });
}

/** the shortest path to each distinct snapshot: its end state and the events that lead there */
export function shortestPaths<M extends AnyStateMachine>(machine: M, opts: GraphOptions<M>): Array<{ state: SnapshotFrom<M>; events: EventObject[] }> {
  const events = typeof opts.events === 'function' ? opts.events : () => opts.events as readonly EventObject[];
  const options = { input: opts.input, serializeState, events: (s: SnapshotFrom<M>) => ((s as { status: string }).status !== 'active' ? [] : events(s)) };
  return getShortestPaths(machine, options as never).map((p) => ({
    state: p.state as SnapshotFrom<M>,
    events: p.steps.map((s) => s.event as EventObject).filter((e) => e.type !== 'xstate.init'),
  }));
}
