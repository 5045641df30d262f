// Registrar acceptance with real processes: `kdmq serve` (DMQ on, no peers) on a fresh loopback
// address, sipp registering 10 000 distinct users over UDP; `kdmq ctl ul.dump --json` and
// stats.get_statistics show them all; sipp unregisters them (Expires 0, same Call-ID, CSeq 2) and
// the table is empty; 200 users registered with Expires 2 are seen and then expire by themselves.
// No timing is asserted: every wait polls against a generous deadline. Skipped without sipp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps } from '../support/loopback.ts';
import { pidAlive, run } from '../support/proc.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { sippAvailable, startSipp, type SippResult } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';

const sipp = await sippAvailable();
if (!sipp.ok) console.warn(`[registrar-sipp] skipped: ${sipp.reason}`);

const N = 10_000;
const SHORT = 200;

interface DumpContact {
  Contact: { Address: string; 'Call-ID': string; CSeq: number; Expires: number | string };
}
interface DumpAor {
  Info: { AoR: string; Contacts: DumpContact[] };
}
interface Dump {
  Domains: Array<{ Domain: { Domain: string; AoRs: DumpAor[]; Stats: { Records: number } } }>;
}

describe.skipIf(!sipp.ok)(`registrar with sipp (${sipp.reason})`, () => {
  const [ip, sippIp] = allocLoopbackIps(2);
  let node: KdmqProc | undefined;
  const pids: number[] = [];

  /** `kdmq ctl --url … METHOD ARGS --json`, parsed */
  async function ctl(method: string, ...args: string[]): Promise<unknown> {
    const r = await run(process.execPath, ['bin/kdmq.mjs', 'ctl', '--url', node!.rpcUrl, method, ...args, '--json'], 60_000);
    if (r.code !== 0) throw new Error(`kdmq ctl ${method} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
    return JSON.parse(r.stdout);
  }
  /** AoR → its contacts, from ul.dump over `kdmq ctl` */
  async function dump(): Promise<Map<string, DumpContact['Contact'][]>> {
    const d = (await ctl('ul.dump')) as Dump;
    const dom = d.Domains[0].Domain;
    expect(dom.Domain).toBe('location');
    expect(dom.Stats.Records).toBe(dom.AoRs.length);
    return new Map(dom.AoRs.map((a) => [a.Info.AoR, a.Info.Contacts.map((c) => c.Contact)]));
  }
  /** one usrloc:/registrar: statistic through `kdmq ctl stats.get_statistics` */
  async function stat(name: string): Promise<number> {
    const lines = (await ctl('stats.get_statistics', name)) as string[];
    const line = lines.find((l) => l.startsWith(`${name} = `));
    if (line === undefined) throw new Error(`${name} missing from ${JSON.stringify(lines)}`);
    return Number(line.slice(name.length + 3));
  }
  const sippOk = (r: SippResult, n: number) =>
    expect({ code: r.code, created: r.created, successful: r.successful, failed: r.failed }, `${r.errors}\n${r.screen}`).toEqual({
      code: 0, created: n, successful: n, failed: 0,
    });

  beforeAll(async () => {
    node = await startKdmq({
      ip,
      notificationAddresses: [],
      pingInterval: 60,
      logLevel: 'warn',
      extra: {
        registrar: { min_expires: 1, default_expires: 3600 },
        // one sipp is one source IP sending 2000/s: lift the per-IP REGISTER token bucket (200/s)
        limits: { register_rate: 0 },
        dns: { servers: ['127.0.0.1:9'] }, // IP peers only: never ask the machine's resolver
      },
    });
    pids.push(node.pid);
  });

  afterAll(async () => {
    await node?.cleanup();
    expect(pids.filter(pidAlive), 'kdmq still running after cleanup').toEqual([]);
  });

  it(`registers ${N} users, shows them in ul.dump and the statistics, then unregisters them all`, { timeout: 180_000 }, async () => {
    // Call-ID "<call number>-reg@<sipp ip>": call k takes CSV line k, so the unregister (a second
    // sipp run over the same users) reuses each user's Call-ID with CSeq 2
    const cidStr = '%u-reg@%s';
    const reg = await startSipp({ target: `${ip}:${node!.sipPort}`, localIp: sippIp, users: N, userPrefix: 'u', rate: 2000, cidStr, expires: 3600 });
    sippOk(reg, N);

    const d = await dump();
    expect(d.size).toBe(N);
    for (let i = 1; i <= N; i++) {
      const cs = d.get(`u${i}`);
      expect(cs, `u${i}`).toBeDefined();
      expect(cs!).toHaveLength(1);
      expect(cs![0]).toMatchObject({ Address: `sip:u${i}@${sippIp}:${reg.localPort}`, 'Call-ID': `${i}-reg@${sippIp}`, CSeq: 1 });
    }
    expect(await stat('usrloc:location_contacts')).toBe(N);
    expect(await stat('usrloc:location_users')).toBe(N);
    expect(await stat('registrar:accepted_regs')).toBe(N);

    // same Call-IDs (the same call numbers meet the same CSV lines), CSeq 2, Expires 0, same local
    // port (the Contact URI must match the stored one)
    const unreg = await startSipp({
      target: `${ip}:${node!.sipPort}`, localIp: sippIp, localPort: reg.localPort, users: N, userPrefix: 'u', rate: 2000,
      cidStr, cseq: 2, expires: 0,
    });
    sippOk(unreg, N);
    expect((await dump()).size).toBe(0);
    expect(await stat('usrloc:location_contacts')).toBe(0);
    expect(await stat('registrar:accepted_regs')).toBe(2 * N);
    expect(await stat('registrar:rejected_regs')).toBe(0);
  });

  it(`lets ${SHORT} bindings with Expires 2 expire by themselves`, { timeout: 60_000 }, async () => {
    const expiredBefore = await stat('usrloc:location_expires');
    // watch the table over JSON-RPC while sipp registers: every short binding must be seen once
    const seen = new Set<string>();
    let watching = true;
    let dumps = 0;
    const watch = (async () => {
      while (watching) {
        const d = (await node!.rpc('ul.dump', ['brief'])) as { Domains: Array<{ Domain: { AoRs: Array<{ AoR: string }> } }> };
        for (const a of d.Domains[0].Domain.AoRs) seen.add(a.AoR);
        dumps++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    let r: SippResult;
    try {
      r = await startSipp({ target: `${ip}:${node!.sipPort}`, localIp: sippIp, users: SHORT, userPrefix: 'short', rate: 2000, expires: 2 });
      // let one whole dump start after sipp's last 200 OK (bindings live ≥ 1 s: absolute-second expiry)
      const k = dumps;
      await waitFor(() => dumps >= k + 2, { timeoutMs: 10_000, intervalMs: 5, what: 'one more ul.dump' });
    } finally {
      watching = false;
      await watch;
    }
    sippOk(r, SHORT);
    const missing = r.users.filter((u) => !seen.has(u));
    expect(missing, 'short bindings never seen in ul.dump').toEqual([]);

    // gone a few seconds after expiry (Expires 2 → at most 2 s; the wait allows 10 s more)
    await waitFor(
      async () => {
        const d = (await node!.rpc('ul.dump', ['brief'])) as { Domains: Array<{ Domain: { AoRs: unknown[] } }> };
        return d.Domains[0].Domain.AoRs.length === 0;
      },
      { timeoutMs: 12_000, intervalMs: 100, what: `the ${SHORT} Expires-2 bindings to expire` },
    );
    expect((await dump()).size).toBe(0);
    expect(await stat('usrloc:location_contacts')).toBe(0);
    expect((await stat('usrloc:location_expires')) - expiredBefore).toBe(SHORT);
  });
});
