// The location store: every binding of a node as a compact record (a virtual actor), one timer
// wheel for expiry and tombstones, and the binding machine applied on each event (send(): its
// guards decide, its actions set the fields, its states say what a record is: active, a
// tombstone, forgotten). The store keeps the indexes in step with what the machine changed.
// Emits every change for the usrloc channel (kamailio-dmq-protocol.md §5.5) and applies records
// that arrive over DMQ (§5.6) with the conflict order of specs/registrar.md.
import { orderFor, type BindingContent, type BindingEvent, type VersionOrder } from './binding-machine.ts';
import type { Clock } from '../../ports/clock.ts';
import { AorTable } from './aor-table.ts';
import { Binding, copyOf, fromRecord, toRecord, TraitsPool, versionOf, type UsrlocContact } from './binding.ts';
import { ContactIndex, scanMatch } from './contact-index.ts';
import { TimerWheel } from './timer-wheel.ts';
import { send, ST_ACTIVE, ST_REMOVED, step, stateOf } from './transition-table.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';

export type ChangeKind = 'insert' | 'update' | 'delete' | 'expire';
export interface BindingChange {
  kind: ChangeKind;
  contact: UsrlocContact;
  origin: 'local' | 'replicated';
}
export type ReplicatedOutcome = 'inserted' | 'updated' | 'deleted' | 'revived' | 'stale' | 'tombstoned' | 'expired' | 'refused';
/** the events that bring a whole new version (refresh, update, replicatedUpdate) */
export type TakeEvent = Extract<BindingEvent, { version: BindingContent }>;

export interface StoreOptions {
  /** how long a deleted or expired binding is remembered (default 300 s) */
  tombstoneSeconds?: number;
  onChange?: (c: BindingChange) => void;
  /** limits.max_bindings: a replicated insert beyond it is refused ('refused'), 0/absent = none */
  maxBindings?: number;
  /** the node's planted faults (src/ports/faults.ts); absent = none */
  faults?: Faults;
}

export class LocationStore {
  /** AoR → its bindings, q descending then oldest first (usrloc's order) */
  readonly aors = new AorTable();
  /** the traits (User-Agent, Path, q…) this store's bindings share */
  readonly traits = new TraitsPool();
  /** match() without scanning a large AoR's list (contact-index.ts) */
  private readonly byContact = new ContactIndex();
  private readonly tombs = new Map<string, Binding>();
  /** tombstones by AoR, then Contact URI (nested: no key string built per lookup) */
  private readonly tombByContact = new Map<string, Map<string, Binding>>();
  private readonly wheel: TimerWheel<Binding>;
  readonly tombstoneSeconds: number;
  /** the conflict order this store applies (specs/replication.md R3; orderFor: chosen from the faults once) */
  readonly order: VersionOrder;
  /** planted faults, read once (src/ports/faults.ts) */
  private readonly noCseqGuard: boolean;
  private readonly forgetTombstones: boolean;
  private contacts = 0;
  /** usrloc:location_expires — contacts removed by expiry */
  expiredCount = 0;
  /** registrar:accepted_regs / rejected_regs, counted by the Registrar */
  acceptedRegs = 0;
  rejectedRegs = 0;
  /** replicated inserts refused by maxBindings */
  refusedInserts = 0;

  constructor(readonly clock: Clock, private readonly opts: StoreOptions = {}) {
    this.tombstoneSeconds = opts.tombstoneSeconds ?? 300;
    const faults = opts.faults ?? noFaults;
    this.order = orderFor(faults);
    this.noCseqGuard = faults.has('no-cseq-guard');
    this.forgetTombstones = faults.has('forget-tombstones');
    this.wheel = new TimerWheel<Binding>(clock, (b, sec) => this.due(b, sec));
  }

  nowSec(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  get(aor: string): readonly Binding[] {
    return this.aors.get(aor) ?? [];
  }
  /** `aor`'s live binding with this ruid (ruids are unique: replicated records name theirs with their AoR) */
  byRuid(aor: string, ruid: string): Binding | undefined {
    const one = this.aors.single(aor);
    if (one !== undefined) return one.ruid === ruid ? one : undefined;
    const list = this.aors.get(aor);
    return list === undefined ? undefined : this.byContact.byRuid(list, aor, ruid);
  }
  /** is `b` one of the store's live bindings (not removed, expired or forgotten since)? */
  isLive(b: Binding): boolean {
    return b.state === ST_ACTIVE;
  }
  contactCount(): number {
    return this.contacts;
  }
  tombstoneCount(): number {
    return this.tombs.size;
  }
  /** fire expiries due now (the wheel's clock timer does this by itself) */
  runDue(): number {
    return this.wheel.runDue();
  }

  /** the binding of `aor` that `c` matches: by +sip.instance and reg-id when given, else by URI */
  match(aor: string, c: string, instance: string, regId: number): Binding | undefined {
    const one = this.aors.single(aor);
    if (one !== undefined) return scanMatch1(one, c, instance, regId);
    const list = this.aors.get(aor);
    if (list === undefined) return undefined;
    return this.byContact.match(list, aor, c, instance, regId);
  }

  /** would the machine accept `ev` for `b`? (used to validate a REGISTER before committing) */
  accepts(b: Binding, ev: BindingEvent): boolean {
    return step(stateOf(b), b, ev, this.order) !== null;
  }

  insert(b: Binding, origin: 'local' | 'replicated'): void {
    const list = this.aors.add(b);
    this.byContact.added(b, list);
    this.contacts++;
    this.schedule(b);
    this.emit('insert', b, origin);
  }

  /** apply a refresh/update/replicatedUpdate bringing `ev.version`; false when the machine refuses */
  update(b: Binding, ev: TakeEvent, origin: 'local' | 'replicated'): boolean {
    const next = ev.version;
    if (!this.noCseqGuard && !this.accepts(b, ev)) return false; // planted fault, see src/ports/faults.ts
    const qChanged = b.q !== next.traits.q;
    const rescheduled = b.expires !== next.expires;
    const rekeyed = b.c !== next.c || b.instance !== next.instance || b.ruid !== next.ruid;
    if (rekeyed) this.byContact.unkeyed(b);
    send(b, ev, this.order, true);
    if (rekeyed) this.byContact.rekeyed(b);
    if (qChanged) this.aors.reorder(b);
    if (rescheduled) this.schedule(b);
    this.emit('update', b, origin);
    return true;
  }

  /** remove `b` (unregister, replaced, RPC: already decided by the caller) and leave a tombstone */
  remove(b: Binding, origin: 'local' | 'replicated', kind: 'delete' | 'expire' = 'delete'): void {
    const now = this.nowSec();
    const ev: BindingEvent = kind === 'expire'
      ? { type: 'binding.expire', nowSec: now, tombstoneSeconds: this.tombstoneSeconds }
      : { type: 'binding.remove', origin, version: b, nowSec: now, tombstoneSeconds: this.tombstoneSeconds };
    send(b, ev, this.order, true);
    this.removed(b, origin, kind);
  }

  /** `b` just became a tombstone: out of the live indexes, the change emitted, remembered */
  private removed(b: Binding, origin: 'local' | 'replicated', kind: 'delete' | 'expire'): void {
    this.byContact.removed(b, this.aors.delete(b));
    this.contacts--;
    this.emit(kind, b, origin);
    this.remember(b);
  }

  /** a record from the usrloc channel (§5.6): ruid match first, then contact matching, never re-emitted as local */
  applyReplicated(r: UsrlocContact, action: 'update' | 'delete'): ReplicatedOutcome {
    const now = this.nowSec();
    const cur = this.byRuid(r.aor, r.ruid) ?? this.match(r.aor, r.c, r.instance, r.reg_id);
    if (action === 'delete') return this.applyDelete(r, cur, now);
    if (cur !== undefined) {
      if (r.expires !== 0 && r.expires <= now) return 'expired';
      const ev: TakeEvent = { type: 'binding.replicatedUpdate', version: fromRecord(r, true, cur, this.traits), nowSec: now };
      return this.update(cur, ev, 'replicated') ? 'updated' : 'stale';
    }
    const t = this.tomb(r);
    if (t !== undefined) {
      const ev: TakeEvent = { type: 'binding.replicatedUpdate', version: fromRecord(r, true, t, this.traits), nowSec: now };
      if (!this.accepts(t, ev)) return 'tombstoned';
      if (this.full()) return 'refused';
      this.untomb(t);
      // the tombstone revives (its machine: → active, taking r) as a copy: anti-entropy may still hold the tombstone itself
      const b = copyOf(t);
      send(b, ev, this.order, true);
      this.insert(b, 'replicated');
      return 'revived';
    }
    if (r.expires !== 0 && r.expires <= now) return 'expired';
    if (this.full()) return 'refused';
    this.insert(fromRecord(r, true, undefined, this.traits), 'replicated');
    return 'inserted';
  }

  private applyDelete(r: UsrlocContact, cur: Binding | undefined, now: number): ReplicatedOutcome {
    const v = versionOf(r);
    if (cur !== undefined) {
      const ev: BindingEvent = { type: 'binding.remove', origin: 'replicated', version: v, nowSec: now, tombstoneSeconds: this.tombstoneSeconds };
      if (!send(cur, ev, this.order)) return 'stale';
      this.removed(cur, 'replicated', 'delete');
      // remember the delete itself too (its ruid may differ when it matched by contact)
      if (cur.ruid !== r.ruid || this.order(v, cur) > 0) this.rememberDelete(r, now);
      return 'deleted';
    }
    const t = this.tomb(r);
    if (t !== undefined && this.order(v, t) <= 0) return 'tombstoned';
    this.rememberDelete(r, now);
    return 'tombstoned';
  }

  /** a delete with no live binding of ours: a binding born of it, removed by it (its own version) */
  private rememberDelete(r: UsrlocContact, now: number): void {
    const b = fromRecord(r, true, undefined, this.traits);
    send(b, { type: 'binding.remove', origin: 'replicated', version: b, nowSec: now, tombstoneSeconds: this.tombstoneSeconds }, this.order, true);
    this.remember(b);
  }

  /** at limits.max_bindings: count one refused insert */
  private full(): boolean {
    const max = this.opts.maxBindings ?? 0;
    if (max <= 0 || this.contacts < max) return false;
    this.refusedInserts++;
    return true;
  }

  /** stop the expiry timer (node shutdown, simulated crash); entries stay */
  stopTimers(): void {
    this.wheel.stop();
  }

  /** remembered deletes (not expiries), for anti-entropy (specs/anti-entropy.md) */
  *removedTombstones(): IterableIterator<Binding> {
    for (const t of this.tombs.values()) if (t.state === ST_REMOVED) yield t;
  }

  /** every active binding, AoR by AoR */
  all(): IterableIterator<Binding> {
    return this.aors.bindings();
  }

  private schedule(b: Binding): void {
    if (b.expires !== 0) this.wheel.schedule(b, b.expires);
  }

  private due(b: Binding, sec: number): void {
    const now = this.nowSec();
    if (b.state === ST_ACTIVE) {
      if (b.expires !== sec) return; // stale wheel entry (a refresh moved it)
      if (!send(b, { type: 'binding.expire', nowSec: now, tombstoneSeconds: this.tombstoneSeconds }, this.order)) return;
      this.expiredCount++;
      this.removed(b, 'local', 'expire');
    } else if (b.until === sec && this.tombs.get(b.ruid) === b) {
      if (send(b, { type: 'binding.forget', nowSec: now }, this.order)) this.untomb(b);
    }
  }

  /** a tombstone (the machine has just made `b` one, with its `until`) is kept until then */
  private remember(b: Binding): void {
    if (this.forgetTombstones) return; // planted fault, see src/ports/faults.ts
    this.tombs.set(b.ruid, b);
    let byC = this.tombByContact.get(b.aor);
    if (byC === undefined) {
      byC = new Map();
      this.tombByContact.set(b.aor, byC);
    }
    byC.set(b.c, b);
    this.wheel.schedule(b, b.until);
  }

  private untomb(t: Binding): void {
    this.tombs.delete(t.ruid);
    const byC = this.tombByContact.get(t.aor);
    if (byC === undefined || byC.get(t.c) !== t) return;
    byC.delete(t.c);
    if (byC.size === 0) this.tombByContact.delete(t.aor);
  }

  /** the tombstone a replicated record of a new binding for this contact is compared with (no ruid match) */
  tombOfContact(aor: string, c: string): Binding | undefined {
    return this.tombByContact.get(aor)?.get(c);
  }

  /**
   * the tombstone a record without a live binding is compared with: the newer of its ruid's and
   * its contact's (R4: a delete of the contact under another ruid counts too; kdmq check found a
   * late update of an old ruid reviving a contact deleted since under a newer ruid)
   */
  private tomb(r: UsrlocContact): Binding | undefined {
    const t = this.tombs.get(r.ruid);
    const byRuid = t !== undefined && t.aor === r.aor ? t : undefined;
    const byC = this.tombByContact.get(r.aor)?.get(r.c);
    if (byRuid === undefined || byC === undefined || byC === byRuid) return byRuid ?? byC;
    return this.order(byC, byRuid) > 0 ? byC : byRuid;
  }

  private emit(kind: ChangeKind, b: Binding, origin: 'local' | 'replicated'): void {
    this.opts.onChange?.({ kind, contact: toRecord(b), origin });
  }
}

/** scanMatch over an AoR's one binding */
function scanMatch1(b: Binding, c: string, instance: string, regId: number): Binding | undefined {
  if (instance !== '') return b.instance === instance && b.regId === regId ? b : undefined;
  return b.c === c && b.instance === '' ? b : undefined;
}
