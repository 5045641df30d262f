// The Transport port: datagram sockets as the node sees them. udp-transport.ts implements it
// over node:dgram, sim-transport.ts over the simulator's in-memory network; one contract test
// suite (test/transport/contract.test.ts) runs against both. stream-transport.ts carries SIP over
// TCP/TLS (RFC 3261 §18.3 framing) and mux-transport.ts puts UDP and streams behind one port:
// an Endpoint's `proto` (absent = udp) picks the transport.

export type Proto = 'udp' | 'tcp' | 'tls';

/** host is an IP literal (IPv6 without brackets), port a number; proto absent = udp */
export interface Endpoint {
  host: string;
  port: number;
  proto?: Proto;
}

/** the transport an endpoint names (udp when absent) */
export function protoOf(e: Endpoint): Proto {
  return e.proto ?? 'udp';
}

/** TCP and TLS deliver reliably: no request retransmission (RFC 3261 §17.1.2.2 timer E) */
export function isReliable(e: Endpoint): boolean {
  return e.proto === 'tcp' || e.proto === 'tls';
}

export interface Datagram {
  /** the local socket it arrived on */
  local: Endpoint;
  remote: Endpoint;
  data: Uint8Array;
  /**
   * when the transport read it (the Clock's ms), if it queues datagrams before handing them over
   * (the live UDP transport); absent = handed over as it arrived. limits.max_queue_wait refuses a
   * request that waited longer.
   */
  at?: number;
}

export interface TransportStats {
  sent: number;
  received: number;
  sendErrors: number;
}

export interface Transport {
  /** open a socket; port 0 asks for an ephemeral port. Resolves with the bound endpoint. */
  bind(local: Endpoint): Promise<Endpoint>;
  /** fire-and-forget send from a bound local socket; failures are counted, never thrown */
  send(from: Endpoint, to: Endpoint, data: Uint8Array): void;
  /** one handler receives every datagram of every socket */
  onDatagram(handler: (d: Datagram) => void): void;
  /** endpoints currently bound */
  endpoints(): Endpoint[];
  close(): Promise<void>;
  readonly stats: TransportStats;
}

export const MAX_DATAGRAM = 65_535;

export function endpointKey(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.host === b.host && protoOf(a) === protoOf(b);
}
