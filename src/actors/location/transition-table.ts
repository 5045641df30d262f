// The binding machine (src/actors/location/binding-machine.ts) compiled once into a lookup table for the
// hot path: STATE × EVENT → { guard, actions, target }, and send(), which applies a cell to a
// compact record in place: the guard, then the machine's own action functions (bindingActions),
// then the target state as a small integer. Virtual actors (specs/registrar.md "Virtual actors")
// go through this instead of one xstate actor per binding: the store handles ~10 000 REGISTER/s
// over up to 1 000 000 bindings, and an actor per binding would cost its heap many times over
// (the record is ~120 B of a ≤ 400 B budget per binding; bench register-memory).
// test/actors/location/binding-table.test.ts checks every cell, effects included, against
// xstate's transition().
import {
  BINDING_EVENTS, BINDING_STATES, bindingActions, bindingGuards, bindingMachine, versionOrder,
  type BindingActionName, type BindingEvent, type BindingEventType, type BindingGuardName, type BindingRecord,
  type BindingState, type BindingVersion, type VersionOrder,
} from './binding-machine.ts';

export interface Cell {
  guard: BindingGuardName | null;
  actions: readonly BindingActionName[];
  target: BindingState;
}
export type Table = Record<BindingState, Partial<Record<BindingEventType, Cell>>>;

/** numeric states stored in each record (STATE_NAME[code] is the machine's state name) */
export const ST_ACTIVE = 0;
export const ST_EXPIRED = 1;
export const ST_REMOVED = 2;
export const ST_FORGOTTEN = 3;
export const STATE_CODE: Record<BindingState, number> = { active: ST_ACTIVE, expired: ST_EXPIRED, removed: ST_REMOVED, forgotten: ST_FORGOTTEN };
export const STATE_NAME: readonly BindingState[] = ['active', 'expired', 'removed', 'forgotten'];

function guardName(g: unknown): BindingGuardName | null {
  if (g === undefined || g === null) return null;
  const name = typeof g === 'string' ? g : (g as { type?: string }).type;
  if (name === undefined || !(name in bindingGuards)) throw new Error(`binding machine: unknown guard ${String(name)}`);
  return name as BindingGuardName;
}

function actionNames(actions: readonly unknown[]): BindingActionName[] {
  return actions.map((a) => {
    const name = typeof a === 'string' ? a : (a as { type?: string }).type;
    if (name === undefined || !(name in bindingActions)) throw new Error(`binding machine: unknown action ${String(name)}`);
    return name as BindingActionName;
  });
}

export function compileTable(): Table {
  const table = {} as Table;
  for (const s of BINDING_STATES) {
    const node = bindingMachine.root.states[s];
    if (node === undefined) throw new Error(`binding machine lacks state ${s}`);
    const row: Partial<Record<BindingEventType, Cell>> = {};
    for (const ev of BINDING_EVENTS) {
      const defs = node.transitions.get(ev);
      if (defs === undefined || defs.length === 0) continue;
      if (defs.length > 1) throw new Error(`binding machine: one transition per cell expected (${s}, ${ev})`);
      const d = defs[0];
      const target = d.target?.[0]?.key ?? s;
      row[ev] = { guard: guardName(d.guard), actions: actionNames(d.actions), target: target as BindingState };
    }
    table[s] = row;
  }
  return table;
}

export const TABLE: Table = compileTable();
/** the state a new binding starts in (the machine's initial state) */
export const ST_INITIAL = STATE_CODE[bindingMachine.root.initial.target[0].key as BindingState];

/** the cell `event` takes in `state` under `order`, or null when the machine ignores it (no cell, guard false) */
function cellFor(state: BindingState, ctx: BindingVersion & { until?: number }, event: BindingEvent, order: VersionOrder): Cell | null {
  const cell = TABLE[state][event.type];
  if (cell === undefined) return null;
  if (cell.guard !== null && !(bindingGuards[cell.guard] as (c: typeof ctx, e: BindingEvent, o: VersionOrder) => boolean)(ctx, event, order)) {
    return null;
  }
  return cell;
}

/** the next state of `state` on `event` under the conflict order `order`, or null when the machine ignores it (no cell, guard false) */
export function step(state: BindingState, ctx: BindingVersion & { until?: number }, event: BindingEvent, order: VersionOrder = versionOrder): BindingState | null {
  return cellFor(state, ctx, event, order)?.target ?? null;
}

/** a compact record with its machine state as a code (Binding) */
export interface BindingActor extends BindingRecord {
  state: number;
}

/** the machine state of `b`, by name */
export function stateOf(b: BindingActor): BindingState {
  return STATE_NAME[b.state];
}

/**
 * `event` sent to the binding `b`: when the machine takes it, the cell's actions set b's fields,
 * b moves to the cell's target and the answer is true; false (b unchanged) when it ignores it.
 * `unguarded`: the caller has decided already (the registrar checked accepts() before committing
 * a REGISTER; ul.rm removes whatever it names), so only the cell's existence is required.
 */
export function send(b: BindingActor, event: BindingEvent, order: VersionOrder, unguarded = false): boolean {
  const state = STATE_NAME[b.state];
  const cell = unguarded ? (TABLE[state][event.type] ?? null) : cellFor(state, b, event, order);
  if (cell === null) return false;
  for (const a of cell.actions) (bindingActions[a] as (r: BindingRecord, e: BindingEvent) => void)(b, event);
  b.state = STATE_CODE[cell.target];
  return true;
}
