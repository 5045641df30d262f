// What a StreamTransport (stream-transport.ts: SIP over TCP and TLS, RFC 3261 §18) is configured
// with, as Kamailio's tcp_* and tls module parameters, and what it counts.

import type { TransportStats } from './transport.ts';

export interface StreamTlsOptions {
  certificate: string | Buffer;
  privateKey: string | Buffer;
  caList?: string | Buffer;
  /** check the peer's chain against caList (Kamailio tls verify_certificate); no host-name check */
  verifyPeer: boolean;
  /** as a server, refuse clients without a certificate (Kamailio tls require_certificate) */
  requireCertificate: boolean;
}

export interface StreamTransportOptions {
  tls?: StreamTlsOptions;
  maxMessage?: number;
  maxConnections?: number;
  /** close a connection idle this long (Kamailio tcp_connection_lifetime, 120 s) */
  idleTimeoutMs?: number;
  /** Kamailio tcp_connect_timeout, 10 s */
  connectTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** bytes queued on a connection that is still connecting; more are send errors */
  maxQueueBytes?: number;
}

export interface StreamStats extends TransportStats {
  connectionsOpened: number;
  connectionsAccepted: number;
  connectionsRefused: number;
  connectFailures: number;
  framingErrors: number;
  oversize: number;
  pings: number;
}
