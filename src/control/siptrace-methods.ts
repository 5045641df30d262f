// RPC for HEP mirroring: siptrace.status on|off|check as Kamailio's siptrace ("Enabled" /
// "Disabled"; 500 "Bad parameter (on, off or check)"), and the siptrace: group added to
// stats.get_statistics (the method is wrapped, its other groups unchanged).

import type { HepMirrorTransport } from '../trace/hep-mirror.ts';
import { siptraceStats } from '../trace/hep-mirror.ts';
import { filterStats } from './stats-methods.ts';
import { register, RpcError, type RpcRegistry } from './rpc.ts';

export function registerSiptraceMethods(reg: RpcRegistry, mirror: HepMirrorTransport, outlet: { sent: number; sendErrors: number; queued: number }): void {
  register(reg, 'siptrace.status', 'Get status or turn on/off siptrace. Parameters: on, off or check.', (p) => {
    if (p.length < 1) throw new RpcError(500, 'Not enough parameters (on, off or check)');
    const s = String(p[0]).toLowerCase();
    if (s.startsWith('on')) mirror.enabled = true;
    else if (s.startsWith('off')) mirror.enabled = false;
    else if (!s.startsWith('check')) throw new RpcError(500, 'Bad parameter (on, off or check)');
    return mirror.enabled ? 'Enabled' : 'Disabled';
  });
  const stats = reg.methods.get('stats.get_statistics');
  if (!stats) return;
  register(reg, 'stats.get_statistics', stats.help, async (p) => {
    const base = (await stats.fn(p)) as string[];
    return [...base, ...filterStats(siptraceStats(mirror, outlet), p)];
  });
}
