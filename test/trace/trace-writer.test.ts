// The trace file writer batches its appends (issue #15, the recorder's overhead) and is still
// complete up to its last flush: what is pending is written flushMs after it came, on close, on
// rotation and when the process exits, even by an uncaught exception.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { b64, decodeTrace } from '../../src/trace/format.ts';
import { TraceFileWriter } from '../../src/trace/trace-writer.ts';
import { waitFor } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-trace-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const header = { format: 'kdmq-trace' as const, version: 1, kind: 'node' as const, source: 'live', start: 0, node: { id: 'sip:127.0.0.1:5090', config: {}, seed: { node: 'a', app: 'b' } } };
const record = (i: number) => ({ r: 'in' as const, t: i, local: '127.0.0.1:5090', remote: '127.0.0.2:5090', data: b64(new Uint8Array(60).fill(i % 256)) });
const times = (p: string): number[] => {
  const d = decodeTrace(readFileSync(p));
  if (!d.ok) throw new Error(d.error);
  return d.value.records.map((r) => r.t);
};

describe('trace file writer', () => {
  it('writes the header at once and pending records within flushMs, without close', async () => {
    const p = join(dir, 'timer.jsonl');
    const w = new TraceFileWriter(header, { path: p, maxBytes: 0, flushMs: 30 });
    expect(times(p)).toEqual([]);
    for (let i = 0; i < 10; i++) w.write(record(i));
    await waitFor(() => times(p).length === 10, { timeoutMs: 5000, what: 'the 10 records on disk' });
    expect(times(p)).toEqual([...Array(10).keys()]);
    w.close(10);
    expect(readFileSync(p, 'utf8').trimEnd().split('\n').pop()).toBe('{"r":"end","t":10}');
  });

  it('writes at once when 64 KiB are pending', () => {
    const p = join(dir, 'size.jsonl');
    const w = new TraceFileWriter(header, { path: p, maxBytes: 0, flushMs: 60_000 });
    let n = 0;
    while (statSync(p).size < 64 * 1024) w.write(record(n++));
    expect(times(p)).toEqual([...Array(n).keys()]);
    w.close();
  });

  it('rotates by size with pending records; every part decodes on its own, no record lost', () => {
    const p = join(dir, 'rot.jsonl');
    const w = new TraceFileWriter(header, { path: p, maxBytes: 2000, flushMs: 60_000 });
    for (let i = 0; i < 50; i++) w.write(record(i));
    w.close();
    const parts = [...[9, 8, 7, 6, 5, 4, 3, 2, 1].map((k) => `${p}.${k}`), p].filter((f) => { try { return statSync(f).size > 0; } catch { return false; } });
    for (const f of parts) expect(statSync(f).size).toBeLessThanOrEqual(2000);
    expect(parts.flatMap(times)).toEqual([...Array(50).keys()]);
  });

  it('a process that dies of an uncaught exception leaves every record it wrote on disk', () => {
    const p = join(dir, 'crash.jsonl');
    const src = new URL('../../src/trace/trace-writer.ts', import.meta.url).pathname;
    const script = `import { TraceFileWriter } from ${JSON.stringify(src)};
const w = new TraceFileWriter(${JSON.stringify(header)}, { path: ${JSON.stringify(p)}, maxBytes: 0, flushMs: 60000 });
for (let i = 0; i < 100; i++) w.write({ r: 'in', t: i, local: '127.0.0.1:5090', remote: '127.0.0.2:5090', data: '' });
throw new Error('planted crash');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/planted crash/);
    expect(times(p)).toEqual([...Array(100).keys()]);
  });
});
