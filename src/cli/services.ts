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
import { nodeReading, Sampler } from '../ops/sampler.ts';
import { SqlitePersistence } from '../persist/sqlite.ts';
import type { Persistence } from '../persist/port.ts';
import type { DigestAuth } from '../registrar/auth.ts';

export interface Services {
  app: App;
  metrics: NodeMetrics;
  httpRoutes?: ExtraRoute;
  stop(): Promise<void>;
}

export function installServices(node: KdmqNode, reg: RpcRegistry, deps: { clock: Clock; log: Log; random: Random; defaultMetrics?: boolean; auth?: DigestAuth; persistence?: Persistence }): Services {
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics });
  const ring = new ChangeRing(50);
  node.onStatusChange((c) => ring.push(c));
  const db = node.config.usrloc;
  // serve opens it (cli/persist-setup.ts: usrloc.db_url or db_path, errors exit 2); tests may not
  const persistence = deps.persistence ?? (db && db.db_mode > 0 ? new SqlitePersistence(db.db_path, { useDomain: node.config.registrar.use_domain }) : undefined);
  const app = installApp(node, { clock: deps.clock, random: deps.random, log: metrics.observeLog(deps.log), persistence, auth: deps.auth });
  registerAppMethods(reg, node, app);
  metrics.attach(node, app, () => deps.clock.now());
  // the status page's charts: sampled on this process's clock, never inside the node core
  const sampler = new Sampler(deps.clock, () => nodeReading(node, app));
  node.onStatusChange((c) => sampler.change({ at: c.at, node: c.key, from: c.from, to: c.to, trigger: c.event }));
  sampler.start();
  const httpRoutes = opsRoutes({ metrics, status: () => statusJson(node, app, ring, deps.clock.now()), series: (since) => sampler.series(since) });
  return {
    app,
    metrics,
    httpRoutes,
    stop: async () => {
      sampler.stop();
      metrics.stop();
      app.stop();
    },
  };
}
