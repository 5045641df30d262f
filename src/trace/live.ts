// `kdmq serve --trace FILE [--trace-max-mb N]`: wraps the live Transport and Resolver with the
// recorder and writes a node trace (header: config, seeds, start time) with size-based rotation.
// The node is built from the wrapped ports; it cannot tell it is recorded.

import type { KdmqConfig } from '../config/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Resolver } from '../ports/resolver.ts';
import type { Transport } from '../transport/transport.ts';
import { localNodeId } from '../actors/node/create-node.ts';
import { TRACE_FORMAT, TRACE_VERSION } from './format.ts';
import { RecordingResolver, RecordingTransport } from './recording-transport.ts';
import { TraceFileWriter } from './trace-writer.ts';

export interface LiveTrace {
  transport: Transport;
  resolver: Resolver;
  close(now: number): void;
}

export function startLiveTrace(path: string, maxMb: number, config: KdmqConfig, ports: { clock: Clock; random: Random; transport: Transport; resolver: Resolver }): LiveTrace {
  const id = localNodeId(config);
  const writer = new TraceFileWriter(
    {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      kind: 'node',
      source: 'live',
      start: ports.clock.now(),
      node: { id: `sip:${id.host}:${id.port}`, config: config as unknown as Record<string, unknown>, seed: { node: ports.random.seed, app: ports.random.fork('app').seed } },
    },
    { path, maxBytes: Math.max(0, maxMb) * 1024 * 1024 },
  );
  return {
    transport: new RecordingTransport(ports.transport, ports.clock, writer),
    resolver: new RecordingResolver(ports.resolver, ports.clock, writer),
    close: (now) => writer.close(now),
  };
}
