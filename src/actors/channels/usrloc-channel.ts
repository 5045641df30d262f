// The `usrloc` DMQ channel, wire-compatible with Kamailio 5.6.3's dmq_usrloc (protocol reference
// §5): local inserts/updates broadcast as action 1 and deletes as action 2 (expiries are not
// replicated: every node expires by itself), received actions applied through the location store
// (never re-broadcast), sync requests (action 3) answered unicast with `multi` batches under a send
// window (sync-answer.ts: formatted as the window opens), and the join-time sync request. Conflict
// rules: specs/replication.md.

import type { NodeHandle } from './node-handle.ts';
import type { DataChannel, Reply } from './channel.ts';
import type { NodeId, NodeView } from '../membership/node-list.ts';
import { nodeKey } from '../membership/node-list.ts';
import { isStreamNode, kamailioStreamBodyLimit } from '../dmq/stream-budget.ts';
import { formatUsrlocBody, formatUsrlocContact, parseUsrlocBody, type UsrlocContact } from './usrloc-body.ts';
import type { Change } from './replication-outbox.ts';
import type { Log } from '../../ports/log.ts';
import type { BindingChange, LocationStore } from '../location/store.ts';
import type { SipRequest } from '../../sip/types.ts';
import { sendSyncAnswer, type BatchLimits } from './usrloc-sync.ts';

export interface UsrlocChannelOptions {
  node: NodeHandle;
  store: LocationStore;
  log: Log;
  /** sync answers in flight per requester */
  window?: number;
}

export interface UsrlocStats {
  broadcasts: number;
  applied: number;
  stale: number;
  badBodies: number;
  syncRequestsSent: number;
  syncRequestsAnswered: number;
  syncContactsSent: number;
  syncDatagramsSent: number;
  syncContactsReceived: number;
}

export class UsrlocChannel implements DataChannel {
  readonly name = 'usrloc';
  readonly stats: UsrlocStats = {
    broadcasts: 0, applied: 0, stale: 0, badBodies: 0, syncRequestsSent: 0, syncRequestsAnswered: 0,
    syncContactsSent: 0, syncDatagramsSent: 0, syncContactsReceived: 0,
  };

  /** the planted fault 'drop-on-full' of the node (src/ports/faults.ts), read once */
  private readonly dropOnFull: boolean;

  constructor(private readonly o: UsrlocChannelOptions) {
    this.dropOnFull = o.node.faults.has('drop-on-full');
    const rep = o.node.replication;
    rep.outbox.register(this.name, {
      maxChanges: (to) => Math.min(o.node.limits.config.replication_batch, this.batchLimits(to).caps?.contacts ?? 1000),
      maxBytes: (to) => this.batchLimits(to).maxBytes,
      join: (bodies) => {
        let s = '{"multi":{';
        for (let i = 0; i < bodies.length; i++) s += `${i === 0 ? '' : ','}"${i + 1}":${bodies[i]}`;
        return `${s}}}`;
      },
      overhead: () => 12,
    });
    rep.onResync((to) => {
      if (this.cfg.enable) this.answerSync(to);
    });
  }

  private get cfg() {
    return this.o.node.config.dmq_usrloc;
  }

  /**
   * store change → owed to every active node (local origin only; expiries stay local as in
   * 5.6.3). The outbox sends it at once when the node's data lane has room, else it waits there,
   * coalesced with later versions of the same binding, and leaves in a `multi` batch.
   */
  onChange(c: BindingChange): void {
    if (!this.cfg.enable || c.origin !== 'local') return;
    if (c.kind === 'expire') return;
    if (c.kind === 'delete' && !this.cfg.usrloc_delete) return;
    const action = c.kind === 'delete' ? 2 : 1;
    if (this.dropOnFull) return this.broadcastDroppable(action, c.contact); // planted fault, see src/ports/faults.ts
    const n = this.o.node.replication.owedTo().length;
    if (n === 0) return; // a lone node: the body is not built at all (REGISTER hot path)
    this.stats.broadcasts += n;
    this.o.node.replication.owe(new UsrlocChange(action, c.contact, this.clockNow()));
  }

  /** the planted bug 'drop-on-full': the old path, one KDMQ per change per node through a queue that drops the oldest */
  private broadcastDroppable(action: 1 | 2, contact: UsrlocContact): void {
    const body = formatUsrlocBody({ action, contact });
    for (const p of this.o.node.list.activePeers()) {
      this.stats.broadcasts++;
      this.o.node.kdmq.send({ to: p, channel: this.name, body, contentType: 'application/json', maxForwards: 1, droppable: true });
    }
  }

  /**
   * Answered first, applied right after (Reply.after, same tick): the 200 means "parsed and
   * accepted", so the sender's replication latency does not include our apply (store, persistence,
   * anti-entropy digests) nor, for a sync request, formatting the first batches. Only when
   * limits.max_bindings could refuse part of the request is it applied before answering, since the
   * answer (503) then depends on the outcome.
   */
  handle(req: SipRequest, sender: NodeId): Reply {
    const parsed = parseUsrlocBody(req.bodyText());
    if (!parsed.ok) {
      this.stats.badBodies++;
      return { status: 400, reason: 'Bad Request' };
    }
    const m = parsed.value;
    let work: () => void;
    let inserts = 1;
    if ('multi' in m) {
      this.stats.syncContactsReceived += m.multi.length;
      inserts = m.multi.length;
      work = () => this.applyAll(m.multi, m.deletes);
    } else if (m.action === 1 || m.action === 2) {
      const { contact } = m;
      const action = m.action === 1 ? 'update' : 'delete';
      work = () => this.apply(contact, action);
    } else if (m.action === 3) {
      this.o.node.replication.syncRequested(nodeKey(sender));
      work = () => this.answerSync(sender);
    } else {
      return { status: 200, reason: 'OK' };
    }
    if (this.mayRefuse(inserts)) {
      // limits.max_bindings: what fitted is applied, the rest refused with 503 (counted once per request)
      const refusedBefore = this.o.store.refusedInserts;
      work();
      if (this.o.store.refusedInserts > refusedBefore && this.o.node.limits) return this.o.node.limits.refuse('bindings', 60);
      return { status: 200, reason: 'OK' };
    }
    return { status: 200, reason: 'OK', after: work };
  }

  /** could `inserts` new bindings reach limits.max_bindings? */
  private mayRefuse(inserts: number): boolean {
    const max = this.o.node.limits?.config.max_bindings ?? 0;
    return max > 0 && this.o.store.contactCount() + inserts >= max;
  }

  /** a `multi` body: sync answers (all action 1) or a batch of changes (action 2 at the `deletes` indices) */
  private applyAll(contacts: readonly UsrlocContact[], deletes: readonly number[] | undefined): void {
    if (deletes === undefined || deletes.length === 0) {
      for (const c of contacts) this.apply(c, 'update');
      return;
    }
    const del = new Set(deletes);
    for (let i = 0; i < contacts.length; i++) this.apply(contacts[i], del.has(i) ? 'delete' : 'update');
  }

  private apply(c: UsrlocContact, action: 'update' | 'delete'): void {
    const out = this.o.store.applyReplicated(c, action);
    if (out === 'stale' || out === 'tombstoned' || out === 'expired') this.stats.stale++;
    else this.stats.applied++;
  }

  /** §5.7: every contact to the requester, in multi batches formatted as the window opens (sync-answer.ts) */
  private answerSync(to: NodeId): void {
    this.stats.syncRequestsAnswered++;
    const snapshot = Array.from(this.o.store.all());
    const limits = this.batchLimits(to);
    const t0 = this.clockNow();
    this.o.log.log('info', 'usrloc sync answer started', { to: nodeKey(to), contacts: snapshot.length, per_body: limits.caps?.contacts ?? limits.maxContacts });
    sendSyncAnswer({
      snapshot,
      live: (b) => this.o.store.isLive(b),
      limits,
      window: this.o.window ?? 8,
      send: (body, done) => {
        this.stats.syncDatagramsSent++;
        this.o.node.kdmq.send({ to, channel: this.name, body, contentType: 'application/json', maxForwards: 1, done: (r) => done(r.code) });
      },
      onFinish: (r) => {
        this.stats.syncContactsSent += r.contacts;
        for (const c of r.tooLarge) this.o.log.log('warn', 'usrloc contact too large for one sync datagram, not sent', { aor: c.aor, ruid: c.ruid });
        this.o.log.log('info', 'usrloc sync answer finished', { to: nodeKey(to), contacts: r.contacts, datagrams: r.datagrams, answered: r.answered, failed: r.failed, ms: this.clockNow() - t0 });
      },
    });
  }

  /**
   * Sync body limits (stream-budget.ts): Kamailio's sizes (≤ 60 000 bytes) over UDP, under Kamailio's
   * TCP read buffer to a Kamailio node over TCP/TLS, larger ones (stream_batch_*) to a kdmq node there.
   */
  private batchLimits(to: NodeId): BatchLimits {
    const stream = isStreamNode(to);
    const kdmqPeer = stream && this.o.node.list.views().some((v) => v.key === nodeKey(to) && v.kdmq);
    if (stream && !kdmqPeer) {
      return { maxContacts: this.cfg.batch_msg_contacts, maxBytes: Math.min(this.cfg.batch_msg_size, kamailioStreamBodyLimit(this.o.node.config)) };
    }
    if (!kdmqPeer || this.cfg.stream_batch_msg_size === undefined) return { maxContacts: this.cfg.batch_msg_contacts, maxBytes: this.cfg.batch_msg_size };
    const contactsCap = this.cfg.stream_batch_msg_contacts ?? this.cfg.batch_msg_contacts;
    return { maxContacts: contactsCap, maxBytes: this.cfg.stream_batch_msg_size, caps: { contacts: contactsCap, bytes: this.cfg.stream_batch_msg_size } };
  }

  private clockNow(): number {
    return this.o.store.clock.now();
  }

  /** init callback (§2.8): ask every active node for everything */
  onJoined(): void {
    if (!this.cfg.enable || !this.cfg.sync) return;
    const peers: NodeView[] = this.o.node.list.activePeers();
    this.o.log.log('info', 'usrloc sync requested', { from: peers.map((p) => p.key) });
    const body = formatUsrlocBody({ action: 3 });
    for (const p of peers) {
      this.stats.syncRequestsSent++;
      this.o.node.kdmq.send({ to: p, channel: this.name, body, contentType: 'application/json', maxForwards: 1 });
    }
  }
}

/** one version of one binding, owed to the nodes (replication-outbox.ts): keyed by ruid */
class UsrlocChange implements Change {
  readonly channel = 'usrloc';
  readonly key: string;
  private text: string | null = null;

  constructor(private readonly action: 1 | 2, private readonly contact: UsrlocContact, readonly at: number) {
    this.key = contact.ruid;
  }

  body(): string {
    return (this.text ??= formatUsrlocContact(this.action, this.contact));
  }
}
