// The lifecycle of one binding (RFC 3261 §10.3 step 7, specs/registrar.md "Binding machine"):
// active → expired | removed, with the CSeq rules and the replication conflict order as guards.
// This machine is the behaviour; src/actors/location/transition-table.ts compiles it once into the
// lookup table the store applies to a million compact records (virtual actors).
import { assign, setup } from 'xstate';
import type { Faults } from '../../ports/faults.ts';

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

export type BindingState = 'active' | 'expired' | 'removed';
export const BINDING_STATES: readonly BindingState[] = ['active', 'expired', 'removed'];

type Payload = { version: BindingVersion; nowSec: number };
export type BindingEvent =
  | ({ type: 'binding.refresh' } & Payload) // local REGISTER, same Call-ID
  | ({ type: 'binding.update' } & Payload) // local REGISTER, another Call-ID replaces the binding
  | { type: 'binding.expire'; nowSec: number }
  | ({ type: 'binding.remove'; origin: 'local' | 'replicated' } & Payload)
  | ({ type: 'binding.replicatedUpdate' } & Payload);
export type BindingEventType = BindingEvent['type'];
export const BINDING_EVENTS: readonly BindingEventType[] = [
  'binding.refresh', 'binding.update', 'binding.expire', 'binding.remove', 'binding.replicatedUpdate',
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
};
export type BindingGuardName = keyof typeof bindingGuards;

export const bindingMachine = setup({
  types: {
    context: {} as BindingVersion,
    events: {} as BindingEvent,
    input: {} as BindingVersion,
  },
  actions: {
    /** the winning version becomes the binding's version */
    take: assign(({ event }) => ('version' in event ? { ...event.version } : {})),
  },
  guards: {
    localNewer: ({ context, event }) => 'version' in event && bindingGuards.localNewer(context, event),
    isDue: ({ context, event }) => bindingGuards.isDue(context, event),
    removeAllowed: ({ context, event }) =>
      event.type === 'binding.remove' && bindingGuards.removeAllowed(context, event),
    remoteNewer: ({ context, event }) => 'version' in event && bindingGuards.remoteNewer(context, event),
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
        'binding.expire': { guard: 'isDue', target: 'expired' },
        'binding.remove': { guard: 'removeAllowed', target: 'removed' },
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
      },
    },
    // expired and removed are tombstones: only a strictly newer replicated version revives them
    expired: {
      on: {
        'binding.remove': { target: 'removed' },
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
      },
    },
    removed: {
      on: {
        'binding.replicatedUpdate': { guard: 'remoteNewer', target: 'active', actions: 'take' },
      },
    },
  },
});
