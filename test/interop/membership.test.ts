// Acceptance of DMQ membership against real Kamailio 5.6.3 (specs/membership.md): kdmq and two
// Kamailio nodes form one cluster in every start order; a crashed Kamailio is disabled and then
// removed by kdmq and rejoins when restarted; a stopped kdmq announces its leave and rejoins;
// every Kamailio keeps answering throughout; three kdmq nodes alone form and detect a killed
// node; kdmq nodes discover each other by a DNS name and find a node added to the zone later.
// Every process runs on fresh loopback IPs and is started and stopped by PID. Skipped, with the
// reason printed, when Kamailio 5.6 is not installed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { liveKdmqPids, REPO_ROOT, startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { descendants, pidAlive, run } from '../support/proc.ts';
import { waitFor } from '../support/wait.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[membership interop] Kamailio tests skipped: ${avail.reason}`);

const DMQ_PORT = 5090;
/** Kamailio: its minimum ping interval, and tm's fr_timer lowered so a dead peer times out in 5 s */
const KAM = { pingInterval: 5, frTimerMs: 5000, children: 2 } as const;
/** kdmq: ping every second, KDMQ time-out 2 s (disabled ≤ 3 s, removed ≤ 6 s after a crash) */
const KDMQ_EXTRA = { sip: { t1: 100, t2: 1000, kdmq_timeout: 2000 } };

const t0 = Date.now();
const lap = (what: string) => console.info(`[membership] +${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);

/** Every process this file starts, and their children, for the final "nothing left" check. */
const kams: KamailioNode[] = [];
const kdmqs: KdmqProc[] = [];
const pids = new Set<number>();
function trackKam(n: KamailioNode): KamailioNode {
  if (!kams.includes(n)) kams.push(n);
  pids.add(n.pid);
  for (const c of descendants(n.pid)) pids.add(c);
  return n;
}
function trackKdmq(n: KdmqProc): KdmqProc {
  if (!kdmqs.includes(n)) kdmqs.push(n);
  pids.add(n.pid);
  return n;
}

/** one dmq.list_nodes entry, normalised (kdmq: port string, local 0/1; kamcmd parse: number, boolean) */
interface Listed {
  host: string;
  port: string;
  status: string;
  local: boolean;
}
type Member = { kind: 'kdmq'; p: KdmqProc } | { kind: 'kam'; k: KamailioNode };
const ipOf = (m: Member) => (m.kind === 'kdmq' ? m.p.ip : m.k.ip);
const listOf = async (m: Member): Promise<Listed[]> =>
  (m.kind === 'kdmq' ? await m.p.listNodes() : await m.k.listNodes()).map((n) => ({
    host: n.host, port: String(n.port), status: n.status, local: n.local === true || n.local === 1,
  }));
const show = (l: Listed[]) => l.map((n) => `${n.host}:${n.port}=${n.status}${n.local ? '(local)' : ''}`).join(' ');

/**
 * The node lists exactly `ips` (port 5090), all active, and one local entry: its own. With
 * `partial`, entries for nodes not started yet are allowed (seeds stay pending in Kamailio).
 */
function formedView(self: string, ips: string[], list: Listed[], partial = false): boolean {
  const want = ips.map((ip) => `${ip}:${DMQ_PORT}`).sort();
  const mine = partial ? list.filter((n) => ips.includes(n.host)) : list;
  const keys = mine.map((n) => `${n.host}:${n.port}`).sort();
  const locals = list.filter((n) => n.local);
  return (
    JSON.stringify(keys) === JSON.stringify(want) &&
    mine.every((n) => n.status === 'active') &&
    locals.length === 1 &&
    locals[0].host === self
  );
}

async function waitFormed(members: Member[], timeoutMs: number, what: string, partial = false): Promise<void> {
  const ips = members.map(ipOf);
  await waitFor(
    async () => {
      const views = await Promise.all(members.map(listOf));
      return members.every((m, i) => formedView(ipOf(m), ips, views[i], partial));
    },
    { timeoutMs, intervalMs: 100, what },
  ).catch(async (e) => {
    const views = await Promise.all(members.map((m) => listOf(m).then(show, (x) => String(x))));
    throw new Error(`${(e as Error).message}\nviews:\n${members.map((m, i) => `  ${ipOf(m)} → ${views[i]}`).join('\n')}`);
  });
}

/** status of `ip` in a list, or 'absent' */
const statusIn = (list: Array<{ host: string; status: string; local: unknown }>, ip: string) => list.find((n) => n.host === ip && !n.local)?.status ?? 'absent';

/**
 * (d) Polls `kamcmd dmq.list_nodes` on every running Kamailio node in the background. A 5.6.3
 * node whose DMQ is frozen (node-list lock held after a bad list) makes kamcmd time out.
 */
function startKamailioWatch(nodes: KamailioNode[]): { failures: string[]; probes: number; stop(): Promise<void> } {
  const state = { failures: [] as string[], probes: 0, stopped: false };
  const loop = (async () => {
    while (!state.stopped) {
      await Promise.all(
        nodes.map(async (k) => {
          if (!k.alive()) return;
          const r = await k.kamcmd('dmq.list_nodes');
          state.probes++;
          if (r.timedOut) state.failures.push(`${k.ip}: kamcmd dmq.list_nodes timed out at +${Date.now() - t0} ms`);
          else if (r.code !== 0 && k.alive()) state.failures.push(`${k.ip}: kamcmd code ${r.code} ${r.stderr.trim()}`);
        }),
      );
      await new Promise((res) => setTimeout(res, 250));
    }
  })();
  return {
    get failures() {
      return state.failures;
    },
    get probes() {
      return state.probes;
    },
    async stop() {
      state.stopped = true;
      await loop;
    },
  };
}

/** Kamailio log lines showing a node list it could not parse (would freeze 5.6.3). */
function listParseErrors(k: KamailioNode): string[] {
  return k
    .logTail(100_000)
    .split('\n')
    .filter((l) => /ERROR/.test(l) && /notification_peer|dmqnode|dmq_funcs/.test(l))
    .filter((l) => !/not deleting notification peer|deleting server node/.test(l));
}

async function startKam(ip: string, peers: string[]): Promise<KamailioNode> {
  return trackKam(await startKamailio({ ip, notificationAddresses: peers.map((p) => `sip:${p}:${DMQ_PORT}`), ...KAM }));
}
async function startK(ip: string, peers: string[], extra: Record<string, unknown> = {}): Promise<KdmqProc> {
  return trackKdmq(
    await startKdmq({ ip, notificationAddresses: peers.map((p) => `sip:${p}:${DMQ_PORT}`), pingInterval: 1, extra: { ...KDMQ_EXTRA, ...extra } }),
  );
}

afterAll(async () => {
  await Promise.all([
    ...kams.map((n) => n.cleanup().catch((e) => console.warn(`cleanup kamailio ${n.ip}: ${e}`))),
    ...kdmqs.map((n) => n.cleanup().catch((e) => console.warn(`cleanup kdmq ${n.ip}: ${e}`))),
  ]);
  const left = [...pids].filter(pidAlive);
  expect(left, 'processes still alive after cleanup').toEqual([]);
  expect(liveKdmqPids(), 'kdmq processes still alive').toEqual([]);
  lap('cleanup done');
});

describe.skipIf(!avail.ok)(`kdmq + Kamailio 5.6.3 mixed cluster (${avail.reason})`, () => {
  type Role = 'kdmq' | 'kam1' | 'kam2';
  const ORDERS: Role[][] = [
    ['kdmq', 'kam1', 'kam2'],
    ['kdmq', 'kam2', 'kam1'],
    ['kam1', 'kdmq', 'kam2'],
    ['kam2', 'kdmq', 'kam1'],
    ['kam1', 'kam2', 'kdmq'],
    ['kam2', 'kam1', 'kdmq'],
  ];

  it('(a) one kdmq and two Kamailio nodes form one cluster in all 6 start orders', { timeout: 60_000 }, async () => {
    const watchNodes: KamailioNode[] = [];
    const watch = startKamailioWatch(watchNodes);
    // the 6 clusters are independent (own IPs) and run side by side; in each, a node starts
    // only after the nodes started before it list each other active
    const clusters = await Promise.all(
      ORDERS.map(async (order) => {
        const [ipK, ip1, ip2] = allocLoopbackIps(3);
        const ip: Record<Role, string> = { kdmq: ipK, kam1: ip1, kam2: ip2 };
        const others = (r: Role) => (Object.keys(ip) as Role[]).filter((x) => x !== r).map((x) => ip[x]);
        const started: Member[] = [];
        for (const role of order) {
          const m: Member = role === 'kdmq' ? { kind: 'kdmq', p: await startK(ip[role], others(role)) } : { kind: 'kam', k: await startKam(ip[role], others(role)) };
          if (m.kind === 'kam') watchNodes.push(m.k);
          started.push(m);
          if (started.length > 1) {
            await waitFormed(started, 20_000, `${order.join('→')}: first ${started.length} nodes formed`, started.length < order.length);
          }
        }
        return { order, members: started };
      }),
    );
    lap('6 clusters formed');
    // and all of them still formed at the same moment (no flapping after the last start)
    for (const c of clusters) await waitFormed(c.members, 10_000, `${c.order.join('→')}: cluster formed`);
    await watch.stop();
    expect(watch.failures).toEqual([]);
    expect(watch.probes).toBeGreaterThan(0);
    for (const c of clusters) for (const m of c.members) if (m.kind === 'kam') expect(listParseErrors(m.k), m.k.logFile).toEqual([]);
    await Promise.all(clusters.flatMap((c) => c.members.map((m) => (m.kind === 'kdmq' ? m.p.stop() : m.k.stop()))));
    lap('6 clusters stopped');
  });

  describe('one mixed cluster through crash, restart, leave and rejoin', () => {
    let kd: KdmqProc;
    let k1: KamailioNode;
    let k2: KamailioNode;
    let watch: ReturnType<typeof startKamailioWatch>;
    const all = (): Member[] => [{ kind: 'kdmq', p: kd }, { kind: 'kam', k: k1 }, { kind: 'kam', k: k2 }];

    beforeAll(async () => {
      const [ipK, ip1, ip2] = allocLoopbackIps(3);
      kd = await startK(ipK, [ip1, ip2]);
      k1 = await startKam(ip1, [ipK, ip2]);
      k2 = await startKam(ip2, [ipK, ip1]);
      watch = startKamailioWatch([k1, k2]);
      await waitFormed(all(), 20_000, 'mixed cluster formed');
      lap('mixed cluster formed');
    });

    afterAll(async () => {
      await watch?.stop();
    });

    it('kdmq ctl dmq.list_nodes --json on the kdmq node lists the Kamailio nodes', { timeout: 20_000 }, async () => {
      const r = await run(process.execPath, [join(REPO_ROOT, 'bin', 'kdmq.mjs'), 'ctl', '--url', kd.rpcUrl, 'dmq.list_nodes', '--json'], 15_000);
      expect(r, r.stderr).toMatchObject({ code: 0, timedOut: false });
      const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      const byHost = new Map(list.map((n) => [n.host, n]));
      expect(list).toHaveLength(3);
      for (const k of [k1, k2]) {
        expect(byHost.get(k.ip)).toEqual({
          host: k.ip, port: String(DMQ_PORT), proto: '*', resolved_ip: k.ip, status: 'active', last_notification: 0, local: 0, kamailio_version: k.version,
        });
      }
      expect(byHost.get(kd.ip)).toMatchObject({ status: 'active', local: 1, port: String(DMQ_PORT) });
    });

    it('(b) a crashed Kamailio is disabled, then removed by kdmq; restarted, it is active everywhere', { timeout: 60_000 }, async () => {
      // record kdmq's view of k2 from the kill on: it must never go back to active before the restart
      const seen: string[] = [];
      const record = async () => {
        const s = statusIn(await kd.listNodes(), k2.ip);
        if (seen[seen.length - 1] !== s) seen.push(s);
        return s;
      };
      await k2.kill();
      const killedAt = Date.now();
      lap('k2 crash-killed');
      await waitFor(async () => (await record()) === 'disabled', { timeoutMs: 10_000, intervalMs: 50, what: `kdmq marks crashed ${k2.ip} disabled` });
      lap(`kdmq: k2 disabled after ${Date.now() - killedAt} ms`);
      await waitFor(async () => (await record()) === 'absent', { timeoutMs: 15_000, intervalMs: 50, what: `kdmq removes crashed ${k2.ip}` });
      lap(`kdmq: k2 removed after ${Date.now() - killedAt} ms`);
      // k1 (a 5.6.3 seed) keeps listing k2 active until its own ping to k2 times out
      // (fr_timer 5 s after a ping): kdmq must not take that gossip as a sign of life
      await waitFor(
        async () => {
          await record();
          const s1 = statusIn(await k1.listNodes(), k2.ip);
          return s1 !== 'active' ? s1 : false;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `k1 stops listing crashed ${k2.ip} active` },
      );
      await waitFor(async () => (await record()) === 'absent', { timeoutMs: 15_000, intervalMs: 50, what: `kdmq has ${k2.ip} removed` });
      lap(`k1 no longer lists k2 active; kdmq's view of k2 since the kill: ${seen.join(' → ')}`);
      expect(seen.slice(seen.indexOf('disabled')), 'kdmq revived the crashed node from gossip').not.toContain('active');

      await k2.restart();
      trackKam(k2);
      lap('k2 restarted');
      await waitFormed(all(), 20_000, 'restarted k2 active on kdmq and k1, and k2 lists both');
      lap('cluster formed again with k2');
      expect(watch.failures).toEqual([]);
    });

    it('(c) a stopped kdmq announces its leave (disabled on both Kamailio nodes) and rejoins when started', { timeout: 60_000 }, async () => {
      await kd.stop();
      expect(kd.lastExit(), 'kdmq exit after SIGTERM').toBe('exited (code 0, signal null)');
      const stoppedAt = Date.now();
      lap('kdmq stopped (SIGTERM)');
      const views = await waitFor(
        async () => {
          const v = await Promise.all([k1, k2].map(async (k) => statusIn(await k.listNodes(), kd.ip)));
          return v.every((s) => s !== 'active') ? v : false;
        },
        { timeoutMs: 5000, intervalMs: 50, what: `k1 and k2 no longer list kdmq ${kd.ip} active` },
      );
      lap(`Kamailio views of kdmq ${Date.now() - stoppedAt} ms after the stop: ${views.join(', ')}`);
      // the leave notice (own line status=disabled) is what did it, long before any ping time-out
      expect(views).toEqual(['disabled', 'disabled']);
      expect(Date.now() - stoppedAt).toBeLessThan(KAM.frTimerMs);

      await kd.restart();
      trackKdmq(kd);
      lap('kdmq restarted');
      await waitFormed(all(), 20_000, 'restarted kdmq active on k1 and k2, and it lists both');
      lap('cluster formed again with kdmq');
    });

    it('(d) every Kamailio node kept answering dmq.list_nodes throughout, and parsed every list', () => {
      expect(watch.failures).toEqual([]);
      expect(watch.probes).toBeGreaterThan(20);
      for (const k of [k1, k2]) expect(listParseErrors(k), k.logFile).toEqual([]);
    });
  });
});

describe('kdmq-only clusters', () => {
  it('(e) three kdmq nodes form a cluster and detect a killed node', { timeout: 40_000 }, async () => {
    const ips = allocLoopbackIps(3);
    const nodes = await Promise.all(ips.map((ip) => startK(ip, ips.filter((x) => x !== ip))));
    const members: Member[] = nodes.map((p) => ({ kind: 'kdmq', p }));
    await waitFormed(members, 15_000, '3 kdmq nodes formed');
    lap('3 kdmq nodes formed');
    const [a, b, c] = nodes;
    await c.kill();
    const killedAt = Date.now();
    for (const s of [a, b]) {
      await waitFor(async () => ['disabled', 'absent'].includes(statusIn(await s.listNodes(), c.ip)), {
        timeoutMs: 10_000, intervalMs: 50, what: `${s.ip} marks killed ${c.ip} disabled`,
      });
    }
    lap(`killed kdmq node disabled on both survivors after ${Date.now() - killedAt} ms`);
    await waitFormed([members[0], members[1]], 15_000, 'survivors list only each other');
    lap(`killed kdmq node removed on both survivors after ${Date.now() - killedAt} ms`);
    await Promise.all([a.stop(), b.stop()]);
  });

  describe('(f) discovery by DNS name (multi_notify)', () => {
    let dns: DnsServer;
    beforeAll(async () => {
      dns = await startDnsServer({});
    });
    afterAll(async () => {
      await dns?.close();
    });

    it('three kdmq nodes resolve dmq.test and form one cluster; a 4th IP added to the zone is found without restart', { timeout: 40_000 }, async () => {
      const ips = allocLoopbackIps(4);
      dns.setZone('dmq.test', { A: ips.slice(0, 3), ttl: 1 });
      const dnsExtra = {
        dns: { servers: [`${dns.address}:${dns.port}`] },
        dmq: { notification_address: [`sip:dmq.test:${DMQ_PORT}`], multi_notify: true },
      };
      const nodes = await Promise.all(ips.slice(0, 3).map((ip) => startK(ip, [], dnsExtra)));
      const members: Member[] = nodes.map((p) => ({ kind: 'kdmq', p }));
      await waitFormed(members, 15_000, '3 kdmq nodes found by dmq.test formed');
      lap('3 kdmq nodes formed by DNS');
      expect(dns.queries.some((q) => q.name === 'dmq.test' && q.type === 'A')).toBe(true);

      dns.setZone('dmq.test', { A: ips, ttl: 1 });
      // the new node has no seed of its own: only the others' re-resolution at their pings can
      // bring it in
      const d = await startK(ips[3], []);
      await waitFormed([...members, { kind: 'kdmq', p: d }], 15_000, '4th node (added to dmq.test) discovered by the others');
      lap('4th node discovered by DNS re-resolution');
      await Promise.all([...nodes, d].map((n) => n.stop()));
    });
  });
});
