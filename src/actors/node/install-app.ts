// Installs the node's applications on a node built by createNode: the registrar (REGISTER →
// location store), the usrloc and htable DMQ channels, and their JSON-RPC methods (ul.*, htable.*,
// stats.get_statistics). `kdmq serve` and the simulator call this same function.

import type { KdmqNode } from './create-node.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Random } from '../../ports/random.ts';
import { silentLog, type Log } from '../../ports/log.ts';
import { Registrar } from '../../registrar/registrar.ts';
import type { DigestAuth } from '../../registrar/auth.ts';
import { UsrlocChannel } from '../channels/usrloc-channel.ts';
import { installHtable, type HtableStore } from '../../htable/index.ts';
import type { HtableChannel } from '../channels/htable-channel.ts';
import { installAntiEntropy } from '../../antientropy/install.ts';
import type { AntiEntropy } from '../../antientropy/channel.ts';
import { installPersistence } from '../../persist/install.ts';
import type { Persister } from '../../persist/persister.ts';
import type { Persistence } from '../../persist/port.ts';
import type { RpcRegistry } from '../../control/rpc.ts';
import { registerUlMethods } from '../../control/ul-methods.ts';
import { registerHtableMethods } from '../../control/htable-methods.ts';
import { registerStatsMethods } from '../../control/stats-methods.ts';

export interface App {
  registrar: Registrar;
  usrloc: UsrlocChannel;
  htable: { store: HtableStore; channel: HtableChannel | null };
  /** kdmq-to-kdmq anti-entropy (null when antientropy.interval is 0) */
  antientropy: AntiEntropy | null;
  /** usrloc.db_mode 1/2/3 (null for 0 or without a Persistence port) */
  persister: Persister | null;
  /** digest authentication of REGISTER (null when auth.enable is off): its counters are metrics */
  auth: DigestAuth | null;
  /** stop the applications' timers (expiry wheel, htable purge) */
  stop(): void;
}

export interface InstallOptions {
  clock: Clock;
  random: Random;
  log?: Log;
  auth?: DigestAuth;
  /** durable storage for usrloc.db_mode 1/2 (SQLite in `kdmq serve`); absent = memory only */
  persistence?: Persistence;
}

export function installApp(node: KdmqNode, o: InstallOptions): App {
  const log = o.log ?? silentLog;
  const sipSocket = node.endpoints[0];
  let usrloc!: UsrlocChannel;
  let persister: Persister | null = null;
  let antientropy: AntiEntropy | null = null;
  const registrar = new Registrar({
    clock: o.clock,
    random: o.random.fork('registrar'),
    config: node.config.registrar,
    nodeId: `${node.local.host}:${node.local.port}`,
    server_id: node.config.usrloc?.server_id ?? 0,
    onChange: (c) => {
      persister?.onBinding(c); // db_mode 1: written here, before the 200 is sent
      antientropy?.onBinding(c.contact.aor);
      usrloc.onChange(c);
    },
    auth: o.auth,
    socket: sipSocket ? `udp:${sipSocket.host}:${sipSocket.port}` : undefined,
    limits: node.limits,
    faults: node.faults,
  });
  usrloc = new UsrlocChannel({ node, store: registrar.store, log });
  if (node.config.dmq_usrloc.enable) node.addChannel(usrloc);
  node.setRegistrar((req, source) => {
    if (persister?.mode === 3) {
      // db_mode 3: the AoR's rows as the database holds them now (other nodes may share it)
      const to = req.to();
      const aor = to.ok ? registrar.aorOf(to.value.uri.user, to.value.uri.host) : null;
      if (aor !== null) persister.refreshAor(aor);
    }
    return registrar.handleRegister(req, source);
  });
  const htable = installHtable(node, o.clock, { log });
  antientropy = installAntiEntropy(node, { location: registrar.store, htable }, o.clock, log);
  persister = installPersistence(node, { location: registrar.store, htable }, o.persistence, o.clock);
  return {
    registrar,
    usrloc,
    htable,
    antientropy,
    persister,
    auth: o.auth ?? null,
    stop: () => {
      antientropy?.stop();
      persister?.stop();
      registrar.store.stopTimers();
      htable.store.stop();
    },
  };
}

export function registerAppMethods(reg: RpcRegistry, node: KdmqNode, app: App): void {
  const admit = () => node.limits.admitChange();
  // db_mode 3: ul.lookup reads the AoR's rows from the database first, as Kamailio's DB-only mode
  const refresh = app.persister?.mode === 3 ? (aor: string) => app.persister?.refreshAor(aor) : undefined;
  registerUlMethods(reg, app.registrar, admit, refresh);
  registerHtableMethods(reg, app.htable.store, admit);
  registerStatsMethods(reg, node, app);
}
