// The interfaces of HEP mirroring (siptrace.*, docs/tracing.md): the outlet the mirror
// (trace/hep-mirror.ts) hands its copies to, whose live implementation is hep-udp.ts, and the
// mirror's counters, which the siptrace RPC (control/siptrace-methods.ts) reports.

/** where the copies go; push never blocks and never throws: false = dropped (counted by the outlet) */
export interface HepOutlet {
  push(packet: Uint8Array): boolean;
}

export interface MirrorCounters {
  /** copies handed to the outlet */
  copied: number;
  /** copies the outlet refused (queue full) */
  dropped: number;
  /** datagrams that could not be encoded (too large for HEP, mixed address families) */
  unencodable: number;
  tracedRequests: number;
  tracedReplies: number;
}
