// The status page (GET / on the RPC listener) in headless Chromium: a 3-node kdmq cluster (three
// processes on fresh loopback addresses); --dump-dom after the page's polling ran must list the
// three nodes as active; the screenshot is kept in test-artifacts/status-page.png.
// Needs Debian's `chromium` package; skipped with the reason otherwise.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { waitFor } from '../support/wait.ts';
import { ROOT, rpcCall, serveProc, spawnProc, type ServeProc } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
if (!have) console.warn(`status-page.test.ts skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

const procs: ServeProc[] = [];
const tmp: string[] = [];
afterAll(async () => {
  for (const p of procs) await p.cleanup();
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'kdmq-chromium-'));
  tmp.push(profile);
  const p = spawnProc(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--window-size=1200,800',
    '--virtual-time-budget=3000', ...args,
  ], { env: { HOME: profile } });
  let ex;
  try {
    ex = await p.wait(60_000);
  } catch (e) {
    p.kill('SIGKILL');
    throw e;
  }
  if (ex.code !== 0) throw new Error(`chromium exited ${ex.code}: ${p.err().slice(-2000)}`);
  return p.out();
}

describe.skipIf(!have)('status page in headless Chromium', () => {
  it('lists the three nodes as active and updates live', { timeout: 120_000 }, async () => {
    const ips = allocLoopbackIps(3);
    const ports = await Promise.all(ips.map((ip) => freeTcpPort(ip)));
    ips.forEach((ip, i) => {
      const others = ips.filter((o) => o !== ip).map((o) => `sip:${o}:5090`);
      procs.push(serveProc({ listen: [`udp:${ip}:5060`, `udp:${ip}:5090`], dmq: { server_address: `sip:${ip}:5090`, notification_address: others, ping_interval: 2 } }, `${ip}:${ports[i]}`));
    });
    await waitFor(
      async () => {
        for (const p of procs) {
          if (p.exited()) throw new Error(`node exited: ${p.err()}`);
          const list = (await rpcCall(p.rpcUrl, 'dmq.list_nodes')) as Array<{ status: string }>;
          if (list.length !== 3 || list.some((n) => n.status !== 'active')) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, what: 'three active nodes on every node' },
    );
    const url = `${procs[0].base}/`;
    const dom = await chromium(['--dump-dom', url]);
    const table = /<table id="nodes">[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
    const rows = [...table.matchAll(/<tr class="node" data-key="([^"]+)" data-status="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(rows.map(([k]) => k).sort()).toEqual(ips.map((ip) => `${ip}:5090`).sort());
    expect(rows.every(([, s]) => s === 'active')).toBe(true);
    // the page's script polled /status.json and redrew (at least twice in 3 s of virtual time)
    expect(Number(/<body data-polls="(\d+)"/.exec(dom)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
    const artifacts = join(ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const png = join(artifacts, 'status-page.png');
    rmSync(png, { force: true });
    await chromium([`--screenshot=${png}`, url]);
    expect(statSync(png).size).toBeGreaterThan(1000);
  });
});
