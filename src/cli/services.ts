// What `kdmq serve` adds around the node: the applications (registrar, usrloc, htable) and
// their RPC methods, installed by the same installApp the simulator uses, plus the operations
// routes on the RPC listener (status page, /status.json, /metrics: src/ops).

import type { KdmqNode } from '../actors/node/create-node.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { Random } from '../ports/random.ts';
import type { RpcRegistry } from '../control/rpc.ts';
import type { ExtraRoute } from '../control/rpc-http.ts';
import { installApp, registerAppMethods, type App } from '../actors/node/install-app.ts';
import { createMetrics, type NodeMetrics } from '../ops/metrics.ts';
import { ChangeRing, statusJson } from '../ops/status.ts';
import { opsRoutes } from '../ops/http.ts';
import { SqlitePersistence } from '../persist/sqlite.ts';
import type { DigestAuth } from '../registrar/auth.ts';

export interface Services {
  app: App;
  metrics: NodeMetrics;
  httpRoutes?: ExtraRoute;
  stop(): Promise<void>;
}

export function installServices(node: KdmqNode, reg: RpcRegistry, deps: { clock: Clock; log: Log; random: Random; defaultMetrics?: boolean; auth?: DigestAuth }): Services {
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics });
  const ring = new ChangeRing(50);
  node.onStatusChange((c) => ring.push(c));
  const db = node.config.usrloc;
  const persistence = db && db.db_mode > 0 ? new SqlitePersistence(db.db_path) : undefined;
  const app = installApp(node, { clock: deps.clock, random: deps.random, log: metrics.observeLog(deps.log), persistence, auth: deps.auth });
  registerAppMethods(reg, node, app);
  metrics.attach(node, app, () => deps.clock.now());
  const httpRoutes = opsRoutes({ metrics, status: () => statusJson(node, app, ring, deps.clock.now()) });
  return {
    app,
    metrics,
    httpRoutes,
    stop: async () => {
      metrics.stop();
      app.stop();
    },
  };
}
