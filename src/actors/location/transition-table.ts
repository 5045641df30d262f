// The binding machine (src/actors/location/binding-machine.ts) compiled once into a lookup table for the
// hot path: STATE × EVENT → { guard, target }. Virtual actors (specs/registrar.md "Virtual
// actors") apply this table to compact records instead of running one xstate actor per binding;
// test/actors/location/binding-table.test.ts checks it against xstate's transition() for every cell.
import {
  BINDING_EVENTS, BINDING_STATES, bindingGuards, bindingMachine, versionOrder,
  type BindingEvent, type BindingEventType, type BindingGuardName, type BindingState, type BindingVersion, type VersionOrder,
} from './binding-machine.ts';

export interface Cell {
  guard: BindingGuardName | null;
  target: BindingState;
}
export type Table = Record<BindingState, Partial<Record<BindingEventType, Cell>>>;

/** numeric states stored in each record */
export const ST_ACTIVE = 0;
export const ST_EXPIRED = 1;
export const ST_REMOVED = 2;
export const STATE_CODE: Record<BindingState, number> = { active: ST_ACTIVE, expired: ST_EXPIRED, removed: ST_REMOVED };
export const STATE_NAME: readonly BindingState[] = ['active', 'expired', 'removed'];

function guardName(g: unknown): BindingGuardName | null {
  if (g === undefined || g === null) return null;
  const name = typeof g === 'string' ? g : (g as { type?: string }).type;
  if (name === undefined || !(name in bindingGuards)) throw new Error(`binding machine: unknown guard ${String(name)}`);
  return name as BindingGuardName;
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
      row[ev] = { guard: guardName(d.guard), target: target as BindingState };
    }
    table[s] = row;
  }
  return table;
}

export const TABLE: Table = compileTable();

/** the next state of `state` on `event` under the conflict order `order`, or null when the machine ignores it (no cell, guard false) */
export function step(state: BindingState, ctx: BindingVersion, event: BindingEvent, order: VersionOrder = versionOrder): BindingState | null {
  const cell = TABLE[state][event.type];
  if (cell === undefined) return null;
  if (cell.guard !== null && !(bindingGuards[cell.guard] as (c: BindingVersion, e: BindingEvent, o: VersionOrder) => boolean)(ctx, event, order)) {
    return null;
  }
  return cell.target;
}
