// What `kdmq serve` adds around the node: the applications (registrar, usrloc, htable) and
// their RPC methods, installed by the same installApp the simulator uses, plus extra HTTP
// routes on the RPC listener.

import type { KdmqNode } from '../actors/create-system.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { Random } from '../ports/random.ts';
import type { RpcRegistry } from '../control/rpc.ts';
import type { ExtraRoute } from '../control/rpc-http.ts';
import { installApp, registerAppMethods, type App } from '../app/install.ts';

export interface Services {
  app: App;
  httpRoutes?: ExtraRoute;
  stop(): Promise<void>;
}

export function installServices(node: KdmqNode, reg: RpcRegistry, deps: { clock: Clock; log: Log; random: Random }): Services {
  const app = installApp(node, { clock: deps.clock, random: deps.random, log: deps.log });
  registerAppMethods(reg, node, app);
  return { app, stop: async () => {} };
}
