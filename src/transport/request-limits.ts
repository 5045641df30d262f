// Size and load limits the transaction layer applies before a request becomes a transaction
// (config `limits:`): datagram bytes (513), header lines (513), body bytes (413) and live server
// transactions (503 + Retry-After, answered statelessly so a flood costs no state). The answer is
// built as a server transaction would build it (RFC 3261 §17.2, §18.2.2 response routing).

import { responseTo, writeResponse } from '../sip/index.ts';
import type { SipRequest } from '../sip/types.ts';
import { isReliable, type Datagram, type Endpoint } from './transport.ts';
import { replaceTopVia, responseRoute } from './via-route.ts';
import { errorText } from '../errors.ts';

export interface RequestLimits {
  maxDatagram: number;
  maxHeaders: number;
  maxBody: number;
  maxPendingServer: number;
  /** bytes per message on TCP/TLS (message and body limit there); absent = maxDatagram/maxBody */
  maxStreamMessage?: number;
  /** ms a request other than KDMQ may have waited in the transport's queue; 0/absent = no limit */
  maxQueueWait?: number;
}

export type RequestLimitName = 'datagram' | 'headers' | 'body' | 'pending_transactions' | 'queue_wait';

export interface Refusal {
  limit: RequestLimitName;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
}

/**
 * the first limit `req` (from datagram `d`) breaks, or null; `pending` = server transactions not
 * yet answered, `waited` = ms the datagram waited in the transport's queue
 */
export function checkRequestLimits(req: SipRequest, d: Datagram, l: RequestLimits, pending: number, waited = 0): Refusal | null {
  const stream = isReliable(d.local) && l.maxStreamMessage !== undefined;
  if (d.data.byteLength > (stream ? l.maxStreamMessage! : l.maxDatagram)) return { limit: 'datagram', status: 513, reason: errorText('KDMQ_SIP_MESSAGE_TOO_LARGE'), headers: [] };
  if (req.headers.length > l.maxHeaders) return { limit: 'headers', status: 513, reason: errorText('KDMQ_SIP_TOO_MANY_HEADERS'), headers: [] };
  if (req.body.byteLength > (stream ? l.maxStreamMessage! : l.maxBody)) return { limit: 'body', status: 413, reason: errorText('KDMQ_SIP_BODY_TOO_LARGE'), headers: [] };
  if (pending >= l.maxPendingServer) {
    return { limit: 'pending_transactions', status: 503, reason: errorText('KDMQ_SIP_PENDING_TRANSACTIONS'), headers: [['Retry-After', '5']] };
  }
  // overload (a node short of CPU): a client request that waited too long is refused at once and
  // cheaply, so answers stay prompt and the node sheds what it cannot do; KDMQ is never refused
  // here (its sender retries: replication and membership must keep flowing)
  if (l.maxQueueWait !== undefined && l.maxQueueWait > 0 && waited > l.maxQueueWait && req.method !== 'KDMQ') {
    return { limit: 'queue_wait', status: 503, reason: errorText('KDMQ_SIP_OVERLOADED'), headers: [['Retry-After', String(Math.max(1, Math.ceil(waited / 1000)))]] };
  }
  return null;
}

/** a response sent without a transaction: where it goes and its bytes; null without a top Via */
export function statelessResponse(req: SipRequest, source: Endpoint, r: Refusal): { to: Endpoint; bytes: Uint8Array } | null {
  const top = req.topVia();
  if (!top.ok) return null;
  const route = responseRoute(top.value, source);
  const out = responseTo(req, r.status, r.reason, { headers: r.headers });
  out.headers = replaceTopVia(out.headers, route.stampedVia);
  return { to: isReliable(source) ? source : route.dest, bytes: writeResponse(out) };
}

const BAD_REQUEST_REASON_MAX = 100;

/** the reason phrase of a 400: the parse error (specs/errors.md KDMQ_SIP_*), controls blanked, at most 100 characters */
export function badRequestReason(error: string): string {
  const clean = error.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length > BAD_REQUEST_REASON_MAX ? `${clean.slice(0, BAD_REQUEST_REASON_MAX - 3)}...` : clean || errorText('KDMQ_SIP_BAD_REQUEST');
}
