// `kdmq serve` refuses to start on a bad configuration: missing file, bad YAML, unknown key,
// wrong type, bad listen address, auth.db_url unsupported or unusable, a UDP port or RPC port
// already in use. Each exits with status 2 and exactly one line on stderr naming the key or the
// problem, and never gets to "kdmq ready".
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'vitest';
import { freeTcpPort } from '../support/loopback.ts';
import { freshIp, runKdmq } from './kdmq-proc.ts';

const base = (ip: string) => `listen: [udp:${ip}:5060]\nrpc:\n  listen: ""\n`;

async function expectRefusal(
  expect: typeof import('vitest').expect,
  args: string[],
  config: string | undefined,
  line: RegExp,
): Promise<void> {
  const r = await runKdmq(['serve', '--log-level', 'debug', ...args], config);
  expect(r.code, `stderr: ${r.stderr}`).toBe(2);
  expect(r.signal).toBeNull();
  expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd()).toMatch(line);
  expect(r.stdout).not.toContain('kdmq ready');
}

// generous time-out: each case starts a process (tsx), and the machine may be busy
describe.concurrent('kdmq serve: configuration errors exit 2 with one line', { timeout: 120_000 }, () => {
  it('missing config file', async ({ expect }) => {
    await expectRefusal(expect, ['--config', '/nonexistent/kdmq-e2e/node.yaml'], undefined,
      /^kdmq serve: cannot read config file \/nonexistent\/kdmq-e2e\/node\.yaml: ENOENT$/);
  });

  it('bad YAML', async ({ expect }) => {
    await expectRefusal(expect, [], 'listen: [udp:127.0.0.1:5060\ndmq: {\n', /^kdmq serve: config file is not valid YAML or JSON: .+line \d+/);
  });

  it('unknown key dmq.foo', async ({ expect }) => {
    await expectRefusal(expect, [], `${base(freshIp())}dmq:\n  foo: 1\n`, /^kdmq serve: config key dmq\.foo: unknown key$/);
  });

  it('wrong type dmq.ping_interval: "x" (and the same through --set)', async ({ expect }) => {
    const ip = freshIp();
    await expectRefusal(expect, [], `${base(ip)}dmq:\n  ping_interval: "x"\n`,
      /^kdmq serve: config key dmq\.ping_interval: expected an integer, got "x"$/);
    await expectRefusal(expect, ['--set', 'dmq.ping_interval=0'], base(ip),
      /^kdmq serve: config key dmq\.ping_interval: expected an integer >= 1, got 0$/);
  });

  it('auth: mysql:// not supported, a SQLite file that is not there', async ({ expect }) => {
    const ip = freshIp();
    await expectRefusal(expect, ['--set', 'auth.enable=true', '--set', 'auth.db_url=mysql://kamailio:pw@127.0.0.1:3306/kamailio'], base(ip),
      /^kdmq serve: config key auth\.db_url: mysql:\/\/ is not supported \(sqlite:\/\/\/\/absolute\/path\.db or postgres:\/\/user:pass@host:port\/db\)$/);
    await expectRefusal(expect, ['--set', 'auth.enable=true', '--set', 'auth.db_url=sqlite:////nonexistent/kdmq-e2e/kamailio.db'], base(ip),
      /^kdmq serve: config key auth\.db_url: \/nonexistent\/kdmq-e2e\/kamailio\.db: (unable to open database file|Cannot open database because the directory does not exist)$/);
  });

  it('bad listen address', async ({ expect }) => {
    await expectRefusal(expect, [], 'listen: [udp:127.0.0.300:5060]\nrpc:\n  listen: ""\n',
      /^kdmq serve: config key listen: "udp:127\.0\.0\.300:5060" is not udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT$/);
  });

  it('UDP port already in use', async ({ expect }) => {
    const ip = freshIp();
    const s: Socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: ip, port: 5060, exclusive: true }, () => resolve());
    });
    try {
      await expectRefusal(expect, [], base(ip), new RegExp(`^kdmq serve: bind ${ip.replace(/\./g, '\\.')}:5060 failed: EADDRINUSE`));
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('RPC port already in use', async ({ expect }) => {
    const ip = freshIp();
    const port = await freeTcpPort(ip);
    const srv: Server = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, ip, () => resolve()));
    try {
      await expectRefusal(expect, ['--set', `rpc.listen=${ip}:${port}`], base(ip), /^kdmq serve: rpc\.listen .*EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
