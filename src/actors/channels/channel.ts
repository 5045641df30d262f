// The channel interface (specs/architecture.md glossary: channel): what the router
// (actors/node/router.ts) hands each KDMQ to, by the Request-URI user, and the reply it gets back;
// the REGISTER handler's shape beside it. The usrloc, htable and anti-entropy channels implement it.

import type { SipRequest } from '../../sip/types.ts';
import type { Endpoint } from '../../transport/transport.ts';
import type { NodeId } from '../membership/node-list.ts';

export interface Reply {
  status: number;
  reason: string;
  headers?: Array<[string, string]>;
  body?: string;
  /** work done right after the reply is handed to the transport, in the same tick (a data channel applies what it accepted) */
  after?: () => void;
}

export interface DataChannel {
  readonly name: string;
  handle(req: SipRequest, sender: NodeId, source: Endpoint): Reply;
  /** init callback: ask the cluster for a sync (§2.8) */
  onJoined?(): void;
}

export type RequestHandler = (req: SipRequest, source: Endpoint, local: Endpoint) => Reply;
