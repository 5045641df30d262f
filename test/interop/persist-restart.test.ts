// Whole-cluster restart with usrloc.db_mode 1 (write-through): two `kdmq serve` nodes, 10 000
// bindings registered by sipp (5 000 on each), then SIGKILL of both and a restart: every binding
// answered 200 is back on both nodes (loaded from each node's SQLite file, merged by the startup
// sync). Skipped when sipp is not installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps } from '../support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { sippAvailable, startSipp } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';

const sipp = await sippAvailable();
if (!sipp.ok) console.warn(`[persist restart] skipped: ${sipp.reason}`);

async function count(k: KdmqProc): Promise<number> {
  const lines = (await k.rpc('stats.get_statistics', ['usrloc:location_contacts'])) as string[];
  return Number(/=\s*(\d+)/.exec(lines.find((l) => l.startsWith('usrloc:location_contacts')) ?? '')?.[1] ?? -1);
}

describe.skipIf(!sipp.ok)('db_mode 1: SIGKILL of the whole cluster loses no answered binding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-persist-'));
  const procs: KdmqProc[] = [];
  afterAll(async () => {
    for (const p of procs) await p.cleanup().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('10 000 bindings registered by sipp are back after kill -9 of both nodes', { timeout: 240_000 }, async () => {
    const [ipA, ipB, ipS1, ipS2] = allocLoopbackIps(4);
    const extra = (n: string) => ({
      usrloc: { db_mode: 1, db_path: join(dir, `${n}.sqlite`) },
      registrar: { default_expires: 3600, max_expires: 3600 },
      limits: { register_rate: 0 },
      antientropy: { interval: 5 },
    });
    const [a, b] = await Promise.all([
      startKdmq({ ip: ipA, notificationAddresses: [`sip:${ipB}:5090`], extra: extra('a') }),
      startKdmq({ ip: ipB, notificationAddresses: [`sip:${ipA}:5090`], extra: extra('b') }),
    ]);
    procs.push(a, b);
    const [r1, r2] = await Promise.all([
      startSipp({ target: `${ipA}:${a.sipPort}`, localIp: ipS1, users: 5000, userPrefix: 'pa', rate: 1000, expires: 3600 }),
      startSipp({ target: `${ipB}:${b.sipPort}`, localIp: ipS2, users: 5000, userPrefix: 'pb', rate: 1000, expires: 3600 }),
    ]);
    const answered = r1.successful + r2.successful;
    console.info(`[persist restart] sipp: ${answered} of 10000 answered 200 (${r1.failed + r2.failed} failed)`);
    expect(answered).toBeGreaterThan(9900);
    await Promise.all([a.kill(), b.kill()]); // SIGKILL right after the last 200
    await Promise.all([a.restart(), b.restart()]);
    const t0 = Date.now();
    let last: number[] = [];
    await waitFor(async () => {
      last = [await count(a), await count(b)];
      return last.every((c) => c >= answered) || undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: `both nodes hold ${answered} bindings after restart` }).catch((e) => {
      throw new Error(`${(e as Error).message}: last ${last.join(', ')}`);
    });
    console.info(`[persist restart] both nodes hold ${last.join(' / ')} bindings ${Date.now() - t0} ms after restart`);
  });
});
