// Smoke test of the Kamailio harness (test/support/kamailio.ts, sipp.ts): two real Kamailio
// 5.6.3 DMQ nodes on fresh loopback IPs find each other, replicate sipp REGISTERs and an htable
// write, the survivor keeps answering after the other is crash-killed, and the restarted node
// resyncs. Skipped, with the reason printed, when Kamailio is not installed.
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { descendants, pidAlive } from '../support/proc.ts';
import { startSipp } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[kamailio-harness] skipped: ${avail.reason}`);

describe.skipIf(!avail.ok)(`Kamailio harness (${avail.reason})`, () => {
  const nodes: KamailioNode[] = [];
  const pids = new Set<number>();
  const track = (n: KamailioNode) => {
    nodes.push(n);
    pids.add(n.pid);
    for (const c of descendants(n.pid)) pids.add(c);
    return n;
  };

  afterAll(async () => {
    for (const n of nodes) await n.cleanup().catch((e) => console.warn(`cleanup ${n.ip}: ${e}`));
    const left = [...pids].filter(pidAlive);
    expect(left, 'processes still alive after cleanup').toEqual([]);
  });

  it('forms a 2-node DMQ cluster, replicates usrloc + htable, survives a peer crash', { timeout: 90_000 }, async () => {
    const [ipA, ipB, ipSipp] = allocLoopbackIps(3);
    const rpcPort = await freeTcpPort(ipA);
    const t0 = Date.now();
    const lap = (what: string) => console.info(`[kamailio-harness] +${Date.now() - t0} ms ${what}`);
    const started = await Promise.allSettled([
      startKamailio({ ip: ipA, notificationAddresses: [`sip:${ipB}:5090`], rpcHttpPort: rpcPort, children: 2 }),
      startKamailio({ ip: ipB, notificationAddresses: [`sip:${ipA}:5090`], children: 2 }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') track(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [a, b] = nodes;
    lap(`started A ${a.ip} pid ${a.pid}, B ${b.ip} pid ${b.pid}`);

    for (const [self, other] of [[a, b], [b, a]] as const) {
      await waitFor(
        async () => {
          const list = await self.listNodes();
          const peer = list.find((n) => n.host === other.ip && !n.local);
          const me = list.find((n) => n.local);
          return peer?.status === 'active' && me?.host === self.ip ? list : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: `${self.ip} lists ${other.ip} active` },
      );
    }
    lap('both nodes list each other active');

    const version = await a.httpRpc('core.version');
    expect(String(version)).toMatch(/kamailio 5\.6/);

    const reg = await startSipp({ target: `${a.ip}:${a.sipPort}`, localIp: ipSipp, users: 3, userPrefix: 'smoke', rate: 50 });
    expect(reg, reg.errors || reg.screen).toMatchObject({ code: 0, successful: 3, failed: 0 });
    lap(`sipp registered 3 users in ${reg.elapsedMs} ms`);

    const onB = await waitFor(
      async () => {
        const aors = await b.ulDump();
        return aors.length === 3 ? aors : undefined;
      },
      { timeoutMs: 10_000, what: 'node B has the 3 replicated AoRs' },
    );
    expect(onB.map((x) => x.aor).sort()).toEqual(['smoke1', 'smoke2', 'smoke3']);
    for (const aor of onB) {
      expect(aor.contacts).toHaveLength(1);
      expect(aor.contacts[0].address).toBe(`sip:${aor.aor}@${ipSipp}:${reg.localPort}`);
      expect(aor.contacts[0].socket).toBe('[not set]'); // replicated contacts carry no socket
    }
    expect(await b.contactCount()).toBe(3);
    expect(await a.contactCount()).toBe(3);
    lap('node B has the contacts');

    await a.rpc('htable.sets', 'lab', 'k', 'v');
    await a.rpc('htable.seti', 'lab', 'n', '42');
    await waitFor(
      async () => {
        const items = await b.htableDump('lab');
        const k = items.find((i) => i.name === 'k');
        const n = items.find((i) => i.name === 'n');
        return k?.value === 'v' && n?.value === 42 ? items : undefined;
      },
      { timeoutMs: 10_000, what: 'htable lab k=v, n=42 on node B' },
    );
    lap('htable replicated to B');

    const bPids = [b.pid, ...descendants(b.pid)];
    expect(bPids.length).toBeGreaterThan(1);
    await b.kill();
    expect(bPids.filter(pidAlive)).toEqual([]);
    lap(`B crash-killed (${bPids.length} processes)`);

    const r = await a.kamcmd('core.version');
    expect(r).toMatchObject({ code: 0, timedOut: false });
    expect(await a.contactCount()).toBe(3);
    lap('A still answers');

    // restart(): same config, new PID; the fresh B pulls contacts and htable from A (init sync)
    await b.restart();
    pids.add(b.pid);
    for (const c of descendants(b.pid)) pids.add(c);
    await waitFor(
      async () => {
        const [count, items] = await Promise.all([b.contactCount(), b.htableDump('lab')]);
        return count === 3 && items.some((i) => i.name === 'k' && i.value === 'v') ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'restarted B resynced 3 contacts and htable k=v from A' },
    );
    lap(`B restarted (pid ${b.pid}) and resynced`);
  });
});
