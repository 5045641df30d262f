// `kdmq serve` with siptrace.*: the HEP mirror around the live transport (below the test-block
// and recording wrappers, so what they see is what went on the wire), its UDP outlet, the
// siptrace RPC and stats, and a warning for settings that mirror nothing (docs/tracing.md).

import type { KdmqConfig } from '../config/types.ts';
import type { Log } from '../ports/log.ts';
import type { RpcRegistry } from '../control/rpc.ts';
import type { Transport } from '../transport/transport.ts';
import { HepMirrorTransport, parseDuplicateUri } from '../trace/hep-mirror.ts';
import { UdpHepOutlet } from '../transport/hep-udp.ts';
import { registerSiptraceMethods } from '../control/siptrace-methods.ts';

export interface HepSetup {
  transport: Transport;
  register(reg: RpcRegistry): void;
  close(): Promise<void>;
}

/** null when nothing is mirrored; the config was checked by siptraceConfigError */
export function startHepMirror(config: KdmqConfig, inner: Transport, log: Log): HepSetup | null {
  const c = config.siptrace;
  if (!c) return null;
  if (c.trace_mode === 0) {
    if (c.hep_mode_on || c.duplicate_uri) log.log('warn', 'siptrace: trace_mode is 0, nothing is mirrored (kdmq has no sip_trace() calls; trace_mode 1 sends HEP)', { duplicate_uri: c.duplicate_uri });
    return null;
  }
  const to = parseDuplicateUri(c.duplicate_uri!);
  if (typeof to === 'string') throw new Error(to);
  const outlet = new UdpHepOutlet(to, c.queue_size);
  const mirror = new HepMirrorTransport(inner, outlet, {
    mode: c.trace_mode,
    captureId: c.hep_capture_id,
    authKey: c.auth_key,
    enabled: c.trace_on,
    nowMs: () => performance.timeOrigin + performance.now(),
  });
  log.log('info', 'siptrace: mirroring SIP and KDMQ', { duplicate_uri: c.duplicate_uri, trace_mode: c.trace_mode, trace_on: c.trace_on, capture_id: c.hep_capture_id });
  return {
    transport: mirror,
    register: (reg) => registerSiptraceMethods(reg, mirror, outlet),
    close: () => outlet.close(),
  };
}
