// RPC for HEP mirroring: siptrace.status on|off|check as Kamailio's siptrace ("Enabled" /
// "Disabled"; 500 "Bad parameter (on, off or check)"), and the siptrace: group added to
// stats.get_statistics (the method is wrapped, its other groups unchanged).

import type { MirrorCounters } from '../transport/hep-outlet.ts';
import { filterStats } from './stats-methods.ts';
import { register, rpcError, type RpcRegistry } from './rpc.ts';

/** what the RPC reads and switches of the HEP mirror (trace/hep-mirror.ts HepMirrorTransport) */
export interface TraceMirror {
  enabled: boolean;
  readonly counters: MirrorCounters;
}

/** what the RPC reads of the HEP outlet (transport/hep-udp.ts UdpHepOutlet) */
export interface OutletCounters {
  sent: number;
  sendErrors: number;
  queued: number;
}

export function registerSiptraceMethods(reg: RpcRegistry, mirror: TraceMirror, outlet: OutletCounters): void {
  register(reg, 'siptrace.status', 'Get status or turn on/off siptrace. Parameters: on, off or check.', (p) => {
    if (p.length < 1) throw rpcError('KDMQ_RPC_SIPTRACE_PARAMS');
    const s = String(p[0]).toLowerCase();
    if (s.startsWith('on')) mirror.enabled = true;
    else if (s.startsWith('off')) mirror.enabled = false;
    else if (!s.startsWith('check')) throw rpcError('KDMQ_RPC_SIPTRACE_BAD_PARAM');
    return mirror.enabled ? 'Enabled' : 'Disabled';
  });
  const stats = reg.methods.get('stats.get_statistics');
  if (!stats) return;
  register(reg, 'stats.get_statistics', stats.help, async (p) => {
    const base = (await stats.fn(p)) as string[];
    return [...base, ...filterStats(siptraceStats(mirror, outlet), p)];
  });
}

/** stats.get_statistics lines (group siptrace:), Kamailio's two names first */
export function siptraceStats(m: TraceMirror, outlet: OutletCounters): string[] {
  const c = m.counters;
  return [
    `siptrace:traced_requests = ${c.tracedRequests}`,
    `siptrace:traced_replies = ${c.tracedReplies}`,
    `siptrace:hep_copied = ${c.copied}`,
    `siptrace:hep_sent = ${outlet.sent}`,
    `siptrace:hep_queued = ${outlet.queued}`,
    `siptrace:hep_dropped = ${c.dropped}`,
    `siptrace:hep_send_errors = ${outlet.sendErrors}`,
    `siptrace:hep_unencodable = ${c.unencodable}`,
  ];
}
