// Figure: trace recording overhead. N REGISTERs of new users (4 000; quick 1 000) through node 1 of
// a simulated 3-node cluster (the real factory, registrar and usrloc replication), with no
// recorder, the recorder into memory, and the recorder writing a trace file (batched writes, as
// `kdmq serve --trace`: records go out in one write at 64 KiB or 20 ms after the first pending
// one). Measured in this process's CPU time (user + system; everything runs in it), not wall time,
// so other processes on the shared machine do not count; each mode 3 times per run, interleaved in
// a rotated order, and the least of the three taken (the least-disturbed estimate). Rows: CPU µs
// per REGISTER for the whole simulated cluster and the file recorder's overhead in % of it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
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

/** CPU seconds of this process for n REGISTERs with the recorder in `mode` */
async function registerCpu(mode: Mode, n: number, seed: string): Promise<number> {
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
  });
  try {
    for (let i = 0; i < 3; i++) await c.start(i);
    await c.run(3000);
    const u0 = process.cpuUsage();
    await simRegisters(c, n, 'bench');
    (file as TraceFileWriter | null)?.flush(); // the last batch is the recorder's work too
    const u = process.cpuUsage(u0);
    return (u.user + u.system) / 1e6;
  } finally {
    for (const m of c.live()) await c.crash(m.index);
    (file as TraceFileWriter | null)?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const REPS = 3;

export const traceOverheadFigure: Figure = {
  id: 'trace',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'trace recording overhead (simulated REGISTER processing, 3 nodes, recorder on node 1)',
  runs: () => 3,
  rows: () => [
    { label: 'CPU per REGISTER, no recorder (3 simulated nodes)', unit: 'µs', kdmq: 'off', kamailioNote: 'no counterpart' },
    { label: 'CPU per REGISTER, recorder → memory', unit: 'µs', kdmq: 'memory', kamailioNote: 'no counterpart' },
    { label: 'CPU per REGISTER, recorder → file', unit: 'µs', kdmq: 'file', kamailioNote: 'no counterpart' },
    {
      label: 'recorder overhead (file)', unit: '%', kdmq: 'overheadFile', kamailioNote: 'no counterpart', target: { cmp: '<=', value: 10 },
      work: (runs) => `each run: ${runs[0]?.n ?? '?'} REGISTERs of new users to node 1 of 3 (each one a REGISTER in, a 200 out, 2 usrloc KDMQs out and their 2 answers in on node 1: 6 records), ${REPS} times per mode, least CPU taken`,
    },
  ],
  async run(ctx): Promise<Samples> {
    const n = ctx.quick ? 1000 : 4000;
    const seed = `bench-trace-${ctx.run}`;
    await registerCpu('file', n, `${seed}-warm`); // JIT warm-up of every path
    const cpu: Record<Mode, number[]> = { off: [], memory: [], file: [] };
    for (let k = 0; k < REPS; k++) {
      // rotate the order per repetition and run so warm-up and GC drift favour no mode
      const modes: Mode[] = (['off', 'memory', 'file'] as Mode[]).map((_, i, a) => a[(i + k + ctx.run) % 3]);
      for (const m of modes) cpu[m].push(await registerCpu(m, n, `${seed}-${k}`));
    }
    const least = (m: Mode) => Math.min(...cpu[m]);
    ctx.detail('cpuSeconds', cpu);
    const us = (m: Mode) => (least(m) / n) * 1e6;
    return { off: us('off'), memory: us('memory'), file: us('file'), overheadFile: ((least('file') - least('off')) / least('off')) * 100, n };
  },
};
