// Wires htable into a node: the store from config.htable (protocol reference §6.1) and, when
// htable.enable_dmq is on, the `htable` channel on the node's router, sending through its KDMQ
// client to its active nodes. The one entry point the composition roots call.

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import { HtableChannel } from '../actors/channels/htable-channel.ts';
import { HtableStore, type StoreOptions } from './store.ts';
import { isStreamNode, kamailioStreamBodyLimit } from '../actors/dmq/stream-budget.ts';
import { nodeKey } from '../actors/membership/node-list.ts';
import { MAX_CELLS_BYTES } from '../actors/channels/htable-body.ts';

export { HtableStore } from './store.ts';
export { HtableChannel, HTABLE_CHANNEL } from '../actors/channels/htable-channel.ts';
export type { HtableChange, HtableItem, HtableInfo, Origin, StoreResult } from './store.ts';

export interface InstallHtableOptions extends StoreOptions {
  paceMs?: number;
  log?: Log;
}

export function installHtable(node: NodeHandle, clock: Clock, opts: InstallHtableOptions = {}): { store: HtableStore; channel: HtableChannel | null } {
  const cfg = node.config.htable;
  const store = new HtableStore(cfg.tables, clock, {
    maxItems: node.limits?.config.htable_max_items,
    onRefused: () => void (node.limits && node.limits.refusals.htable_items++),
    ...opts,
  });
  if (!cfg.enable_dmq) return { store, channel: null };
  const channel = new HtableChannel({
    store,
    sender: node.kdmq,
    peers: () => node.list.activePeers(),
    clock,
    initSync: cfg.dmq_init_sync,
    paceMs: opts.paceMs,
    log: opts.log,
    replication: node.replication,
    maxBytesFor: (to) =>
      isStreamNode(to) && !node.list.views().some((v) => v.key === nodeKey(to) && v.kdmq) ? kamailioStreamBodyLimit(node.config) : undefined,
  });
  node.replication.outbox.register(channel.name, { maxChanges: () => 1, maxBytes: () => MAX_CELLS_BYTES, join: (b) => b[0], overhead: () => 0 });
  node.replication.onResync((to) => channel.answerSync(to));
  node.addChannel(channel);
  return { store, channel };
}
