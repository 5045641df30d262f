// The location store: every binding of a node as a compact record (a virtual actor), one timer
// wheel for expiry and tombstones, and the binding machine's table applied on each event.
// Emits every change for the usrloc channel (kamailio-dmq-protocol.md §5.5) and applies records
// that arrive over DMQ (§5.6) with the conflict order of specs/registrar.md.
import { orderFor, type BindingEvent, type VersionOrder } from './binding-machine.ts';
import type { Clock } from '../../ports/clock.ts';
import { Binding, fromRecord, toRecord, versionOf, type UsrlocContact } from './binding.ts';
import { ContactIndex } from './contact-index.ts';
import { TimerWheel } from './timer-wheel.ts';
import { ST_ACTIVE, ST_EXPIRED, ST_REMOVED, STATE_NAME, step } from './transition-table.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';

export type ChangeKind = 'insert' | 'update' | 'delete' | 'expire';
export interface BindingChange {
  kind: ChangeKind;
  contact: UsrlocContact;
  origin: 'local' | 'replicated';
}
export type ReplicatedOutcome = 'inserted' | 'updated' | 'deleted' | 'revived' | 'stale' | 'tombstoned' | 'expired' | 'refused';

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
  readonly aors = new Map<string, Binding[]>();
  private readonly byRuid = new Map<string, Binding>();
  /** match() without scanning a large AoR's list (contact-index.ts) */
  private readonly byContact = new ContactIndex();
  private readonly tombs = new Map<string, Binding>();
  /** tombstones by AoR, then Contact URI (nested: no key string built per lookup) */
  private readonly tombByContact = new Map<string, Map<string, Binding>>();
  private readonly wheel: TimerWheel<Binding>;
  private readonly tombstoneSeconds: number;
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
  byRuidGet(ruid: string): Binding | undefined {
    return this.byRuid.get(ruid);
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
    const list = this.aors.get(aor);
    if (list === undefined) return undefined;
    return this.byContact.match(list, aor, c, instance, regId);
  }

  /** would the machine accept `ev` for `b`? (used to validate a REGISTER before committing) */
  accepts(b: Binding, ev: BindingEvent): boolean {
    return step(STATE_NAME[b.state], b, ev, this.order) !== null;
  }

  insert(b: Binding, origin: 'local' | 'replicated'): void {
    let list = this.aors.get(b.aor);
    if (list === undefined) {
      list = [];
      this.aors.set(b.aor, list);
    }
    place(list, b);
    this.byRuid.set(b.ruid, b);
    this.byContact.added(b, list);
    this.contacts++;
    this.schedule(b);
    this.emit('insert', b, origin);
  }

  /** apply a refresh/update/replicatedUpdate carrying `next`'s fields; false when the machine refuses */
  update(b: Binding, next: Binding, ev: BindingEvent, origin: 'local' | 'replicated'): boolean {
    if (!this.noCseqGuard && step(STATE_NAME[b.state], b, ev, this.order) === null) return false; // planted fault, see src/ports/faults.ts
    const list = this.aors.get(b.aor)!;
    const qChanged = b.q !== next.q;
    if (origin === 'replicated' && next.ruid !== b.ruid) {
      this.byRuid.delete(b.ruid);
      b.ruid = next.ruid;
      this.byRuid.set(b.ruid, b);
    }
    const rescheduled = b.expires !== next.expires;
    const rekeyed = b.c !== next.c || b.instance !== next.instance;
    if (rekeyed) this.byContact.unkeyed(b);
    b.c = next.c; b.received = next.received; b.path = next.path; b.callId = next.callId;
    b.userAgent = next.userAgent; b.instance = next.instance; b.expires = next.expires; b.cseq = next.cseq;
    b.flags = next.flags; b.cflags = next.cflags; b.q = next.q; b.lastModified = next.lastModified;
    b.methods = next.methods; b.regId = next.regId; b.serverId = next.serverId; b.replicated = next.replicated;
    if (rekeyed) this.byContact.rekeyed(b);
    if (qChanged) {
      list.splice(list.indexOf(b), 1);
      place(list, b);
    }
    if (rescheduled) this.schedule(b);
    this.emit('update', b, origin);
    return true;
  }

  /** remove `b` (unregister, replaced, RPC, replicated delete) and leave a tombstone */
  remove(b: Binding, origin: 'local' | 'replicated', kind: 'delete' | 'expire' = 'delete'): void {
    const list = this.aors.get(b.aor)!;
    list.splice(list.indexOf(b), 1);
    if (list.length === 0) this.aors.delete(b.aor);
    this.byRuid.delete(b.ruid);
    this.byContact.removed(b, list);
    this.contacts--;
    this.emit(kind, b, origin);
    this.entomb(b, kind === 'expire' ? ST_EXPIRED : ST_REMOVED);
  }

  /** a record from the usrloc channel (§5.6): ruid match first, then contact matching, never re-emitted as local */
  applyReplicated(r: UsrlocContact, action: 'update' | 'delete'): ReplicatedOutcome {
    const now = this.nowSec();
    const v = versionOf(r);
    const byR = this.byRuid.get(r.ruid);
    const cur = byR !== undefined && byR.aor === r.aor ? byR : this.match(r.aor, r.c, r.instance, r.reg_id);
    if (action === 'delete') {
      if (cur !== undefined) {
        const ev: BindingEvent = { type: 'binding.remove', origin: 'replicated', version: v, nowSec: now };
        if (step('active', cur, ev, this.order) === null) return 'stale';
        this.remove(cur, 'replicated');
        // remember the delete itself too (its ruid may differ when it matched by contact)
        if (cur.ruid !== r.ruid || this.order(v, cur) > 0) this.entomb(fromRecord(r, true), ST_REMOVED);
        return 'deleted';
      }
      const t = this.tomb(r);
      if (t !== undefined && this.order(v, t) <= 0) return 'tombstoned';
      this.entomb(fromRecord(r, true), ST_REMOVED);
      return 'tombstoned';
    }
    const ev: BindingEvent = { type: 'binding.replicatedUpdate', version: v, nowSec: now };
    if (cur !== undefined) {
      if (r.expires !== 0 && r.expires <= now) return 'expired';
      return this.update(cur, fromRecord(r, true, cur), ev, 'replicated') ? 'updated' : 'stale';
    }
    const t = this.tomb(r);
    if (t !== undefined) {
      if (step(STATE_NAME[t.state], t, ev, this.order) === null) return 'tombstoned';
      if (this.full()) return 'refused';
      this.untomb(t);
      this.insert(fromRecord(r, true), 'replicated');
      return 'revived';
    }
    if (r.expires !== 0 && r.expires <= now) return 'expired';
    if (this.full()) return 'refused';
    this.insert(fromRecord(r, true), 'replicated');
    return 'inserted';
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
  *all(): IterableIterator<Binding> {
    for (const list of this.aors.values()) yield* list;
  }

  private schedule(b: Binding): void {
    if (b.expires !== 0) this.wheel.schedule(b, b.expires);
  }

  private due(b: Binding, sec: number): void {
    const now = this.nowSec();
    if (b.state === ST_ACTIVE) {
      if (this.byRuid.get(b.ruid) !== b || b.expires !== sec) return; // stale wheel entry
      if (step('active', b, { type: 'binding.expire', nowSec: now }, this.order) === null) return;
      this.expiredCount++;
      this.remove(b, 'local', 'expire');
    } else if (b.until === sec && this.tombs.get(b.ruid) === b) {
      this.untomb(b);
    }
  }

  private entomb(b: Binding, state: number): void {
    if (this.forgetTombstones) return; // planted fault, see src/ports/faults.ts
    b.state = state;
    b.until = this.nowSec() + this.tombstoneSeconds;
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

/** after the last binding whose q is not lower (usrloc's q order; equal q keeps insertion order) */
function place(list: Binding[], b: Binding): void {
  let i = list.length;
  while (i > 0 && list[i - 1].q < b.q) i--;
  list.splice(i, 0, b);
}
