// The model checker's invariants, one checker function each, as listed in specs/invariants.md
// (INV-01…INV-10). Each returns null when the invariant holds, else one line saying why. Safety
// checkers look at one observed event; liveness checkers look at every live node after the quiet
// period. The monitor (src/sim/monitor.ts) calls them; tests may call them directly.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StatusChange, NodeView } from '../actors/membership/node-list.ts';
import { versionOrder, type BindingVersion } from '../actors/location/binding-machine.ts';
import { isSafeNodeListBody } from '../actors/membership/node-list-body.ts';
import type { BindingChange } from '../actors/location/store.ts';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';

export type InvariantKind = 'safety' | 'liveness';
export interface Violation {
  inv: string;
  kind: InvariantKind;
  /** shared virtual time, ms */
  at: number;
  node?: number;
  detail: string;
}

export const INVARIANTS: Record<string, { kind: InvariantKind; title: string }> = {
  'INV-01': { kind: 'safety', title: 'every node-status change is a row of specs/membership.md' },
  'INV-02': { kind: 'safety', title: 'each node lists itself exactly once' },
  'INV-03': { kind: 'safety', title: 'no data KDMQ from a sender outside the node list is applied' },
  'INV-04': { kind: 'safety', title: "a binding's CSeq never goes backwards without a later last_modified (per ruid + Call-ID, per node)" },
  'INV-05': { kind: 'safety', title: 'a deleted binding is not resurrected by an older replicated update' },
  'INV-06': { kind: 'safety', title: 'no datagram over 60 000 bytes of body or 65 535 bytes in total' },
  'INV-07': { kind: 'safety', title: 'every node-list body on the wire is safe for Kamailio 5.6.3' },
  'INV-08': { kind: 'liveness', title: 'after the quiet period every live node lists every other live node active' },
  'INV-09': { kind: 'liveness', title: 'after the quiet period all live nodes hold the same bindings' },
  'INV-10': { kind: 'liveness', title: 'after the quiet period all live nodes hold the same htable items' },
  'INV-11': { kind: 'safety', title: 'no replicated change (usrloc, htable) is dropped unsent to make room: acknowledged means replicated' },
  'INV-12': { kind: 'safety', title: 'all nodes replace the versions of one binding in one order (no cycle)' },
};

export interface MembershipRow {
  id: string;
  from: string;
  trigger: string;
  to: string;
}

let rowsCache: MembershipRow[] | null = null;
/** the transition rows of specs/membership.md (M01…) */
export function membershipRows(): MembershipRow[] {
  if (rowsCache) return rowsCache;
  const path = fileURLToPath(new URL('../../specs/membership.md', import.meta.url));
  const rows: MembershipRow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\|\s*(M\d+)\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const [from, trigger, , to] = m[2].split('|').map((c) => c.trim());
    rows.push({ id: m[1], from, trigger, to });
  }
  return (rowsCache = rows);
}

const TRIGGER: Record<string, string> = {
  'node.listed': 'listed:', 'node.replied': 'replied', 'node.heard': 'heard', 'node.timedOut': 'timedOut', 'node.remove': 'remove',
};

/** INV-01: a change (from ≠ to) must be some row with that from, trigger kind and to; creations (from removed) are rows C1–C4 */
export function checkStatusChange(c: StatusChange, rows = membershipRows()): string | null {
  if (c.from === 'removed') return c.to === 'removed' ? `${c.key}: created as removed` : null;
  const t = TRIGGER[c.event] ?? '?';
  const ok = rows.some((r) => r.from === c.from && r.to === c.to && (t.endsWith(':') ? r.trigger.startsWith(t) : r.trigger === t));
  return ok ? null : `${c.key}: ${c.from} → ${c.to} on ${c.event} is no row of specs/membership.md`;
}

/** INV-02 */
export function checkSelfListed(views: readonly NodeView[], localKey: string): string | null {
  const self = views.filter((v) => v.key === localKey || v.local);
  if (self.length !== 1) return `lists itself ${self.length} times`;
  if (self[0].status !== 'active') return `lists itself ${self[0].status}`;
  return null;
}

/** INV-03: called when a data channel is about to apply a KDMQ */
export function checkDataSender(channel: string, senderKey: string, status: string | undefined, isLocal: boolean): string | null {
  if (isLocal) return `${channel} data from itself (${senderKey}) applied`;
  if (status !== 'active') return `${channel} data from ${senderKey} (${status ?? 'not listed'}) applied`;
  return null;
}

/** INV-04: the last CSeq (and its last_modified) stored for one ruid and Call-ID; `next`: the ruid's other Call-IDs */
export interface CseqEntry {
  callid: string;
  cseq: number;
  lastModified: number;
  next: CseqEntry | null;
}

/**
 * INV-04 state of one node: ruid → its Call-IDs' last CSeqs, a short chain (a binding changes
 * Call-ID rarely). Keyed by the record's own ruid (the binding's string, already hashed by the
 * store's maps) instead of a key string built per event.
 */
export type CseqMemory = Map<string, CseqEntry>;

/**
 * INV-04: a lower CSeq of one ruid and Call-ID is taken only with a later last_modified. The
 * exception is R3's: two refreshes of one Call-ID written concurrently by nodes whose clocks differ
 * are ordered by last_modified. Any order that holds the newest version passes (it does not encode
 * R3's tie-breaks); a stale update applied (older CSeq, no later time) fails.
 */
export function checkCseqMonotonic(last: CseqMemory, c: BindingChange): string | null {
  if (c.kind !== 'insert' && c.kind !== 'update') return null;
  const r = c.contact;
  const first = last.get(r.ruid) ?? null;
  let e = first;
  while (e !== null && e.callid !== r.callid) e = e.next;
  if (e === null) {
    last.set(r.ruid, { callid: r.callid, cseq: r.cseq, lastModified: r.last_modified, next: first });
    return null;
  }
  if (r.cseq >= e.cseq || r.last_modified > e.lastModified) {
    e.cseq = r.cseq;
    e.lastModified = r.last_modified;
    return null;
  }
  return `${r.aor} ${r.c} (${r.ruid}): CSeq ${e.cseq} → ${r.cseq} by a ${c.origin} ${c.kind} (last_modified ${e.lastModified} → ${r.last_modified})`;
}

export const versionOfRecord = (r: UsrlocContact): BindingVersion => ({
  callId: r.callid, cseq: r.cseq, lastModified: r.last_modified, ruid: r.ruid, expires: r.expires,
});

/** INV-05 state of one node: the newest delete seen by ruid, and by AoR then Contact URI */
export class DeleteMemory {
  readonly byRuid = new Map<string, BindingVersion>();
  readonly byContact = new Map<string, Map<string, BindingVersion>>();

  ofContact(r: UsrlocContact): BindingVersion | undefined {
    return this.byContact.get(r.aor)?.get(r.c);
  }

  setContact(r: UsrlocContact, v: BindingVersion): void {
    let byC = this.byContact.get(r.aor);
    if (byC === undefined) {
      byC = new Map();
      this.byContact.set(r.aor, byC);
    }
    byC.set(r.c, v);
  }
}

/** INV-05: `deletes` remembers by ruid and by aor + contact the newest delete seen on this node */
export function checkNoResurrection(deletes: DeleteMemory, c: BindingChange): string | null {
  if (c.kind !== 'delete' && (c.origin !== 'replicated' || (c.kind !== 'insert' && c.kind !== 'update'))) return null;
  const r = c.contact;
  if (c.kind === 'delete') {
    const v = versionOfRecord(r);
    const byRuid = deletes.byRuid.get(r.ruid);
    if (!byRuid || versionOrder(v, byRuid) > 0) deletes.byRuid.set(r.ruid, v);
    const byContact = deletes.ofContact(r);
    if (!byContact || versionOrder(v, byContact) > 0) deletes.setContact(r, v);
    return null;
  }
  // a replicated insert or update (its version is built only when a delete is remembered): by ruid, then by contact
  const d = olderThan(r, deletes.byRuid.get(r.ruid)) ?? olderThan(r, deletes.ofContact(r));
  return d ? `${r.aor} ${r.c}: deleted at (${d.callId} ${d.cseq}), then a replicated ${c.kind} of older (${r.callid} ${r.cseq}) applied` : null;
}

/** `d` when the record is not newer than that delete, else undefined */
function olderThan(r: UsrlocContact, d: BindingVersion | undefined): BindingVersion | undefined {
  return d !== undefined && versionOrder(versionOfRecord(r), d) <= 0 ? d : undefined;
}

/** INV-06: sizes of one datagram (body = after the first blank line) */
export function checkDatagramSize(total: number, body: number): string | null {
  if (total > 65_535) return `datagram of ${total} bytes`;
  if (body > 60_000) return `body of ${body} bytes`;
  return null;
}

/** INV-07: a notification_peer KDMQ, or any 200 reply with a body, must carry a safe node list */
export function checkNodeListOnWire(text: string): string | null {
  const isNotify = text.startsWith('KDMQ sip:notification_peer@');
  const is200 = text.startsWith('SIP/2.0 200');
  if (!isNotify && !is200) return null;
  const sep = text.indexOf('\r\n\r\n');
  const body = sep < 0 ? '' : text.slice(sep + 4);
  if (is200 && body === '') return null;
  return checkNodeListBody(body, isNotify);
}

/** INV-07 on a body already cut out: the node list of a notification KDMQ (`isNotify`) or of a 200 */
export function checkNodeListBody(body: string, isNotify: boolean): string | null {
  return safeBody(body) ? null : `unsafe node-list body in ${isNotify ? 'KDMQ' : '200'}: ${JSON.stringify(body.slice(-80))}`;
}

/**
 * isSafeNodeListBody, line by line: a body is safe when it is empty, or ends with CRLF and each
 * of its CRLF-separated lines is (isSafeNodeListBody of that line alone). Nodes' lists differ and
 * change, but they are made of the same few lines: the answer is remembered per line (pure).
 */
const safeLines = new Map<string, boolean>();
/** and per whole body: every node sends the same list to all its peers each round */
const safeBodies = new Map<string, boolean>();
function safeBody(body: string): boolean {
  let ok = safeBodies.get(body);
  if (ok === undefined) {
    ok = safeBodyByLine(body);
    if (safeBodies.size >= 1024) safeBodies.clear();
    safeBodies.set(body, ok);
  }
  return ok;
}

function safeBodyByLine(body: string): boolean {
  if (body === '') return true;
  if (!body.endsWith('\r\n')) return false;
  let start = 0;
  while (start < body.length) {
    const end = body.indexOf('\r\n', start);
    const line = body.slice(start, end);
    let ok = safeLines.get(line);
    if (ok === undefined) {
      ok = isSafeNodeListBody(`${line}\r\n`);
      if (safeLines.size >= 4096) safeLines.clear();
      safeLines.set(line, ok);
    }
    if (!ok) return false;
    start = end + 2;
  }
  return true;
}

/** INV-08: `lists[i]` = node i's views; `live` = the keys of live nodes */
export function checkMembershipConverged(live: Array<{ key: string; views: readonly NodeView[] }>): string | null {
  for (const n of live) {
    for (const o of live) {
      if (o.key === n.key) continue;
      const v = n.views.find((x) => x.key === o.key);
      if (v?.status !== 'active') return `${n.key} lists ${o.key} as ${v?.status ?? 'absent'}`;
    }
  }
  return null;
}

/** INV-09: bindings (usrloc records) per live node; records expiring before `stableSec` are ignored */
export function checkBindingsConverged(stores: Array<{ key: string; records: UsrlocContact[] }>, stableSec: number): string | null {
  const canon = (rs: UsrlocContact[]) =>
    rs.filter((r) => r.expires === 0 || r.expires > stableSec).map((r) => JSON.stringify(r)).sort();
  return firstDifference(stores.map((s) => ({ key: s.key, items: canon(s.records) })), 'binding');
}

/** INV-10: htable items (table, name, value) per live node */
export function checkHtableConverged(stores: Array<{ key: string; items: string[] }>): string | null {
  return firstDifference(stores.map((s) => ({ key: s.key, items: [...s.items].sort() })), 'htable item');
}

function firstDifference(xs: Array<{ key: string; items: string[] }>, what: string): string | null {
  if (xs.length < 2) return null;
  const [a, ...rest] = xs;
  const sa = new Set(a.items);
  for (const b of rest) {
    const sb = new Set(b.items);
    const onlyA = a.items.find((x) => !sb.has(x));
    if (onlyA) return `${what} on ${a.key} but not on ${b.key}: ${onlyA.slice(0, 200)}`;
    const onlyB = b.items.find((x) => !sa.has(x));
    if (onlyB) return `${what} on ${b.key} but not on ${a.key}: ${onlyB.slice(0, 200)}`;
  }
  return null;
}
