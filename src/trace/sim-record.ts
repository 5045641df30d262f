// Recording simulator runs: recordNode(cluster, k) wraps node k's ports with the recorder (a node
// trace: its inputs, and its outputs for comparison); recordCluster(cluster) taps SimNetwork's
// onDeliver and writes a cluster trace naming every node with every datagram's from/to.

import type { Ports } from '../actors/node/create-node.ts';
import type { SimCluster } from '../sim/cluster.ts';
import { simIp } from '../sim/cluster.ts';
import { parseListen } from '../actors/node/create-node.ts';
import { b64, epText, TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceHeader, type TraceNode } from './format.ts';
import { MemorySink, RecordingResolver, RecordingTransport } from './recording-transport.ts';

export interface NodeRecorder {
  /** pass as SimClusterOptions.ports */
  wrap(i: number, p: Ports): Ports;
  trace(endTime: number): Trace;
}

/** record node k of a cluster; `cluster()` is called lazily (the cluster is built after this) */
export function recordNode(cluster: () => SimCluster, k: number): NodeRecorder {
  const sink = new MemorySink();
  let header: TraceHeader | null = null;
  return {
    wrap(i, p) {
      if (i !== k) return p;
      const c = cluster();
      sink.records.length = 0; // a restart starts a fresh trace
      header = {
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        kind: 'node',
        source: 'sim',
        start: c.clock.now(),
        node: { id: `sip:${simIp(k)}`, config: c.configFor(k) as unknown as Record<string, unknown>, seed: { node: p.random.seed, app: p.random.fork('app').seed } },
      };
      return { ...p, transport: new RecordingTransport(p.transport, c.clock, sink), resolver: new RecordingResolver(p.resolver, c.clock, sink) };
    },
    trace(endTime) {
      if (!header) throw new Error(`node ${k} was never started`);
      return { header, records: [...sink.records, { r: 'end', t: endTime }] };
    },
  };
}

/** tap the network: every delivered datagram, with the cluster's nodes named */
export function recordCluster(c: SimCluster): { trace(endTime: number): Trace } {
  const records: Trace['records'] = [];
  const start = c.clock.now();
  c.net.onDeliver((d) => records.push({ r: 'dgram', t: d.time, from: epText(d.from), to: epText(d.to), data: b64(d.data) }));
  return {
    trace(endTime) {
      const nodes: TraceNode[] = c.members.filter(Boolean).map((m) => {
        const eps = m.config.listen.map((l) => epText(parseListen(l)));
        return { name: `node${m.index + 1}`, id: m.config.dmq.server_address ?? `sip:${eps[0]}`, endpoints: eps };
      });
      return { header: { format: TRACE_FORMAT, version: TRACE_VERSION, kind: 'cluster', source: 'sim', start, nodes }, records: [...records, { r: 'end', t: endTime }] };
    },
  };
}
