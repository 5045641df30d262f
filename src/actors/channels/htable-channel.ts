// The `htable` DMQ channel (protocol reference §6, replies as §1.2): applies received actions
// 2–6 and `cells` sync answers to the store (never re-broadcast), answers `{"action":1}` with the
// replicated tables as paced, unicast `cells` batches under 60 000 bytes, broadcasts local
// changes to every active node with Max-Forwards 1, and asks for a sync on join (§2.8).

import type { DataChannel, Reply } from './channel.ts';
import type { DmqSender } from '../dmq/dmq-sender.ts';
import type { Change } from './replication-outbox.ts';
import type { NodeId } from '../membership/node-list.ts';
import { batchHtableCells, formatHtableBody, parseHtableBody, MAX_CELLS_BYTES, type HtableMessage } from './htable-body.ts';
import type { Clock } from '../../ports/clock.ts';
import { silentLog, type Log } from '../../ports/log.ts';
import type { SipRequest } from '../../sip/types.ts';
import type { Endpoint } from '../../transport/transport.ts';
import type { HtableChange, HtableStore } from '../../htable/store.ts';

export const HTABLE_CHANNEL = 'htable';
const JSON_TYPE = 'application/json';

export interface HtableChannelDeps {
  store: HtableStore;
  sender: DmqSender;
  /** active non-local nodes, at the moment of the call */
  peers: () => NodeId[];
  clock: Clock;
  /** htable.dmq_init_sync: ask for a sync on (re)join */
  initSync: boolean;
  /** ms between two sync-answer datagrams (default 2) */
  paceMs?: number;
  /** byte limit of one `cells` body (default and maximum 60 000) */
  maxBytes?: number;
  /** a lower limit for one node (a Kamailio node over TCP/TLS: stream-budget.ts) */
  maxBytesFor?: (to: NodeId) => number | undefined;
  log?: Log;
  /**
   * the node's replication (replication.ts): local changes are owed to every active node through
   * its outbox and never dropped; absent (unit tests of the channel alone): sent directly
   */
  replication?: { owe(c: Change): void; owedTo(): readonly unknown[] };
}

export interface HtableChannelStats {
  applied: number;
  cellsApplied: number;
  syncRequests: number;
  syncBatchesSent: number;
  rejected: number;
}

const OK: Reply = { status: 200, reason: 'OK' };
const BAD: Reply = { status: 400, reason: 'Bad Request' };
const FAIL: Reply = { status: 500, reason: 'Server Internal Error' };
/** limits.htable_max_items (the refusal is counted by the store) */
const FULL: Reply = { status: 503, reason: 'Service Unavailable (limit htable_items)', headers: [['Retry-After', '60']] };

export class HtableChannel implements DataChannel {
  readonly name = HTABLE_CHANNEL;
  readonly stats: HtableChannelStats = { applied: 0, cellsApplied: 0, syncRequests: 0, syncBatchesSent: 0, rejected: 0 };
  private readonly log: Log;
  /** numbers the regex/prefix deletes owed to the nodes (each its own outbox key) */
  private seq = 0;

  constructor(private readonly d: HtableChannelDeps) {
    this.log = d.log ?? silentLog;
    d.store.onChange((c) => this.broadcast(c));
  }

  handle(req: SipRequest, sender: NodeId, _source: Endpoint): Reply {
    if (!req.has('content-length')) return this.reject('missing Content-Length', BAD);
    const m = parseHtableBody(req.bodyText());
    if (!m.ok) return this.reject(m.error, BAD);
    return this.apply(m.value, sender);
  }

  /** init callback (§2.8): `{"action":1}` to every node active now */
  onJoined(): void {
    if (!this.d.initSync) return;
    for (const to of this.d.peers()) this.send(to, formatHtableBody({ action: 1 }));
  }

  /** apply one parsed message from `sender`; the reply carries no body */
  apply(m: HtableMessage, sender: NodeId): Reply {
    const s = this.d.store;
    if ('cells' in m) {
      for (const c of m.cells) if (s.applyCell(c)) this.stats.cellsApplied++;
      return OK;
    }
    if (m.action === 1) {
      this.stats.syncRequests++;
      this.answerSync(sender);
      return OK;
    }
    if (!s.has(m.htname)) return this.reject(`unknown htable ${m.htname}`, FAIL);
    let r: { ok: true } | { ok: false; error: string };
    switch (m.action) {
      case 2:
        r = s.set(m.htname, m.cname, m.value, 'dmq');
        break;
      case 3:
        if (m.value.type !== 0) return this.reject('setex without an integer', BAD);
        r = s.setex(m.htname, m.cname, m.value.intval, 'dmq');
        break;
      case 4:
        r = s.delete(m.htname, m.cname, 'dmq');
        break;
      case 5:
      case 6: {
        if (m.value.type !== 2) return this.reject('pattern is not a string', BAD);
        const p = m.value.strval;
        r = m.action === 5 ? s.deleteRegex(m.htname, p, m.mode, 'dmq') : s.deletePrefix(m.htname, p, m.mode, 'dmq');
        break;
      }
    }
    if (!r.ok) return this.reject(`action ${m.action} failed on ${m.htname}`, r.error === 'full' ? FULL : FAIL);
    this.stats.applied++;
    return OK;
  }

  /** §6.4: snapshot now, then one `cells` datagram every paceMs to the requester only (also pushed to a node back after its removal) */
  answerSync(to: NodeId): void {
    const limit = Math.min(this.d.maxBytes ?? MAX_CELLS_BYTES, this.d.maxBytesFor?.(to) ?? MAX_CELLS_BYTES, MAX_CELLS_BYTES);
    const { bodies, tooLarge } = batchHtableCells(this.d.store.replicatedCells(), limit);
    for (const c of tooLarge) this.log.log('warn', 'htable cell too large for one sync datagram, not sent', { htname: c.htname, cname: c.cname });
    const pace = this.d.paceMs ?? 2;
    const next = (i: number) => {
      if (i >= bodies.length) return;
      this.send(to, bodies[i]);
      this.stats.syncBatchesSent++;
      this.d.clock.setTimeout(() => next(i + 1), pace);
    };
    this.d.clock.setTimeout(() => next(0), 0);
  }

  /** a local change: to every active node, MF 1; failures are only logged (§6.3) */
  private broadcast(c: HtableChange): void {
    const rep = this.d.replication;
    if (rep !== undefined) {
      if (rep.owedTo().length > 0) rep.owe(new HtableOwed(c, this.d.clock.now(), ++this.seq));
      return;
    }
    const body = formatHtableBody(c);
    for (const to of this.d.peers()) this.send(to, body);
  }

  private send(to: NodeId, body: string): void {
    this.d.sender.send({
      to,
      channel: HTABLE_CHANNEL,
      body,
      contentType: JSON_TYPE,
      maxForwards: 1,
      done: (r) => {
        if (r.code >= 300) this.log.log('debug', 'htable KDMQ not accepted', { to: `${to.host}:${to.port}`, code: r.code });
      },
    });
  }

  private reject(why: string, reply: Reply): Reply {
    this.stats.rejected++;
    this.log.log('warn', 'htable KDMQ rejected', { why, status: reply.status });
    return reply;
  }
}

/**
 * One htable change owed to the nodes, keyed so that only what a newer change makes moot is
 * replaced: set and delete of a cell replace each other (the value), setex has its own key (the
 * expiry), a regex or prefix delete never coalesces (it is ordered against every other change).
 */
class HtableOwed implements Change {
  readonly channel = HTABLE_CHANNEL;
  readonly key: string;
  private text: string | null = null;

  constructor(private readonly c: HtableChange, readonly at: number, seq: number) {
    if (c.action === 2 || c.action === 4) this.key = `v\0${c.htname}\0${c.cname}`;
    else if (c.action === 3) this.key = `x\0${c.htname}\0${c.cname}`;
    else this.key = `p\0${seq}`;
  }

  body(): string {
    return (this.text ??= formatHtableBody(this.c));
  }
}
