// Wires anti-entropy into a node (specs/anti-entropy.md): the location store and the replicated
// htables as sources, htable operations observed for versions (local ones and those arriving on
// the htable channel), and the `kdmq-ae` channel on the router when antientropy.interval > 0.

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import type { HtableChannel } from '../actors/channels/htable-channel.ts';
import type { HtableStore } from '../htable/store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { LocationStore } from '../actors/location/store.ts';
import { AntiEntropy } from './channel.ts';
import { HtableSource } from './htable-source.ts';
import { UsrlocSource } from './usrloc-source.ts';

export interface AeTargets {
  location: LocationStore;
  htable: { store: HtableStore; channel: HtableChannel | null };
}

export function installAntiEntropy(node: NodeHandle, t: AeTargets, clock: Clock, log?: Log): AntiEntropy | null {
  const cfg = node.config.antientropy;
  if (!cfg || cfg.interval <= 0) return null;
  const sources = [];
  if (node.config.dmq_usrloc.enable) sources.push(new UsrlocSource({ store: t.location, announceDeletes: node.config.dmq_usrloc.usrloc_delete }));
  const ch = t.htable.channel;
  if (ch) {
    const hs = new HtableSource(t.htable.store, clock);
    t.htable.store.onChange((c) => hs.observe(c));
    const apply = ch.apply.bind(ch);
    ch.apply = (msg, sender) => {
      // sync cells carry no versions: one for an item deleted here (tombstone alive) is older news
      const m = 'cells' in msg ? { cells: msg.cells.filter((c) => !hs.tombstoned(c.htname, c.cname)) } : msg;
      const r = apply(m, sender);
      if (r.status === 200) hs.observe(m);
      return r;
    };
    sources.push(hs);
  }
  const ae = new AntiEntropy({ node, sources, clock, intervalMs: cfg.interval * 1000, buckets: cfg.buckets, window: cfg.window, log });
  node.addChannel(ae);
  ae.start();
  return ae;
}
