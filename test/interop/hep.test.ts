// HEPv3 with real tools (issue #18 item 3): a kdmq node with siptrace mirrors every datagram in and
// out (the exact bytes its --trace records) to a loopback HEP listener; sngrep (-N -q -L … -O …)
// receives kdmq's HEP and its capture holds every REGISTER and KDMQ; Kamailio 5.6.3's siptrace
// sends HEP to `kdmq trace listen`, whose trace (and `kdmq trace import` of a dumpcap capture of
// the same HEP) holds the REGISTER and the KDMQ replicating it, and replays. Loopback only; every
// program started and stopped by PID. Skipped with the reason when a tool is absent.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort, freeUdpPort, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { waitFor } from '../support/wait.ts';
import { KDMQ, rpcCall, serveProc, spawnProc, type Proc, type ServeProc } from '../ops/helpers.ts';
import { HepListener, dgramKey, nodeTraceKeys, rawRegister } from '../support/hep.ts';
import { importCapture } from '../../src/trace/import.ts';
import { decodeTrace, unb64, type Trace } from '../../src/trace/format.ts';
import { encodeHep } from '../../src/trace/hep.ts';
import { createSocket } from 'node:dgram';

const has = (cmd: string, arg = '-V') => spawnSync(cmd, [arg]).error === undefined;
const sngrep = has('sngrep');
const kam = kamailioAvailable();
const dumpcap = has('dumpcap', '-v');
if (!sngrep) console.warn('[hep interop] sngrep tests skipped: sngrep is not installed (Debian package sngrep)');
if (!kam.ok) console.warn(`[hep interop] Kamailio test skipped: ${kam.reason}`);

const dirs: string[] = [];
const procs: Array<Proc | ServeProc> = [];
afterAll(async () => {
  for (const p of procs) {
    if ('cleanup' in p) await p.cleanup();
    else if (!p.exited()) {
      p.kill('SIGTERM');
      await p.wait(5000).catch(() => p.kill('SIGKILL'));
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sorted = (xs: string[]) => [...xs].sort();
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** node A (siptrace to duplicate_uri, --trace) and node B, active for each other */
async function twoNodes(ipA: string, ipB: string, duplicateUri: string): Promise<{ a: ServeProc; b: ServeProc; traceFile: string }> {
  const node = (ip: string, other: string, extra: Record<string, unknown>) => ({
    listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
    dmq: { server_address: `sip:${ip}:5090`, notification_address: [`sip:${other}:5090`], ping_interval: 1 },
    ...extra,
  });
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-hep-'));
  dirs.push(dir);
  const traceFile = join(dir, 'a.trace');
  const siptrace = { duplicate_uri: duplicateUri, trace_on: true, trace_mode: 1, hep_mode_on: true, hep_version: 3, hep_capture_id: 4242, auth_key: 'kdmq-test' };
  const a = serveProc(node(ipA, ipB, { siptrace }), `${ipA}:${await freeTcpPort(ipA)}`, ['--trace', traceFile]);
  const b = serveProc(node(ipB, ipA, {}), `${ipB}:${await freeTcpPort(ipB)}`);
  procs.push(a, b);
  await waitFor(
    async () => {
      for (const p of [a, b]) if (p.exited()) throw new Error(`kdmq exited: ${p.err()}${p.out()}`);
      const la = (await rpcCall(a.rpcUrl, 'dmq.list_nodes')) as Array<{ host: string; status: string }>;
      const lb = (await rpcCall(b.rpcUrl, 'dmq.list_nodes')) as Array<{ host: string; status: string }>;
      return la.some((n) => n.host === ipB && n.status === 'active') && lb.some((n) => n.host === ipA && n.status === 'active');
    },
    { what: 'both kdmq nodes list each other active', timeoutMs: 20_000, intervalMs: 200 },
  );
  return { a, b, traceFile };
}

async function stop(p: ServeProc): Promise<void> {
  p.kill('SIGTERM');
  await p.wait(5000);
}

describe('HEP mirroring of a kdmq node', () => {
  it('every datagram in and out reaches a HEP listener with its exact bytes, ends, capture id and auth key', { timeout: 60_000 }, async () => {
    const [ipA, ipB, ipL] = allocLoopbackIps(3);
    const hep = await HepListener.open(ipL);
    const { a, b, traceFile } = await twoNodes(ipA, ipB, `sip:${ipL}:${hep.port}`);
    const reg = await rawRegister(ipL, `${ipA}:5060`, 'alice');
    expect(text(reg.reply)).toMatch(/^SIP\/2\.0 200 /);
    await waitFor(async () => JSON.stringify(await rpcCall(b.rpcUrl, 'ul.dump')).includes('alice@'), { what: 'node B holds alice', timeoutMs: 10_000 });
    const keys = () => hep.keys();
    const req = dgramKey(reg.ua, `${ipA}:5060`, reg.request);
    const rpl = dgramKey(`${ipA}:5060`, reg.ua, reg.reply);
    await waitFor(() => keys().includes(req) && keys().includes(rpl) && keys().some((k) => k.startsWith(`${ipA}:5090 ${ipB}:5090 KDMQ sip:usrloc@`) && k.includes('alice')), { what: 'HEP copies of the REGISTER, its 200 and the usrloc KDMQ', timeoutMs: 10_000 });
    expect(keys().some((k) => k.startsWith(`${ipB}:5090 ${ipA}:5090 KDMQ sip:notification_peer@`))).toBe(true);
    expect(hep.packets.every((p) => p.captureId === 4242 && p.authKey === 'kdmq-test' && p.protoType === 1 && p.ipProto === 17 && p.family === 2)).toBe(true);
    expect(hep.refused).toBe(0);
    const stats = (await rpcCall(a.rpcUrl, 'stats.get_statistics', ['siptrace:'])) as string[];
    expect(stats).toContain('siptrace:hep_dropped = 0');
    expect(stats.find((s) => s.startsWith('siptrace:hep_sent = '))).not.toBe('siptrace:hep_sent = 0');
    expect(await rpcCall(a.rpcUrl, 'siptrace.status', ['check'])).toBe('Enabled');
    // after a clean stop (leave notice included): the HEP copies are exactly the node trace's datagrams
    await stop(a);
    const recorded = nodeTraceKeys(readFileSync(traceFile, 'utf8'));
    await waitFor(() => hep.packets.length >= recorded.length, { what: `${recorded.length} HEP copies`, timeoutMs: 5000 });
    expect(sorted(keys())).toEqual(sorted(recorded));
    await hep.close();
  });
});

describe.skipIf(!sngrep)('sngrep receives kdmq HEP', () => {
  it('sngrep -N -q -L udp:… -O FILE: the capture holds every REGISTER and KDMQ the node sent and received', { timeout: 60_000 }, async () => {
    const [ipA, ipB, ipL] = allocLoopbackIps(3);
    const port = await freeUdpPort(ipL);
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-sngrep-'));
    dirs.push(dir);
    const pcap = join(dir, 'sngrep.pcap');
    const sg = spawnProc('sngrep', ['-N', '-q', '-L', `udp:${ipL}:${port}`, '-O', pcap]);
    procs.push(sg);
    await waitFor(() => existsSync(pcap) || (sg.exited() ? Promise.reject(new Error(`sngrep exited: ${sg.err()}`)) : false), { what: 'sngrep opened its capture file', timeoutMs: 5000 });
    const { a, traceFile } = await twoNodes(ipA, ipB, `sip:${ipL}:${port}`);
    const reg = await rawRegister(ipL, `${ipA}:5060`, 'bob');
    expect(text(reg.reply)).toMatch(/^SIP\/2\.0 200 /);
    await stop(a);
    // a last HEP packet from the test: when sngrep has written it, it has written all of kdmq's
    const sentinel = `OPTIONS sip:end@kdmq.test SIP/2.0\r\nVia: SIP/2.0/UDP ${ipL}:9;branch=z9hG4bKend\r\nFrom: <sip:t@kdmq.test>;tag=1\r\nTo: <sip:end@kdmq.test>\r\nCall-ID: sentinel-${port}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    const now = Date.now();
    const pkt = encodeHep({ family: 2, ipProto: 17, src: ipL, dst: ipL, sport: 9, dport: 9, sec: Math.floor(now / 1000), usec: (now % 1000) * 1000, protoType: 1, captureId: 1, payload: new TextEncoder().encode(sentinel) }) as Uint8Array;
    const s = createSocket('udp4');
    const captured = await waitFor(
      () => {
        s.send(pkt, port, ipL);
        const r = existsSync(pcap) ? importCapture(readFileSync(pcap)) : null;
        return r?.ok && r.trace.records.some((x) => x.r === 'dgram' && text(unb64(x.data)).includes(`sentinel-${port}`)) ? r.trace : undefined;
      },
      { what: 'sngrep wrote the sentinel', timeoutMs: 10_000, intervalMs: 300 },
    );
    s.close();
    sg.kill('SIGTERM');
    await sg.wait(5000).catch(() => sg.kill('SIGKILL'));
    const inCapture = new Set(captured.records.flatMap((x) => (x.r === 'dgram' ? [dgramKey(x.from, x.to, unb64(x.data))] : [])));
    const payloadOf = (key: string) => key.split(' ').slice(2).join(' ');
    const wanted = nodeTraceKeys(readFileSync(traceFile, 'utf8')).filter((key) => /^(REGISTER|KDMQ) sip:/.test(payloadOf(key)));
    expect(wanted.some((k) => k.includes(' KDMQ sip:usrloc@'))).toBe(true);
    expect(wanted.filter((k) => k.includes(reg.callId)).length).toBeGreaterThan(0);
    expect(wanted.filter((k) => !inCapture.has(k))).toEqual([]);
  });
});

describe.skipIf(!kam.ok)('Kamailio 5.6.3 siptrace → kdmq trace listen', () => {
  let k: KamailioNode | undefined;
  afterAll(async () => k?.cleanup());

  it('the trace holds the REGISTER and the KDMQ replicating it (also imported from a capture of the HEP), and replays', { timeout: 90_000 }, async () => {
    const [ipK, ipD, ipL] = allocLoopbackIps(3);
    const port = await freeUdpPort(ipL);
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-hep-kam-'));
    dirs.push(dir);
    const out = join(dir, 'kam.trace');
    const cap = join(dir, 'hep.pcap');
    const dc = dumpcap ? spawnProc('dumpcap', ['-q', '-i', 'lo', '-f', `udp and dst host ${ipL} and dst port ${port}`, '-w', cap]) : null;
    if (dc) {
      procs.push(dc);
      await waitFor(() => existsSync(cap) || (dc.exited() ? Promise.reject(new Error(`dumpcap exited: ${dc.err()}`)) : false), { what: 'dumpcap capturing', timeoutMs: 10_000 });
    }
    const listen = spawnProc(process.execPath, [KDMQ, 'trace', 'listen', `udp:${ipL}:${port}`, '-o', out]);
    procs.push(listen);
    await waitFor(() => listen.out().includes('HEP on') || (listen.exited() ? Promise.reject(new Error(listen.err())) : false), { what: 'kdmq trace listen ready', timeoutMs: 10_000 });
    const d = serveProc({ listen: [`udp:${ipD}:5060`, `udp:${ipD}:5090`], dmq: { server_address: `sip:${ipD}:5090`, notification_address: [`sip:${ipK}:5090`], ping_interval: 1 }, dmq_usrloc: { enable: true } }, `${ipD}:${await freeTcpPort(ipD)}`);
    procs.push(d);
    k = await startKamailio({ ip: ipK, notificationAddresses: [`sip:${ipD}:5090`], children: 2, pingInterval: 5, siptrace: { duplicateUri: `sip:${ipL}:${port}`, captureId: 7 } });
    await waitFor(async () => (await k!.listNodes()).some((n) => n.host === ipD && n.status === 'active'), { what: 'Kamailio lists kdmq active', timeoutMs: 30_000, intervalMs: 300 });
    const reg = await rawRegister(ipL, `${ipK}:5060`, 'carol');
    expect(text(reg.reply)).toMatch(/^SIP\/2\.0 200 /);
    await waitFor(async () => JSON.stringify(await rpcCall(d.rpcUrl, 'ul.dump')).includes('carol@'), { what: 'kdmq holds carol (replicated by Kamailio)', timeoutMs: 15_000 });
    const check = (t: Trace, what: string) => {
      const msgs = t.records.flatMap((x) => (x.r === 'dgram' ? [{ from: x.from, to: x.to, s: text(unb64(x.data)) }] : []));
      expect(msgs.some((m) => m.from === reg.ua && m.to === `${ipK}:5060` && m.s === text(reg.request)), `${what}: the REGISTER as sent`).toBe(true);
      expect(msgs.some((m) => m.from === `${ipK}:5060` && m.to === reg.ua && m.s.startsWith('SIP/2.0 200 ') && m.s.includes(reg.callId)), `${what}: its 200`).toBe(true);
      expect(msgs.some((m) => m.from === `${ipK}:5090` && m.to === `${ipD}:5090` && m.s.startsWith('KDMQ sip:usrloc@') && m.s.includes('carol')), `${what}: the usrloc KDMQ`).toBe(true);
      expect(msgs.some((m) => m.to === `${ipK}:5090` && m.s.startsWith('KDMQ sip:notification_peer@')), `${what}: kdmq's KDMQ in`).toBe(true);
      expect(t.header.nodes?.map((n) => n.id)).toEqual(expect.arrayContaining([`sip:${ipK}:5090`, `sip:${ipD}:5090`]));
    };
    // the listener's spool has the usrloc KDMQ: stop it cleanly
    await waitFor(
      () => existsSync(`${out}.part`) && readFileSync(`${out}.part`, 'utf8').split('\n').filter(Boolean).some((l) => {
        const s = text(unb64((JSON.parse(l) as { data: string }).data));
        return s.startsWith('KDMQ sip:usrloc@') && s.includes('carol');
      }),
      { what: 'kdmq trace listen has the usrloc KDMQ', timeoutMs: 10_000 },
    );
    listen.kill('SIGTERM');
    await listen.wait(10_000);
    expect(listen.exited()?.code).toBe(0);
    expect(listen.out()).toMatch(/SIGTERM: \d+ SIP datagrams, nodes: .*0 datagrams refused/);
    const t = decodeTrace(readFileSync(out, 'utf8'));
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    check(t.value, 'trace listen');
    const rep = spawnSync(process.execPath, [KDMQ, 'replay', out, '--as', `sip:${ipK}:5090`], { encoding: 'utf8', timeout: 60_000 });
    expect(rep.status, rep.stderr).toBe(0);
    if (dc) {
      dc.kill('SIGTERM');
      await dc.wait(10_000);
      const imp = spawnSync(process.execPath, [KDMQ, 'trace', 'import', cap, '-o', join(dir, 'imported.trace')], { encoding: 'utf8' });
      expect(imp.status, imp.stderr).toBe(0);
      const it2 = decodeTrace(readFileSync(join(dir, 'imported.trace'), 'utf8'));
      expect(it2.ok && it2.value.header.source).toBe('pcap:pcapng+hep');
      if (it2.ok) check(it2.value, 'trace import of the HEP capture');
    }
  });
});

describe('kdmq trace listen under hostile datagrams', () => {
  it('10^5 datagrams that are not HEPv3 with SIP: all refused and counted, the listener alive, every good packet kept in order', { timeout: 90_000 }, async () => {
    const [ip] = allocLoopbackIps(1);
    const port = await freeUdpPort(ip);
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-hep-fuzz-'));
    dirs.push(dir);
    const out = join(dir, 'fuzz.trace');
    const listen = spawnProc(process.execPath, [KDMQ, 'trace', 'listen', `udp:${ip}:${port}`, '-o', out]);
    procs.push(listen);
    await waitFor(() => listen.out().includes('HEP on') || (listen.exited() ? Promise.reject(new Error(listen.err())) : false), { what: 'kdmq trace listen ready', timeoutMs: 10_000 });
    let seed = 18;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const good = (i: number) => {
      const sip = `OPTIONS sip:n${i}@kdmq.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK${i}\r\nCall-ID: fuzz-${i}\r\nCSeq: 1 OPTIONS\r\n\r\n`;
      return encodeHep({ family: 2, ipProto: 17, src: '127.0.0.1', dst: '127.0.0.2', sport: 9, dport: 5060, sec: 1_800_000_000 + i, usec: 0, protoType: 1, captureId: 1, payload: new TextEncoder().encode(sip) }) as Uint8Array;
    };
    /** always refused: truncated, a lying length field, a chunk shorter than its header, or not HEP */
    const hostile = (i: number): Uint8Array => {
      const v = good(i).slice();
      switch (i % 4) {
        case 0: return v.subarray(0, rnd(v.length));
        case 1: { const b = new Uint8Array(6 + rnd(150)).map(() => rnd(256)); b.set([0x48, 0x45, 0x50, 0x33]); new DataView(b.buffer).setUint16(4, b.length + 1 + rnd(100)); return b; }
        case 2: { new DataView(v.buffer).setUint16(10, rnd(6)); return v; }
        default: return new Uint8Array(1 + rnd(200)).map(() => rnd(256)).map((x, k) => (k === 0 && x === 0x48 ? 0 : x));
      }
    };
    const s = createSocket('udp4');
    const N = 100_000;
    const batch = 100; // under the receive buffer (about 200 kB, ~1 kB counted per datagram): nothing is lost
    const spoolLines = () => (existsSync(`${out}.part`) ? readFileSync(`${out}.part`, 'utf8').split('\n').filter(Boolean).length : 0);
    for (let b = 0; b < N / batch; b++) {
      for (let i = 0; i < batch; i++) s.send(hostile(b * batch + i), port, ip);
      s.send(good(b), port, ip);
      await waitFor(() => spoolLines() === b + 1 || (listen.exited() ? Promise.reject(new Error(`listener died: ${listen.err()}`)) : false), { what: `good packet ${b} recorded`, timeoutMs: 10_000, intervalMs: 5 });
    }
    s.close();
    expect(listen.exited()).toBeNull();
    listen.kill('SIGTERM');
    await listen.wait(10_000);
    expect(listen.exited()?.code).toBe(0);
    expect(listen.out()).toContain(`SIGTERM: ${N / batch} SIP datagrams, nodes: (none); 0 duplicate copies merged, ${N} datagrams refused`);
    const t = decodeTrace(readFileSync(out, 'utf8'));
    expect(t.ok && t.value.records.flatMap((r) => (r.r === 'dgram' ? [/Call-ID: (fuzz-\d+)/.exec(text(unb64(r.data)))![1]] : []))).toEqual(Array.from({ length: N / batch }, (_, i) => `fuzz-${i}`));
  });
});
