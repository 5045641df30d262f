// Prometheus metrics for `GET /metrics` on the RPC listener (docs/metrics.md), with prom-client.
// Almost everything is read at scrape time by collect() callbacks from counters the node already
// keeps (node.kdmq.stats, node.router.stats, node.counters, the transaction layer's stats, the
// usrloc and htable channels' stats, store sizes); a registry per node, never the global one.
//
// Two histograms need events rather than counters:
// - kdmq_request_duration_seconds{channel}: KDMQ request → final response round trip, per
//   channel (the replication lag a sender sees: sent → applied and answered by the peer, time
//   waiting in the peer's queue included; dropped messages not observed). It is
//   observed by wrapping the node's KDMQ client's send() (the `done` callback).
// - kdmq_sync_duration_seconds{channel,role="answer"}: how long answering one sync request took
//   (first batch sent → last batch answered), taken from the "usrloc sync answer finished" event
//   on the Log port (observeLog wraps a Log).

import client from 'prom-client';
import type { KdmqNode } from '../actors/node/create-node.ts';
import type { App } from '../actors/node/install-app.ts';
import type { Log } from '../ports/log.ts';
import type { StatusChange } from '../actors/membership/node-list.ts';
import { allStats } from '../control/stats-methods.ts';
import { kamailioGauges } from './kamailio-metrics.ts';
import { registerAuthMetrics } from './auth-metrics.ts';

const STATUSES = ['active', 'pending', 'disabled', 'timeout'] as const;

export interface NodeMetrics {
  readonly registry: client.Registry;
  /** the text exposition (Prometheus format 0.0.4) */
  text(): Promise<string>;
  readonly contentType: string;
  /** a Log that forwards to `inner` and turns sync events into observations */
  observeLog(inner: Log): Log;
  /** attach to a node (once the node and app exist) */
  attach(node: KdmqNode, app: App, now: () => number): void;
  /** one HTTP request refused with 401 (rpc.token) */
  rpcUnauthorized(): void;
  stop(): void;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): NodeMetrics {
  const registry = new client.Registry();
  const src: Sources = { node: null, app: null, now: null };
  if (opts.defaultMetrics !== false) {
    client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
    // gauges named like counters (promtool: 'non-counter metrics should not have "_total" suffix');
    // the same numbers stay, by type, in nodejs_active_handles / _requests / _resources
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
  }
  const reg = [registry];
  registerNodeMetrics(reg, src);
  registerReplicationMetrics(reg, src);
  registerAntiEntropyMetrics(reg, src);
  const ev = eventMetrics(reg);
  let detached = false;
  let kamailio: { newScrape(): void } | null = null;
  return {
    registry,
    contentType: registry.contentType,
    text: () => {
      kamailio?.newScrape();
      return registry.metrics();
    },
    observeLog(inner: Log): Log {
      return {
        log(level, msg, fields) {
          if (msg === 'usrloc sync answer finished' && typeof fields?.ms === 'number') ev.sync.observe({ channel: 'usrloc', role: 'answer' }, fields.ms / 1000);
          inner.log(level, msg, fields);
        },
      };
    },
    attach(n, a, now) {
      src.node = n;
      src.app = a;
      src.now = now;
      // Kamailio's names (xhttp_prom) for what stats.get_statistics prints: the same numbers
      kamailio = kamailioGauges(registry, () => allStats(n, a));
      if (a.auth !== null) registerAuthMetrics(reg, a.auth);
      n.onStatusChange((c: StatusChange) => {
        if (!detached) ev.membership.inc({ to: c.to });
      });
      timeKdmqRequests(n, now, ev.rtt);
    },
    rpcUnauthorized: () => ev.unauthorized.inc(),
    stop() {
      detached = true;
      registry.clear();
    },
  };
}

/** what the scrape-time readers read: set by attach() */
interface Sources {
  node: KdmqNode | null;
  app: App | null;
  now: (() => number) | null;
}

type Read = () => Array<[Record<string, string>, number]>;

/** a counter whose value is read from somewhere at scrape time */
function readCounter(reg: client.Registry[], name: string, help: string, labelNames: string[], read: Read): client.Counter {
  return new client.Counter({
    name, help, labelNames, registers: reg,
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (v > 0) this.inc(labels, v);
    },
  });
}

function readGauge(reg: client.Registry[], name: string, help: string, labelNames: string[], read: Read): client.Gauge {
  return new client.Gauge({
    name, help, labelNames, registers: reg,
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    },
  });
}

const perChannel = (o: Record<string, number> | undefined): Array<[Record<string, string>, number]> =>
  Object.entries(o ?? {}).map(([channel, v]) => [{ channel }, v]);
const one = (v: number | undefined): Array<[Record<string, string>, number]> => (v === undefined ? [] : [[{}, v]]);

/** the node's own counters: its node list, location table, htable, KDMQ requests, SIP transactions, refusals */
function registerNodeMetrics(reg: client.Registry[], src: Sources): void {
  readGauge(reg, 'kdmq_nodes', 'Nodes in this node\'s DMQ node list by status (the local node not counted)', ['status'], () => {
    if (!src.node) return [];
    const views = src.node.list.peers();
    return STATUSES.map((s) => [{ status: s }, views.filter((v) => v.status === s).length]);
  });
  readGauge(reg, 'kdmq_usrloc_bindings', 'Contacts (bindings) in the location table', [], () => one(src.app?.registrar.store.contactCount()));
  readGauge(reg, 'kdmq_usrloc_aors', 'AoRs with at least one binding in the location table', [], () => one(src.app?.registrar.store.aors.size));
  readGauge(reg, 'kdmq_usrloc_tombstones', 'Deleted/expired bindings remembered as tombstones', [], () => one(src.app?.registrar.store.tombstoneCount()));
  readGauge(reg, 'kdmq_htable_items', 'Items per hash table', ['table'], () => (src.app ? src.app.htable.store.stats().map((t) => [{ table: t.name }, t.all]) : []));

  readCounter(reg, 'kdmq_requests_sent_total', 'KDMQ requests sent (new transactions, retransmissions not counted), per channel', ['channel'], () => perChannel(src.node?.kdmq.stats.sent));
  readCounter(reg, 'kdmq_requests_answered_total', 'KDMQ requests that got a final response, per channel', ['channel'], () => perChannel(src.node?.kdmq.stats.answered));
  readCounter(reg, 'kdmq_requests_timed_out_total', 'KDMQ requests that timed out (timer F), per channel', ['channel'], () => perChannel(src.node?.kdmq.stats.timedOut));
  readCounter(reg, 'kdmq_requests_received_total', 'KDMQ requests received (new transactions), per channel (Request-URI user)', ['channel'], () => perChannel(src.node?.router.stats.received));
  readCounter(reg, 'kdmq_sip_retransmissions_sent_total', 'SIP request retransmissions sent (timer E) and responses re-sent to retransmitted requests, all channels', [], () => one(src.node?.transactionStats()?.retransmissionsSent));
  readCounter(reg, 'kdmq_sip_retransmissions_absorbed_total', 'Retransmitted requests/responses absorbed by the transaction layer', [], () => one(src.node?.transactionStats()?.retransmissionsAbsorbed));
  readCounter(reg, 'kdmq_sip_parse_errors_total', 'SIP messages that did not parse or validate', [], () => one(src.node?.transactionStats()?.parseErrors));
  readCounter(reg, 'kdmq_sip_bad_requests_total', 'Requests answered 400 Bad Request by the transaction layer', [], () => one(src.node?.transactionStats()?.badRequests400));
  readCounter(reg, 'kdmq_sip_unanswerable_total', 'Broken requests dropped because no response could be formed', [], () => one(src.node?.transactionStats()?.unanswerable));
  readCounter(reg, 'kdmq_dmq_bad_bodies_total', 'KDMQ bodies a data channel refused (400/500), per channel', ['channel'], () => [
    [{ channel: 'usrloc' }, src.app?.usrloc.stats.badBodies ?? 0],
    [{ channel: 'htable' }, src.app?.htable.channel?.stats.rejected ?? 0],
  ]);
  readCounter(reg, 'kdmq_rejected_senders_total', 'KDMQ requests refused with 403 (outside dmq.allow, or data from a node not active)', [], () => one(src.node?.counters.rejectedSenders));
  readCounter(reg, 'kdmq_limit_refusals_total', 'Requests refused by a limit (config limits:, registrar.max_contacts, signed KDMQ), by limit; each answered with a SIP error', ['limit'], () =>
    Object.entries(src.node?.limits.refusals ?? {}).map(([limit, v]) => [{ limit }, v]));
  readCounter(reg, 'kdmq_signature_rejections_total', 'KDMQ refused with 403 in signed mode, by reason (unsigned, malformed, unknown-key, bad-signature, stale, replayed)', ['why'], () =>
    Object.entries(src.node?.auth?.stats.rejected ?? {}).map(([why, v]) => [{ why }, v]));
  readCounter(reg, 'kdmq_unknown_channel_total', 'KDMQ requests for a channel this node does not have (404)', [], () => one(src.node?.counters.unknownChannel));
  readCounter(reg, 'kdmq_bad_node_lines_total', 'Node-list lines that did not parse', [], () => one(src.node?.counters.badNodeLines));
  readCounter(reg, 'kdmq_node_list_refused_total', 'Node-list lines that would have created an entry and did not: the list is at limits.max_nodes, or a host name listed by a third party', ['why'], () =>
    Object.entries(src.node?.counters.nodeListRefused ?? {}).map(([why, v]) => [{ why }, v]));
  readCounter(reg, 'kdmq_peer_queue_dropped_total', 'Outgoing KDMQ dropped unsent, per peer and channel: an anti-entropy digest over limits.peer_queue (the next round repeats it), a notification over its queue, or what waited for a node that left the list. Replicated changes are never dropped to make room', ['peer', 'channel'], () =>
    src.node ? [...src.node.kdmq.flow.dropped].flatMap(([peer, byCh]) => Object.entries(byCh).map(([channel, v]): [Record<string, string>, number] => [{ peer, channel }, v])) : []);
}

/** the replication outbox and what the usrloc and htable channels applied */
function registerReplicationMetrics(reg: client.Registry[], src: Sources): void {
  const owed = () => src.node?.replication.outbox;
  readGauge(reg, 'kdmq_replication_backlog', 'Replicated changes owed to a node and not yet answered by it (waiting, to retry or in flight; each binding or htable cell once), per node', ['peer'], () =>
    owed()?.view().map((v): [Record<string, string>, number] => [{ peer: v.key }, v.backlog]) ?? []);
  readGauge(reg, 'kdmq_replication_lag_seconds', 'Age of the oldest change owed to a node and not yet sent, per node (admission control: limits.replication_max_lag)', ['peer'], () =>
    owed()?.view().map((v): [Record<string, string>, number] => [{ peer: v.key }, v.lagMs / 1000]) ?? []);
  readCounter(reg, 'kdmq_replication_changes_total', 'Replicated changes through the outbox, by what happened: enqueued (once per node owed), coalesced (replaced by a newer version before it was sent), sent, retried (put back after a failed KDMQ), rejected (a node refused one change with 4xx: logged, not sent again)', ['what'], () => {
    const s = owed()?.stats;
    return s ? [[{ what: 'enqueued' }, s.enqueued], [{ what: 'coalesced' }, s.coalesced], [{ what: 'sent' }, s.changesSent], [{ what: 'retried' }, s.retried], [{ what: 'rejected' }, s.rejected]] : [];
  });
  readCounter(reg, 'kdmq_replication_batches_total', 'KDMQ requests sent by the replication outbox (one or more changes each)', [], () => one(owed()?.stats.batches));
  readCounter(reg, 'kdmq_usrloc_applied_total', 'Replicated usrloc changes applied', [], () => one(src.app?.usrloc.stats.applied));
  readCounter(reg, 'kdmq_usrloc_stale_total', 'Replicated usrloc changes not applied (older, tombstoned or expired)', [], () => one(src.app?.usrloc.stats.stale));
  readCounter(reg, 'kdmq_htable_applied_total', 'Replicated htable actions applied (plus sync cells)', [], () => one(src.app?.htable.channel ? src.app.htable.channel.stats.applied + src.app.htable.channel.stats.cellsApplied : undefined));
}

/** anti-entropy, sync answers, the KDMQ client's queues and the uptime */
function registerAntiEntropyMetrics(reg: client.Registry[], src: Sources): void {
  // anti-entropy (specs/anti-entropy.md A9): absent when antientropy.interval is 0
  const ae = () => src.app?.antientropy?.stats;
  readCounter(reg, 'kdmq_antientropy_rounds_total', 'Anti-entropy rounds started by this node (a digest to each kdmq peer sorting after it)', [], () => one(ae()?.rounds));
  readCounter(reg, 'kdmq_antientropy_sent_bytes_total', 'Anti-entropy body bytes sent, by step (digest, leaf hashes, versions, wants, records)', ['step'], () => {
    const s = ae();
    return s ? [[{ step: 'digest' }, s.digestBytes], [{ step: 'leaves' }, s.subBytes], [{ step: 'versions' }, s.versionBytes], [{ step: 'want' }, s.wantBytes], [{ step: 'records' }, s.recordBytes]] : [];
  });
  readCounter(reg, 'kdmq_antientropy_repairs_total', 'Anti-entropy repairs by store (ul, ht) and kind: pushed (our newer item sent), wanted (their newer item asked for), applied (a received repair changed this store)', ['store', 'kind'], () => {
    const s = ae();
    if (!s) return [];
    const out: Array<[Record<string, string>, number]> = [];
    for (const kind of ['pushed', 'wanted', 'applied'] as const) for (const [store, v] of Object.entries(s[kind])) out.push([{ store, kind }, v]);
    return out;
  });
  readCounter(reg, 'kdmq_antientropy_bad_total', 'kdmq-ae requests refused as malformed (400)', [], () => one(ae()?.bad));
  readCounter(reg, 'kdmq_sync_requests_answered_total', 'Sync requests answered, per channel', ['channel'], () => [
    [{ channel: 'usrloc' }, src.app?.usrloc.stats.syncRequestsAnswered ?? 0],
    [{ channel: 'htable' }, src.app?.htable.channel?.stats.syncRequests ?? 0],
  ]);
  readGauge(reg, 'kdmq_kdmq_in_flight', 'KDMQ requests awaiting their outcome', [], () => one(src.node?.kdmq.inFlight()));
  readGauge(reg, 'kdmq_kdmq_queued', 'KDMQ requests waiting for a free in-flight slot of their peer (limits.peer_in_flight)', [], () => one(src.node?.kdmq.queued()));
  readGauge(reg, 'kdmq_uptime_seconds', 'Seconds since the node started', [], () => (src.node && src.now ? [[{}, (src.now() - src.node.startedAt) / 1000]] : []));
}

/** the metrics observed from events rather than read from counters */
function eventMetrics(reg: client.Registry[]) {
  const unauthorized = new client.Counter({ name: 'kdmq_rpc_unauthorized_total', help: 'HTTP requests to the RPC listener refused with 401 (rpc.token set, no or a wrong Bearer token)', registers: reg });
  const membership = new client.Counter({ name: 'kdmq_membership_changes_total', help: 'Node status changes seen by this node, by new status', labelNames: ['to'], registers: reg });
  const rtt = new client.Histogram({
    name: 'kdmq_request_duration_seconds',
    help: 'KDMQ request to final response round trip, per channel (time-outs excluded)',
    labelNames: ['channel'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32],
    registers: reg,
  });
  const sync = new client.Histogram({
    name: 'kdmq_sync_duration_seconds',
    help: 'Time to answer one sync request (first batch sent to last batch answered)',
    labelNames: ['channel', 'role'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: reg,
  });
  return { unauthorized, membership, rtt, sync };
}

/** wrap send() of the node's KDMQ client to time each request to its outcome (kdmq_request_duration_seconds) */
function timeKdmqRequests(n: KdmqNode, now: () => number, rtt: client.Histogram): void {
  const k = n.kdmq;
  const send = k.send.bind(k);
  k.send = (m) => {
    const t0 = now();
    const done = m.done;
    send({
      ...m,
      done: (r) => {
        if (r.code !== 408 && !r.dropped) rtt.observe({ channel: m.channel }, (now() - t0) / 1000);
        done?.(r);
      },
    });
  };
}
