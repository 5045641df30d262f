// What `kdmq serve` adds around the node: the registrar and data channels as they land, their RPC
// methods, and extra HTTP routes on the RPC listener. Kept apart from serve.ts so the simulator
// and tests can install the same services on a node.

import type { KdmqNode } from '../actors/create-system.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { RpcRegistry } from '../control/rpc.ts';
import type { ExtraRoute } from '../control/rpc-http.ts';

export interface Services {
  httpRoutes?: ExtraRoute;
  stop(): Promise<void>;
}

export function installServices(_node: KdmqNode, _reg: RpcRegistry, _deps: { clock: Clock; log: Log }): Services {
  return { stop: async () => {} };
}
