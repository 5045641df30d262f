// Wires persistence into a node's applications (usrloc.db_mode, htable.tables.<t>.persistent):
// the Persistence port comes from the composition root (SQLite for `kdmq serve`, memory in tests);
// nothing is installed for db_mode 0. Loads the file at once, before any KDMQ is processed.

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import type { HtableChannel } from '../actors/channels/htable-channel.ts';
import type { HtableStore } from '../htable/store.ts';
import type { Clock } from '../ports/clock.ts';
import type { LocationStore } from '../actors/location/store.ts';
import { Persister } from './persister.ts';
import type { Persistence } from './port.ts';

export interface PersistTargets {
  location: LocationStore;
  htable: { store: HtableStore; channel: HtableChannel | null };
}

export function installPersistence(node: NodeHandle, t: PersistTargets, port: Persistence | undefined, clock: Clock): Persister | null {
  const cfg = node.config.usrloc;
  if (!port || !cfg || cfg.db_mode === 0) return null;
  const tables = Object.entries(node.config.htable.tables).filter(([, c]) => c.persistent).map(([n]) => n);
  const p = new Persister({
    port,
    mode: cfg.db_mode === 1 ? 1 : cfg.db_mode === 3 ? 3 : 2,
    timerMs: cfg.timer_interval * 1000,
    clock,
    location: t.location,
    htable: tables.length > 0 ? { store: t.htable.store, tables } : undefined,
  });
  if (tables.length > 0) {
    t.htable.store.onChange((c) => p.onItem(c));
    const ch = t.htable.channel;
    if (ch) {
      const apply = ch.apply.bind(ch);
      ch.apply = (m, sender) => {
        const r = apply(m, sender);
        if (r.status === 200) p.onItem(m);
        return r;
      };
    }
  }
  p.load();
  return p;
}
