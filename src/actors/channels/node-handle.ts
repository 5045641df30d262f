// A node as the parts below the composition root see it (the channels, the htable, anti-entropy,
// persistence, the RPC methods): what createNode (actors/node/create-node.ts) returns, whose
// KdmqNode extends this with the router and the root actor themselves. Here those two are only
// what these parts read of them, so that nothing below actors/node names a type of actors/node.

import type { KdmqConfig } from '../../config/types.ts';
import type { Faults } from '../../ports/faults.ts';
import type { Endpoint, Transport } from '../../transport/transport.ts';
import type { TransactionStats } from '../../transport/transactions.ts';
import type { NodeList, NodeId, StatusChange } from '../membership/node-list.ts';
import type { CycleWork } from '../membership/notification-cycle.ts';
import type { KdmqClient } from '../dmq/kdmq-client.ts';
import type { KdmqAuth } from '../dmq/kdmq-auth.ts';
import type { DataChannel, RequestHandler } from './channel.ts';
import type { LimitGuard } from './limits.ts';
import type { Replication } from './replication.ts';

export interface NodeCounters {
  badNodeLines: number;
  rejectedSenders: number;
  unknownChannel: number;
  /** node-list lines that would have created an entry and did not (limits.max_nodes, or a host name from a third party) */
  nodeListRefused: { max_nodes: number; hostname: number };
}

export interface NodeHandle {
  readonly config: KdmqConfig;
  readonly local: NodeId;
  readonly list: NodeList;
  /** what the notification cycle's actions do (our list body, merges); the cycle actor is root's child `cycle` */
  readonly cycle: CycleWork;
  /** the router (actors/node/router.ts): its per-channel counts of KDMQs received */
  readonly router: { readonly stats: { readonly received: Readonly<Record<string, number>> } };
  readonly kdmq: KdmqClient;
  readonly counters: NodeCounters;
  /** config `limits:` and the refusal counters (kdmq_limit_refusals_total) */
  readonly limits: LimitGuard;
  /** signed KDMQ, when dmq.secret or dmq.keyring is set */
  readonly auth: KdmqAuth | null;
  /** this node's planted faults (noFaults but in the simulator's tests); its applications read them too */
  readonly faults: Faults;
  /** what each node is owed of the local changes (the outbox), and admission control on it */
  readonly replication: Replication;
  readonly startedAt: number;
  readonly endpoints: Endpoint[];
  readonly transport: Transport;
  /** the transaction layer's counters (parse errors, 400s, retransmissions, time-outs); null before start / after stop */
  transactionStats(): TransactionStats | null;
  /** a data channel (usrloc, htable) plugs in here */
  addChannel(ch: DataChannel): void;
  /** the REGISTER handler plugs in here */
  setRegistrar(h: RequestHandler): void;
  onStatusChange(fn: (c: StatusChange) => void): void;
  pingNow(): void;
  /** leave notice (if configured), then stop actors; the transport is closed by its owner */
  stop(): Promise<void>;
  /** the root actor (actors/node/node-root-machine.ts): whether it still runs */
  readonly root: { getSnapshot(): { readonly status: string } };
}
