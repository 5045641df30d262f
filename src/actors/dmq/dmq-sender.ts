// What the membership and data channels need to send KDMQ: one request to one node, answered by
// a final response or a time-out (code 408). Implemented in create-node.ts over the transaction
// layer, as protocol reference §1.1 describes the request (From = server_address, R-URI/To =
// sip:<channel>@<host>:<port>, Max-Forwards, Content-Type, Content-Length always).

import type { NodeId } from '../membership/node-list.ts';

export interface KdmqOutcome {
  code: number;
  reason: string;
  body: string;
  /** local outcome: never sent, dropped by per-node flow control (node-flow.ts) */
  dropped?: boolean;
  /** the answer's Server header (a Kamailio's names its version: membership/node-dialect.ts) */
  server?: string;
}

export interface KdmqSend {
  to: NodeId;
  channel: string;
  body: string;
  contentType: string;
  maxForwards: number;
  /**
   * may be dropped when the peer's queue is over limits.peer_queue (anti-entropy digests: the next
   * round repeats them). Replicated changes never are: they go through the outbox.
   */
  droppable?: boolean;
  /** called once with the final response, or with code 408 on time-out */
  done?: (r: KdmqOutcome) => void;
}

export interface DmqSender {
  send(m: KdmqSend): void;
}
