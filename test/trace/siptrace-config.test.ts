// The siptrace keys end to end without a network: --kamailio-cfg maps siptrace's modparams (and
// Kamailio's default hep_version 1 is refused when HEP is mirrored), `kdmq serve` exits 2 with
// one line naming the key, `kdmq trace listen` refuses a bad address or a taken port with exit 2,
// `kdmq trace export` writes pcapng by --format or by the file's extension.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readKamailioCfg } from '../../src/config/kamailio-cfg.ts';
import { validateConfig } from '../../src/config/load.ts';
import { main } from '../../src/cli/main.ts';
import { siptraceConfigError } from '../../src/trace/hep-mirror.ts';
import { readCapture } from '../../src/trace/pcap.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-siptrace-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function cfg(name: string, lines: string[]) {
  const p = join(dir, name);
  writeFileSync(p, ['#!KAMAILIO', 'listen=udp:127.0.0.1:5060', 'loadmodule "siptrace.so"', ...lines, ''].join('\n'));
  const r = readKamailioCfg(p);
  if (!r.ok) throw new Error(r.error);
  const v = validateConfig(r.config);
  if (!v.ok) throw new Error(v.error);
  return { config: v.config, ignored: r.ignored };
}

async function run(argv: string[]): Promise<{ code: number; err: string; out: string }> {
  const err: string[] = [];
  const out: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, err: err.join(''), out: out.join('') };
}

describe('siptrace keys', () => {
  it('--kamailio-cfg maps siptrace modparams as Kamailio reads them', () => {
    const { config, ignored } = cfg('a.cfg', [
      'modparam("siptrace", "duplicate_uri", "sip:127.0.0.9:9060")',
      'modparam("siptrace", "hep_mode_on", 1)',
      'modparam("siptrace", "hep_version", 3)',
      'modparam("siptrace", "hep_capture_id", 234)',
      'modparam("siptrace", "trace_on", 1)',
      'modparam("siptrace", "trace_mode", 1)',
      'modparam("siptrace", "auth_key", "spoihepuirthpeuia")',
      'modparam("siptrace", "trace_to_database", 0)',
    ]);
    expect(config.siptrace).toEqual({ duplicate_uri: 'sip:127.0.0.9:9060', hep_mode_on: true, hep_version: 3, hep_capture_id: 234, trace_on: true, trace_mode: 1, auth_key: 'spoihepuirthpeuia', queue_size: 10_000 });
    expect(siptraceConfigError(config.siptrace)).toBeNull();
    expect(ignored).toContain('modparam siptrace trace_to_database');
    expect(ignored).not.toContain('loadmodule siptrace');
  });

  it('Kamailio defaults: trace_on 0; HEP mirroring without hep_version gets its default 1 and is refused', () => {
    const off = cfg('b.cfg', ['modparam("siptrace", "duplicate_uri", "sip:127.0.0.9:9060")']);
    expect(off.config.siptrace).toMatchObject({ trace_on: false, trace_mode: 0, hep_version: 3 });
    const v1 = cfg('c.cfg', ['modparam("siptrace", "duplicate_uri", "sip:127.0.0.9:9060")', 'modparam("siptrace", "trace_mode", 1)']);
    expect(siptraceConfigError(v1.config.siptrace)).toBe('config key siptrace.hep_version: kdmq writes HEPv3 only, expected 3, got 1');
  });

  it('kdmq serve exits 2 with one line naming the key, before binding anything', async () => {
    for (const [set, key] of [
      ['siptrace.hep_version=2', 'siptrace.hep_version'],
      ['siptrace.trace_mode=2', 'siptrace.trace_mode'],
      ['siptrace.trace_mode=1', 'siptrace.duplicate_uri'],
      ['siptrace.nope=1', 'siptrace.nope'],
    ]) {
      const r = await run(['serve', '--set', 'rpc.listen=', '--set', set]);
      expect(r.code).toBe(2);
      expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.err).toContain(`config key ${key}`);
    }
    const r = await run(['serve', '--set', 'siptrace.trace_mode=1', '--set', 'siptrace.duplicate_uri=sip:homer.example:9060']);
    expect(r.err).toBe('kdmq serve: config key siptrace.duplicate_uri: expected sip:IP:PORT (IP literal, UDP), got "sip:homer.example:9060"\n');
  });
});

describe('kdmq trace listen and export options', () => {
  it('listen: a bad address or a taken port exits 2 with the reason', async () => {
    expect(await run(['trace', 'listen', 'tcp:127.0.0.1:9060', '-o', join(dir, 'x')])).toMatchObject({ code: 2, err: expect.stringContaining('expected udp:IP:PORT') });
    expect((await run(['trace', 'listen', 'udp:127.0.0.1:9060'])).code).toBe(2);
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const r = await run(['trace', 'listen', `udp:127.0.0.1:${s.address().port}`, '-o', join(dir, 'y.trace')]);
    s.close();
    expect(r).toMatchObject({ code: 2, err: expect.stringContaining('EADDRINUSE') });
  });

  it('export: pcapng by --format or by the .pcapng name, pcap otherwise', async () => {
    const imp = await run(['trace', 'import', '/work/shared/fixtures/kamailio-traces/register/capture.pcap', '-o', join(dir, 't.trace')]);
    expect(imp.code).toBe(0);
    const fmt = (f: string) => {
      const c = readCapture(readFileSync(f));
      return c.ok ? `${c.format} ${c.frames.length}` : c.error;
    };
    expect((await run(['trace', 'export', join(dir, 't.trace'), '-o', join(dir, 'a.pcapng')])).code).toBe(0);
    expect((await run(['trace', 'export', join(dir, 't.trace'), '-o', join(dir, 'b.cap'), '--format', 'pcapng'])).code).toBe(0);
    expect((await run(['trace', 'export', join(dir, 't.trace'), '-o', join(dir, 'c.pcap')])).code).toBe(0);
    const n = fmt(join(dir, 'c.pcap')).split(' ')[1];
    expect([fmt(join(dir, 'a.pcapng')), fmt(join(dir, 'b.cap')), fmt(join(dir, 'c.pcap'))]).toEqual([`pcapng ${n}`, `pcapng ${n}`, `pcap ${n}`]);
    expect((await run(['trace', 'export', join(dir, 't.trace'), '-o', join(dir, 'd'), '--format', 'erf'])).code).toBe(2);
  });
});
