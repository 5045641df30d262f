// The trace commands end to end through bin/kdmq.mjs: import → show (text ladder, HTML) → export
// (tshark reads the same SIP messages) → replay (agreement exit 0, a tampered output exits 1 with
// the first divergence, --as reports differences and exits 0); bad files exit 1 naming the record.
// HTML renders in headless Chromium (screenshot). tshark/Chromium tests skip with a reason.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simRecordReplayTrace } from './sim-trace.ts';
import { encodeTrace, decodeTrace, b64 } from '../../src/trace/format.ts';
import { TraceFileWriter } from '../../src/trace/trace-writer.ts';

const FIX = '/work/shared/fixtures/kamailio-traces';
const dir = mkdtempSync(join(tmpdir(), 'kdmq-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const kdmq = (...args: string[]) => spawnSync(process.execPath, ['bin/kdmq.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
const hasTshark = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;
const CHROMIUM = '/usr/bin/chromium';

describe('kdmq trace / replay CLI', () => {
  it('imports a capture, shows a ladder, replays --as and reports differences (exit 0)', () => {
    const out = join(dir, 'formation.jsonl');
    const imp = kdmq('trace', 'import', `${FIX}/formation/capture.pcap`, '-o', out);
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/76 SIP datagrams, nodes: node1=sip:127.0.0.11:5090/);
    const show = kdmq('trace', 'show', out);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/node1 127\.0\.0\.11/);
    expect(show.stdout).toMatch(/KDMQ notification_peer/);
    expect(show.stdout).toMatch(/200 OK \(notification_peer\)/);
    const rep = kdmq('replay', out, '--as', 'sip:127.0.0.12:5090');
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/## dmq\.list_nodes/);
    expect(rep.stdout.match(/status: active/g)?.length).toBe(3);
  }, 60_000);

  it('replays a simulator trace: agreement exits 0, a tampered recorded output exits 1 with both messages', async () => {
    const trace = await simRecordReplayTrace('cli-1');
    const ok = join(dir, 'sim.jsonl');
    writeFileSync(ok, encodeTrace(trace));
    const a = kdmq('replay', ok, '--exact');
    expect(a.status, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toMatch(/replay agrees: \d+ datagrams sent as recorded \(exact\)/);
    const i = trace.records.findIndex((r) => r.r === 'out');
    const r = trace.records[i] as { data: string };
    const tampered = { ...trace, records: trace.records.map((x, j) => (j === i ? { ...x, data: b64(Buffer.from(Buffer.from(r.data, 'base64').toString('latin1').replace('KDMQ', 'OPTIONS'), 'latin1')) } : x)) };
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, encodeTrace(tampered));
    const b = kdmq('replay', bad);
    expect(b.status).toBe(1);
    expect(b.stdout).toMatch(/divergence at output 0: different message\n--- recorded at \+[\d.]+ ms[\s\S]*OPTIONS[\s\S]*--- replayed at[\s\S]*KDMQ/);
  }, 60_000);

  it('malformed inputs exit 1 with the record named', () => {
    const t = join(dir, 'trunc.jsonl');
    expect(kdmq('trace', 'import', `${FIX}/formation/capture.pcap`, '-o', join(dir, 'f3.jsonl')).status).toBe(0);
    writeFileSync(t, readFileSync(join(dir, 'f3.jsonl'), 'utf8').slice(0, 3000));
    const a = kdmq('replay', t, '--as', 'sip:127.0.0.11:5090');
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(/trace line \d+ \(byte \d+\): truncated record/);
    const p = join(dir, 'trunc.pcap');
    writeFileSync(p, readFileSync(`${FIX}/register/capture.pcap`).subarray(0, 5000));
    const b = kdmq('trace', 'import', p, '-o', join(dir, 'x.jsonl'));
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/(record|block) \d+ at byte \d+: (data|block) truncated/);
  }, 60_000);

  it.skipIf(!hasTshark)(`export: tshark reads the exported pcap (Ethernet and SLL) with the same SIP messages${hasTshark ? '' : ' [skipped: tshark is not installed]'}`, () => {
    for (const link of ['ethernet', 'sll']) {
      const pcap = join(dir, `register-${link}.pcap`);
      expect(kdmq('trace', 'import', `${FIX}/register/capture.pcap`, '-o', join(dir, 'register.jsonl')).status).toBe(0);
      expect(kdmq('trace', 'export', join(dir, 'register.jsonl'), '-o', pcap, '--link', link).status).toBe(0);
      const fields = (f: string) => execFileSync('tshark', ['-r', f, '-Y', 'sip', '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'sip.Request-Line', '-e', 'sip.Status-Line', '-e', 'sip.Call-ID'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(fields(pcap)).toBe(fields(`${FIX}/register/capture.pcap`));
      const ck = execFileSync('tshark', ['-r', pcap, '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-e', 'udp.checksum.status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(new Set(ck.trim().split('\n'))).toEqual(new Set(['1']));
    }
  }, 60_000);

  it.skipIf(!existsSync(CHROMIUM))(`show --html renders in headless Chromium (screenshot)${existsSync(CHROMIUM) ? '' : ' [skipped: /usr/bin/chromium is absent; apt-get install -y chromium]'}`, () => {
    const html = join(dir, 'ladder.html');
    expect(kdmq('trace', 'import', `${FIX}/formation/capture.pcap`, '-o', join(dir, 'f2.jsonl')).status).toBe(0);
    expect(kdmq('trace', 'show', join(dir, 'f2.jsonl'), '--html', html).status).toBe(0);
    const png = process.env.KDMQ_LADDER_PNG ?? join(dir, 'ladder.png');
    const profile = mkdtempSync(join(tmpdir(), 'kdmq-chromium-'));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`];
    spawnSync(CHROMIUM, [...flags, `--screenshot=${png}`, '--window-size=1000,800', `file://${html}`], { timeout: 60_000 });
    rmSync(profile, { recursive: true, force: true });
    expect(existsSync(png)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(5000);
    const dom = spawnSync(CHROMIUM, [...flags.slice(0, -1), `--user-data-dir=${profile}-2`, '--dump-dom', `file://${html}`], { encoding: 'utf8', timeout: 60_000 });
    rmSync(`${profile}-2`, { recursive: true, force: true });
    expect(dom.stdout).toMatch(/class="row req"/);
  }, 90_000);

  it('the trace file writer rotates by size; every part decodes on its own', () => {
    const p = join(dir, 'rot.jsonl');
    const h = { format: 'kdmq-trace' as const, version: 1, kind: 'node' as const, source: 'live', start: 0, node: { id: 'sip:127.0.0.1:5090', config: {}, seed: { node: 'a', app: 'b' } } };
    const w = new TraceFileWriter(h, { path: p, maxBytes: 2000 });
    for (let i = 0; i < 50; i++) w.write({ r: 'in', t: i, local: '127.0.0.1:5090', remote: '127.0.0.2:5090', data: b64(new Uint8Array(60)) });
    w.close(50);
    for (const f of [p, `${p}.1`, `${p}.2`]) {
      expect(statSync(f).size).toBeLessThanOrEqual(2000);
      expect(decodeTrace(readFileSync(f)).ok).toBe(true);
    }
  });
});
