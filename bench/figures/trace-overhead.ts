// Figure: trace recording overhead. 2 000 REGISTERs through one node of a simulated 3-node cluster
// (the real factory, registrar and usrloc replication), timed in wall clock without the recorder,
// with the recorder into memory, and with the recorder writing a trace file (synchronous appends,
// as `kdmq serve --trace`). Rows: REGISTERs per wall second and the overhead in % of the baseline.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import { installApp } from '../../src/actors/node/install-app.ts';
import { RecordingResolver, RecordingTransport, MemorySink, type TraceSink } from '../../src/trace/recording-transport.ts';
import { TraceFileWriter } from '../../src/trace/trace-writer.ts';
import { TRACE_FORMAT, TRACE_VERSION } from '../../src/trace/format.ts';
import type { Figure, Samples } from '../lib.ts';
import { simRegisters } from '../support/sim-registers.ts';

const config = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 5 },
  sip: { t1: 100, kdmq_timeout: 2000 },
  rpc: { listen: '' },
});

type Mode = 'off' | 'memory' | 'file';

async function registersPerSecond(mode: Mode, n: number, seed: string): Promise<number> {
  const dir = mode === 'file' ? mkdtempSync(join(tmpdir(), 'kdmq-bench-trace-')) : '';
  let sink: TraceSink | null = null;
  let file: TraceFileWriter | null = null;
  const c: SimCluster = new SimCluster({
    seed,
    config,
    ports: (i, p) => {
      if (i !== 0 || mode === 'off') return p;
      if (mode === 'memory') sink = new MemorySink();
      else sink = file = new TraceFileWriter({ format: TRACE_FORMAT, version: TRACE_VERSION, kind: 'node', source: 'bench', start: 0, node: { id: 'x', config: {}, seed: { node: '', app: '' } } }, { path: join(dir, 't.jsonl'), maxBytes: 100 * 1024 * 1024 });
      return { ...p, transport: new RecordingTransport(p.transport, c.clock, sink), resolver: new RecordingResolver(p.resolver, c.clock, sink) };
    },
    install: (node, i) => void installApp(node, { clock: c.clock, random: c.random.fork(`app${i}`) }),
  });
  try {
    for (let i = 0; i < 3; i++) await c.start(i);
    await c.run(3000);
    const wall = await simRegisters(c, n, 'bench');
    return n / wall;
  } finally {
    for (const m of c.live()) await c.crash(m.index);
    (file as TraceFileWriter | null)?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

export const traceOverheadFigure: Figure = {
  id: 'trace',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'trace recording overhead (simulated REGISTER processing, 3 nodes, recorder on node 1)',
  runs: () => 3,
  rows: () => [
    { label: 'REGISTER/s, no recorder', unit: 'req/s', kdmq: 'off', kamailioNote: 'no counterpart' },
    { label: 'REGISTER/s, recorder → memory', unit: 'req/s', kdmq: 'memory', kamailioNote: 'no counterpart' },
    { label: 'REGISTER/s, recorder → file', unit: 'req/s', kdmq: 'file', kamailioNote: 'no counterpart' },
    { label: 'recorder overhead (file)', unit: '%', kdmq: 'overheadFile', kamailioNote: 'no counterpart', target: { cmp: '<=', value: 10 } },
  ],
  async run(ctx): Promise<Samples> {
    const n = ctx.quick ? 500 : 2000;
    const seed = `bench-trace-${ctx.run}`;
    await registersPerSecond('file', n, `${seed}-warm`); // JIT warm-up of every path
    // rotate the order per run so warm-up and GC drift do not favour one mode
    const modes: Mode[] = (['off', 'memory', 'file'] as Mode[]).map((_, i, a) => a[(i + ctx.run) % 3]);
    const r: Record<Mode, number> = { off: 0, memory: 0, file: 0 };
    for (const m of modes) r[m] = await registersPerSecond(m, n, seed);
    return { ...r, overheadFile: ((r.off - r.file) / r.off) * 100 };
  },
};
