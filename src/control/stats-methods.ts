// stats.get_statistics with Kamailio's names and line format ("group:name = value"): the
// usrloc: and registrar: groups as Kamailio has them, plus kdmq's own dmq: and htable: counters.
// Parameters: "all", "group:", "name" or "group:name", several at once (as kamcmd).

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import type { HtableStore } from '../htable/index.ts';
import type { Registrar } from '../registrar/registrar.ts';
import { registrarStats, usrlocStats } from '../registrar/rpc-shapes.ts';
import { register, type RpcRegistry } from './rpc.ts';

/** what the statistics read of the node's applications (installApp's App, actors/node/install-app.ts) */
export interface StatsSources {
  readonly registrar: Registrar;
  readonly htable: { readonly store: HtableStore };
}

export function dmqStats(node: NodeHandle): string[] {
  const views = node.list.views();
  const by = (s: string) => views.filter((v) => !v.local && v.status === s).length;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const k = node.kdmq.stats;
  return [
    `dmq:nodes_active = ${by('active')}`,
    `dmq:nodes_pending = ${by('pending')}`,
    `dmq:nodes_disabled = ${by('disabled')}`,
    `dmq:nodes_timeout = ${by('timeout')}`,
    `dmq:kdmq_sent = ${sum(k.sent)}`,
    `dmq:kdmq_answered = ${sum(k.answered)}`,
    `dmq:kdmq_timed_out = ${sum(k.timedOut)}`,
    `dmq:kdmq_received = ${sum(node.router.stats.received)}`,
    `dmq:rejected_senders = ${node.counters.rejectedSenders}`,
    `dmq:unknown_channel = ${node.counters.unknownChannel}`,
    `dmq:bad_node_lines = ${node.counters.badNodeLines}`,
  ];
}

export function allStats(node: NodeHandle, app: StatsSources): string[] {
  const items = app.htable.store.stats().reduce((a, t) => a + t.all, 0);
  return [
    ...dmqStats(node),
    `htable:items = ${items}`,
    ...registrarStats(app.registrar.store, app.registrar.config),
    ...usrlocStats(app.registrar.store),
  ];
}

export function filterStats(lines: string[], params: unknown[]): string[] {
  const wanted = params.length === 0 ? ['all'] : params.map(String);
  return lines.filter((l) => {
    const name = l.slice(0, l.indexOf(' = '));
    const [grp, short] = name.split(':');
    return wanted.some((w) => w === 'all' || w === `${grp}:` || w === short || w === name);
  });
}

export function registerStatsMethods(reg: RpcRegistry, node: NodeHandle, app: StatsSources): void {
  register(reg, 'stats.get_statistics', 'Print statistics (all, group: or name)', (p) => filterStats(allStats(node, app), p));
}
