// What `kdmq serve` adds around the node the one factory built (its applications included: the
// registrar, usrloc, htable): the applications' RPC methods, plus the operations routes on the
// RPC listener (status page, /status.json, /metrics: src/ops).

import type { KdmqNode } from '../actors/node/create-node.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { RpcRegistry } from '../control/rpc.ts';
import type { ExtraRoute } from '../control/rpc-http.ts';
import { registerAppMethods, type App } from '../actors/node/install-app.ts';
import { createMetrics, type NodeMetrics } from '../ops/metrics.ts';
import { ChangeRing, statusJson } from '../ops/status.ts';
import { opsRoutes } from '../ops/http.ts';
import { nodeReading, Sampler } from '../ops/sampler.ts';

export interface Services {
  app: App;
  metrics: NodeMetrics;
  httpRoutes?: ExtraRoute;
  stop(): Promise<void>;
}

/**
 * `metrics`: made before the node when its log should feed them (serve passes
 * metrics.observeLog(log) as the node's log: sync durations); made here when absent.
 */
export function installServices(node: KdmqNode, reg: RpcRegistry, deps: { clock: Clock; metrics?: NodeMetrics; defaultMetrics?: boolean }): Services {
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: deps.defaultMetrics });
  const ring = new ChangeRing(50);
  node.onStatusChange((c) => ring.push(c));
  const app = node.app;
  registerAppMethods(reg, node);
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
