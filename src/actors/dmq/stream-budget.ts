// How large one KDMQ body may be towards a node, by the transport its URI names (protocol reference
// §1.4 `;transport=`, §5.7 sizes): UDP keeps Kamailio's 60 000-byte bodies; a Kamailio 5.6.3 node
// over TCP/TLS reads a whole message into its tcp_rd_buf_size buffer (default 4096 bytes, "buffer
// overrun, dropping" and the connection closed beyond it: found by test/interop/tcp.test.ts), so
// it gets bodies that fit there; kdmq nodes over TCP/TLS take large ones (tcp.max_message).

import type { KdmqConfig } from '../../config/types.ts';
import type { NodeId } from '../membership/node-list.ts';

/** Kamailio core tcp_rd_buf_size default (5.6.3) */
export const KAMAILIO_TCP_RD_BUF = 4096;
/** room left for the KDMQ request line and headers (Via, From, To, Call-ID, signature …) */
export const HEADER_RESERVE = 800;

export function isStreamNode(id: NodeId): boolean {
  return id.transport === 'tcp' || id.transport === 'tls';
}

/** the body byte cap towards a Kamailio node reached over TCP/TLS */
export function kamailioStreamBodyLimit(config: KdmqConfig): number {
  return Math.max(1000, (config.tcp?.kamailio_rd_buf_size ?? KAMAILIO_TCP_RD_BUF) - HEADER_RESERVE);
}
