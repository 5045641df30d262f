// The lifecycle of one binding (RFC 3261 §10.3 step 7, specs/registrar.md "Binding machine"):
// active → expired | removed (tombstones, remembered until their `until`) → forgotten, with the
// CSeq rules and the replication conflict order as guards and the fields each transition sets as
// its actions. This machine is the behaviour: src/actors/location/transition-table.ts compiles it
// once into the lookup table (guard, actions, target) the store applies, in place, to a million
// compact records (virtual actors); the actions below are the same functions in both.
import { assign, setup } from 'xstate';
import type { Faults } from '../../ports/faults.ts';
import type { BindingTraits } from './binding.ts';

/** What orders two versions of one binding (the usrloc fields that matter for conflicts). */
export interface BindingVersion {
  callId: string;
  cseq: number;
  /** absolute Unix seconds */
  lastModified: number;
  ruid: string;
  /** absolute Unix seconds, 0 = permanent */
  expires: number;
}

/** A whole version of a binding: what a refresh, update or replicated update brings (all but the AoR). */
export interface BindingContent extends BindingVersion {
  c: string;
  received: string;
  instance: string;
  /** the fields many bindings share (User-Agent, Path, q, flags…: binding.ts) */
  traits: BindingTraits;
}

/** The machine's context: the binding's record (its AoR never changes). */
export interface BindingRecord extends BindingContent {
  readonly aor: string;
  /** tombstones only: the absolute second at which it is forgotten (0 while active) */
  until: number;
}

export type BindingState = 'active' | 'expired' | 'removed' | 'forgotten';
export const BINDING_STATES: readonly BindingState[] = ['active', 'expired', 'removed', 'forgotten'];

type Payload = { version: BindingVersion; nowSec: number };
/** a tombstone is kept tombstoneSeconds (registrar.tombstone_seconds) from the event that made it */
type Entombing = { nowSec: number; tombstoneSeconds: number };
export type BindingEvent =
  | { type: 'binding.refresh'; version: BindingContent; nowSec: number } // local REGISTER, same Call-ID
  | { type: 'binding.update'; version: BindingContent; nowSec: number } // local REGISTER, another Call-ID replaces the binding
  | ({ type: 'binding.expire' } & Entombing)
  | ({ type: 'binding.remove'; origin: 'local' | 'replicated'; version: BindingVersion } & Entombing)
  | { type: 'binding.replicatedUpdate'; version: BindingContent; nowSec: number }
  | { type: 'binding.forget'; nowSec: number }; // the tombstone's time is up
export type BindingEventType = BindingEvent['type'];
export const BINDING_EVENTS: readonly BindingEventType[] = [
  'binding.refresh', 'binding.update', 'binding.expire', 'binding.remove', 'binding.replicatedUpdate', 'binding.forget',
];

/**
 * The conflict order of specs/replication.md R3: lexicographic on the version's own fields,
 * (last_modified, CSeq, Call-ID, ruid), so it is a strict total order (only versions equal in all
 * four compare 0) and every replica that keeps the greatest version it saw keeps the same one,
 * whatever the delivery order. A local write's last_modified never falls below the version it
 * supersedes (writeTime in src/registrar/registrar.ts), so a higher CSeq of the same Call-ID wins.
 * > 0 when a is newer than b, 0 when they are the same version. Never switched by a planted bug.
 */
export function versionOrder(a: BindingVersion, b: BindingVersion): number {
  if (a.lastModified !== b.lastModified) return a.lastModified > b.lastModified ? 1 : -1;
  if (a.cseq !== b.cseq) return a.cseq > b.cseq ? 1 : -1;
  if (a.callId !== b.callId) return a.callId > b.callId ? 1 : -1;
  if (a.ruid !== b.ruid) return a.ruid > b.ruid ? 1 : -1;
  return 0;
}

/** an order of versions: > 0 when a is newer than b, 0 when they are the same version */
export type VersionOrder = (a: BindingVersion, b: BindingVersion) => number;

/** the order before issue #14: CSeq within a Call-ID, last_modified across them (cyclic); only the planted fault 'cyclic-order' */
export function cyclicOrder(a: BindingVersion, b: BindingVersion): number {
  if (a.callId === b.callId && a.cseq !== b.cseq) return a.cseq - b.cseq;
  if (a.callId !== b.callId && a.lastModified !== b.lastModified) return a.lastModified - b.lastModified;
  if (a.ruid !== b.ruid) return a.ruid > b.ruid ? 1 : -1;
  if (a.callId !== b.callId) return a.callId > b.callId ? 1 : -1;
  return 0;
}

/** the order a node's store applies, chosen once when it is built: versionOrder, or cyclicOrder with the planted fault 'cyclic-order' */
export function orderFor(faults: Faults): VersionOrder {
  return faults.has('cyclic-order') ? cyclicOrder : versionOrder; // planted fault, see src/ports/faults.ts
}

function live(v: BindingVersion, nowSec: number): boolean {
  return v.expires === 0 || v.expires > nowSec;
}

/**
 * The guards as plain functions: the machine and the compiled table share them. The conflict
 * order is the guards' last argument: the machine uses versionOrder, a store the order it was
 * built with (orderFor).
 */
export const bindingGuards = {
  /** RFC 3261 §10.3 step 7: another Call-ID, or the same Call-ID with a higher CSeq */
  localNewer: (ctx: BindingVersion, ev: Payload): boolean =>
    ev.version.callId !== ctx.callId || ev.version.cseq > ctx.cseq,
  /** expiry by the node itself from the absolute expires (protocol §5.8) */
  isDue: (ctx: BindingVersion, ev: { nowSec: number }): boolean => ctx.expires !== 0 && ctx.expires <= ev.nowSec,
  /** local removals follow step 7; a replicated delete must not be older than what we hold */
  removeAllowed: (ctx: BindingVersion, ev: Payload & { origin: 'local' | 'replicated' }, order: VersionOrder = versionOrder): boolean =>
    ev.origin === 'local' ? bindingGuards.localNewer(ctx, ev) : order(ev.version, ctx) >= 0,
  /** a replicated version wins only when strictly newer and still alive (no resurrection) */
  remoteNewer: (ctx: BindingVersion, ev: Payload, order: VersionOrder = versionOrder): boolean =>
    order(ev.version, ctx) > 0 && live(ev.version, ev.nowSec),
  /** a tombstone is forgotten once its time is up */
  tombstoneDue: (ctx: { until: number }, ev: { nowSec: number }): boolean => ctx.until <= ev.nowSec,
};
export type BindingGuardName = keyof typeof bindingGuards;

/**
 * The actions as plain functions that set a record's fields in place: the machine's assign()s
 * call them on a copy of its context, the store on its compact record (transition-table.ts send()).
 * These are the only places a binding's fields change after it is created.
 */
export const bindingActions = {
  /** the winning version's content becomes the binding's (every field but the AoR); a revived tombstone is none any more */
  take: (b: BindingRecord, ev: { version: BindingContent }): void => {
    const n = ev.version;
    b.ruid = n.ruid; b.c = n.c; b.received = n.received; b.callId = n.callId; b.instance = n.instance;
    b.expires = n.expires; b.cseq = n.cseq; b.lastModified = n.lastModified; b.traits = n.traits;
    b.until = 0;
  },
  /** the binding, as it was, becomes a tombstone until tombstoneSeconds from now */
  entomb: (b: BindingRecord, ev: Entombing): void => {
    b.until = ev.nowSec + ev.tombstoneSeconds;
  },
};
export type BindingActionName = keyof typeof bindingActions;

/** an assign() running one of bindingActions on a copy of the context */
function assigning(name: BindingActionName) {
  return assign<BindingRecord, BindingEvent, undefined, BindingEvent, never>(({ context, event }) => {
    const next = { ...context };
    (bindingActions[name] as (b: BindingRecord, e: BindingEvent) => void)(next, event);
    return next;
  });
}

export const bindingMachine = setup({
  types: {
    context: {} as BindingRecord,
    events: {} as BindingEvent,
    input: {} as BindingRecord,
  },
  actions: {
    take: assigning('take'),
    entomb: assigning('entomb'),
  },
  guards: {
    localNewer: ({ context, event }) => 'version' in event && bindingGuards.localNewer(context, event),
    isDue: ({ context, event }) => bindingGuards.isDue(context, event),
    removeAllowed: ({ context, event }) =>
      event.type === 'binding.remove' && bindingGuards.removeAllowed(context, event),
    remoteNewer: ({ context, event }) => 'version' in event && bindingGuards.remoteNewer(context, event),
    tombstoneDue: ({ context, event }) => bindingGuards.tombstoneDue(context, event),
  },
}).createMachine({
  id: 'binding',
  initial: 'active',
  context: ({ input }) => ({ ...input }),
  states: {
    active: {
      on: {
        'binding.refresh': { guard: 'localNewer', target: 'active', actions: 'take' },
        'binding.update': { guard: 'localNewer', target: 'active', actions: 'take' },
        'binding.expire': { guard: 'isDue', target: 'expired', actions: 'entomb' },
        'binding.remove': { guard: 'removeAllowed', target: 'removed', actions: 'entomb' },
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
      },
    },
    // expired and removed are tombstones: only a strictly newer replicated version revives them,
    // and they are forgotten at their `until`
    expired: {
      on: {
        'binding.remove': { target: 'removed', actions: 'entomb' },
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
        'binding.forget': { guard: 'tombstoneDue', target: 'forgotten' },
      },
    },
    removed: {
      on: {
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
        'binding.forget': { guard: 'tombstoneDue', target: 'forgotten' },
      },
    },
    forgotten: { type: 'final' },
  },
});
