// The node's applications, installed by createNode (create-node.ts) on the core it built, from
// the same ports bundle: the registrar (REGISTER → location store), the usrloc and htable DMQ
// channels, anti-entropy and persistence; and their JSON-RPC methods (ul.*, htable.*,
// stats.get_statistics), which `kdmq serve` registers. Only createNode calls installApp.

import type { KdmqNode, NodeCore, Ports } from './create-node.ts';
import { silentLog } from '../../ports/log.ts';
import { Registrar } from '../../registrar/registrar.ts';
import type { DigestAuth } from '../../registrar/auth.ts';
import { UsrlocChannel } from '../channels/usrloc-channel.ts';
import { installHtable, type HtableStore } from '../../htable/index.ts';
import type { HtableChannel } from '../channels/htable-channel.ts';
import { installAntiEntropy } from '../../antientropy/install.ts';
import type { AntiEntropy } from '../../antientropy/channel.ts';
import { installPersistence } from '../../persist/install.ts';
import type { Persister } from '../../persist/persister.ts';
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

/** what the applications read of the node's ports bundle */
export type AppPorts = Pick<Ports, 'clock' | 'random' | 'log' | 'persistence' | 'registerAuth'>;

export function installApp(node: NodeCore, ports: AppPorts): App {
  const log = ports.log ?? silentLog;
  const clock = ports.clock;
  const auth = ports.registerAuth;
  const sipSocket = node.endpoints[0];
  let usrloc!: UsrlocChannel;
  let persister: Persister | null = null;
  let antientropy: AntiEntropy | null = null;
  const registrar = new Registrar({
    clock,
    random: ports.random.fork('app').fork('registrar'),
    config: node.config.registrar,
    nodeId: `${node.local.host}:${node.local.port}`,
    server_id: node.config.usrloc?.server_id ?? 0,
    onChange: (c) => {
      persister?.onBinding(c); // db_mode 1: written here, before the 200 is sent
      antientropy?.onBinding(c.contact.aor);
      usrloc.onChange(c);
    },
    auth,
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
  const htable = installHtable(node, clock, { log });
  antientropy = installAntiEntropy(node, { location: registrar.store, htable }, clock, log);
  persister = installPersistence(node, { location: registrar.store, htable }, ports.persistence, clock);
  return {
    registrar,
    usrloc,
    htable,
    antientropy,
    persister,
    auth: auth ?? null,
    stop: () => {
      antientropy?.stop();
      persister?.stop();
      registrar.store.stopTimers();
      htable.store.stop();
    },
  };
}

export function registerAppMethods(reg: RpcRegistry, node: KdmqNode): void {
  const app = node.app;
  const admit = () => node.limits.admitChange();
  // db_mode 3: ul.lookup reads the AoR's rows from the database first, as Kamailio's DB-only mode
  const refresh = app.persister?.mode === 3 ? (aor: string) => app.persister?.refreshAor(aor) : undefined;
  registerUlMethods(reg, app.registrar, admit, refresh);
  registerHtableMethods(reg, app.htable.store, admit);
  registerStatsMethods(reg, node, app);
}
