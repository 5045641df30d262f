// `kdmq serve` as a process: clean stop on SIGTERM/SIGINT (leave notice, exit 0 within 2 s),
// one-line exit 2 for a port in use / a bad address / a bad config, the one "ignored" warning of
// --kamailio-cfg, `kdmq ctl --help` (system.listMethods, kamcmd style or --json) and exit 1 with
// the JSON-RPC error.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { waitFor } from '../support/wait.ts';
import { KDMQ, rpcCall, serveProc, spawnProc, type ServeProc } from './helpers.ts';

const procs: ServeProc[] = [];
afterAll(async () => {
  for (const p of procs) await p.cleanup();
});

async function ready(p: ServeProc): Promise<void> {
  await waitFor(
    async () => {
      if (p.exited()) throw new Error(`exited early: ${p.err()}${p.out()}`);
      return (await rpcCall(p.rpcUrl, 'core.version')) !== undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50, what: 'kdmq answering JSON-RPC' },
  );
}

describe('kdmq serve process', () => {
  it('stops cleanly on SIGTERM and SIGINT: leave notice sent, exit 0 within 2 s', { timeout: 60_000 }, async () => {
    const [ip, peerIp] = allocLoopbackIps(2);
    // a fake peer that answers KDMQ 200 and records what it gets
    const peer: Socket = createSocket('udp4');
    const got: string[] = [];
    peer.on('message', (m, r) => {
      const t = m.toString();
      got.push(t);
      if (!t.startsWith('KDMQ')) return;
      const hdr = (n: string) => t.split('\r\n').filter((l) => l.toLowerCase().startsWith(n.toLowerCase() + ':')).join('\r\n');
      const resp = ['SIP/2.0 200 OK', hdr('Via'), hdr('From'), `${hdr('To')};tag=x`, hdr('Call-ID'), hdr('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
      peer.send(resp, r.port, r.address);
    });
    await new Promise<void>((r) => peer.bind(5090, peerIp, () => r()));
    try {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        const port = await freeTcpPort(ip);
        const p = serveProc({ listen: [`udp:${ip}:5090`], dmq: { server_address: `sip:${ip}:5090`, notification_address: [`sip:${peerIp}:5090`], ping_interval: 1 } }, `${ip}:${port}`);
        procs.push(p);
        await ready(p);
        await waitFor(async () => ((await rpcCall(p.rpcUrl, 'dmq.list_nodes')) as any[]).some((n) => n.host === peerIp && n.status === 'active'), { timeoutMs: 10_000, what: 'peer active' });
        got.length = 0;
        const t0 = Date.now();
        p.kill(sig);
        const ex = await p.wait(2500);
        expect(Date.now() - t0).toBeLessThan(2000);
        expect(ex).toEqual({ code: 0, signal: null });
        expect(got.some((m) => m.startsWith('KDMQ') && /status=disabled|;status=disabled/.test(m))).toBe(true);
        expect(p.out()).toMatch(/"msg":"stopped"/);
        expect(p.err()).toBe('');
      }
    } finally {
      peer.close();
    }
  });

  it('a port in use, a bad address or a bad config: exit 2 with one line on stderr', { timeout: 60_000 }, async () => {
    const [ip] = allocLoopbackIps(1);
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(5090, ip, () => r()));
    try {
      const cases: Array<[string[], RegExp]> = [
        [['--set', `listen=["udp:${ip}:5090"]`, '--set', 'rpc.listen=""'], /^kdmq serve: bind .*:5090 failed: EADDRINUSE/],
        [['--set', 'listen=["udp:192.0.2.1:5090"]', '--set', 'rpc.listen=""'], /^kdmq serve: bind 192\.0\.2\.1:5090 failed: EADDRNOTAVAIL/],
        [['--set', 'dmq.ping_interval=0'], /^kdmq serve: config key dmq\.ping_interval: expected an integer >= 1, got 0$/],
        [['--set', 'dmq.nope=1'], /^kdmq serve: config key dmq\.nope: unknown key$/],
        [['--kamailio-cfg', '/nonexistent/kamailio.cfg'], /^kdmq serve: kamailio cfg: cannot read \/nonexistent\/kamailio\.cfg: ENOENT$/],
        [['--log-level', 'loud'], /^kdmq serve: --log-level must be debug, info, warn or error$/],
      ];
      for (const [args, re] of cases) {
        const p = spawnProc(process.execPath, [KDMQ, 'serve', ...args], { env: { KDMQ_CONFIG: '' } });
        const ex = await p.wait(10_000);
        expect({ args, code: ex.code }).toEqual({ args, code: 2 });
        const lines = p.err().trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(re);
      }
    } finally {
      busy.close();
    }
  });

  it('--kamailio-cfg: starts from a kamailio.cfg and warns once about what it ignores', { timeout: 60_000 }, async () => {
    const [ip] = allocLoopbackIps(1);
    const port = await freeTcpPort(ip);
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-kcfg-'));
    writeFileSync(join(dir, 'node.cfg'), `#!define NODE_IP ${ip}\n#!define DMQ_SERVER "sip:${ip}:5090"\ninclude_file "tmpl.cfg"\n`);
    writeFileSync(join(dir, 'tmpl.cfg'), 'children=4\nlisten=udp:NODE_IP:5060\nlisten=udp:NODE_IP:5090\nloadmodule "dmq.so"\nloadmodule "xlog.so"\nmodparam("dmq", "server_address", DMQ_SERVER)\nmodparam("dmq", "ping_interval", 10)\nrequest_route { exit; }\n');
    const p = spawnProc(process.execPath, [KDMQ, 'serve', '--kamailio-cfg', join(dir, 'node.cfg'), '--set', `rpc.listen=${ip}:${port}`]);
    try {
      await waitFor(async () => (await rpcCall(`http://${ip}:${port}/RPC`, 'core.version')) !== undefined, { timeoutMs: 15_000, what: 'node up' });
      const list = (await rpcCall(`http://${ip}:${port}/RPC`, 'dmq.list_nodes')) as any[];
      expect(list).toEqual([expect.objectContaining({ host: ip, port: '5090', local: 1 })]);
      const warns = p.out().split('\n').filter((l) => l.includes('kamailio cfg: ignoring'));
      expect(warns).toHaveLength(1);
      expect(JSON.parse(warns[0]).ignored).toEqual(expect.arrayContaining(['core children', 'loadmodule xlog', 'request_route']));
    } finally {
      p.kill('SIGTERM');
      await p.wait(5000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kdmq ctl', () => {
  it('--help lists the methods as kamcmd does (or --json); errors exit 1 with the JSON-RPC error', { timeout: 60_000 }, async () => {
    const [ip] = allocLoopbackIps(1);
    const port = await freeTcpPort(ip);
    const p = serveProc({ listen: [`udp:${ip}:5090`] }, `${ip}:${port}`);
    procs.push(p);
    await ready(p);
    const ctl = async (...args: string[]) => {
      const c = spawnProc(process.execPath, [KDMQ, 'ctl', '--url', `${ip}:${port}`, ...args]);
      const ex = await c.wait(20_000);
      return { code: ex.code, out: c.out(), err: c.err() };
    };
    // the calls are independent: run them together (each is a Node process start)
    const down = spawnProc(process.execPath, [KDMQ, 'ctl', '--url', `${ip}:1`, 'core.version']);
    const [help, json, mh, bad, badJson, downEx] = await Promise.all([
      ctl('--help'), ctl('--help', '--json'), ctl('dmq.list_nodes', '--help'), ctl('no.such_method'), ctl('htable.get', 'nosuch', 'k', '--json'), down.wait(20_000),
    ]);
    expect(help.code).toBe(0);
    const methods = help.out.trimEnd().split('\n');
    for (const m of ['dmq.list_nodes', 'dmq.remove', 'ul.dump', 'htable.dump', 'stats.get_statistics', 'system.listMethods', 'core.uptime']) expect(methods).toContain(m);
    expect([...methods].sort()).toEqual(methods);
    expect(JSON.parse(json.out)).toEqual(methods);
    expect(mh.out.trim()).toBe('List the DMQ nodes');
    expect(bad).toEqual({ code: 1, out: '', err: 'error: 500 - Method Not Found\n' });
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.out)).toEqual({ code: 500, message: 'No such htable' });
    expect(downEx.code).toBe(1);
    expect(down.err()).toMatch(/^kdmq ctl: cannot reach http:\/\/.*:1\/RPC/);
  });
});
