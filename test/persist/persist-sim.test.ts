// Persistence (usrloc.db_mode) on the simulator with the real SQLite adapter: db_mode 1 keeps
// every binding answered 200 across a crash of the whole cluster; db_mode 2 loses at most the
// changes of the last timer_interval; a node drops what expired while it was down; persistent
// htable tables come back too.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { App } from '../../src/actors/node/install-app.ts';
import { SqlitePersistence } from '../../src/persist/sqlite.ts';
import { writeRequest } from '../../src/sip/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-persist-'));

async function cluster(seed: string, dbMode: number, n = 2) {
  const apps: App[] = [];
  const cfg = (i: number, ip: string) => ({
    listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
    dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
    sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
    rpc: { listen: '' },
    registrar: { default_expires: 300 },
    usrloc: { db_mode: dbMode, db_path: join(dir, `${seed}-${i}.sqlite`), timer_interval: 5 },
    htable: { tables: { p: { dmqreplicate: true, persistent: true }, v: { dmqreplicate: true } } },
  });
  const c = new SimCluster({
    seed,
    config: cfg,
    ports: (i, p) => ({ ...p, persistence: new SqlitePersistence(cfg(i, simIp(i)).usrloc.db_path) }),
    install: (node, i) => (apps[i] = node.app),
  });
  for (let i = 0; i < n; i++) await c.start(i);
  await c.run(3000);
  const ua = c.net.transport();
  const ep = await ua.bind({ host: '127.0.1.200', port: 5070 });
  const ok = new Set<string>();
  ua.onDatagram((d) => {
    const t = new TextDecoder().decode(d.data);
    if (t.startsWith('SIP/2.0 200')) ok.add(/Call-ID: (\S+)/i.exec(t)![1]);
  });
  let seq = 0;
  const register = (node: number, user: string, expires = 300) => {
    seq++;
    ua.send(ep, { host: simIp(node), port: 5060 }, writeRequest({
      method: 'REGISTER', uri: `sip:${simIp(node)}`,
      headers: [
        ['Via', `SIP/2.0/UDP 127.0.1.200:5070;branch=z9hG4bK-p-${seq}`], ['From', `<sip:${user}@x>;tag=t${seq}`], ['To', `<sip:${user}@x>`],
        ['Call-ID', `call-${user}`], ['CSeq', `${seq} REGISTER`], ['Contact', `<sip:${user}@127.0.1.200:5070>;expires=${expires}`], ['Max-Forwards', '70'],
      ],
    }));
  };
  /** SIGKILL of every node: nothing pending is written, nothing is announced */
  const killAll = async () => {
    for (let i = 0; i < n; i++) {
      apps[i].persister?.abandon();
      apps[i].stop = () => {};
      await c.crash(i);
    }
  };
  const restartAll = async () => {
    for (let i = 0; i < n; i++) await c.start(i);
    await c.run(3000);
  };
  return { c, apps, register, ok, killAll, restartAll };
}

const users = (a: App) => Array.from(a.registrar.store.all(), (b) => b.aor).sort();

describe('persistence (usrloc.db_mode) on the simulator with SQLite', () => {
  it('db_mode 1: every binding answered 200 before a kill of the whole cluster is back after restart', async () => {
    const { c, apps, register, ok, killAll, restartAll } = await cluster('wt', 1);
    for (let i = 0; i < 500; i++) register(i % 2, `u${i}`);
    await c.run(50); // some answered, the rest still in flight
    const answered = [...ok].map((cid) => cid.replace('call-', ''));
    apps[0].htable.store.set('p', 'kept', { type: 2, strval: 'yes' });
    apps[0].htable.store.set('v', 'volatile', { type: 2, strval: 'no' });
    await c.run(10);
    expect(answered.length).toBeGreaterThan(0);
    await killAll();
    await c.run(1000);
    await restartAll();
    for (const a of apps) for (const u of answered) expect(users(a)).toContain(u);
    expect(apps[1].htable.store.get('p', 'kept')?.value).toEqual({ type: 2, strval: 'yes' });
    expect(apps[1].htable.store.get('v', 'volatile')).toBeUndefined();
  }, 60_000);

  it('db_mode 2: a kill loses at most the changes of the last timer interval', async () => {
    const { c, apps, register, killAll, restartAll } = await cluster('wb', 2);
    for (let i = 0; i < 200; i++) register(i % 2, `early${i}`);
    await c.run(6000); // > timer_interval (5 s): written
    for (let i = 0; i < 200; i++) register(i % 2, `late${i}`);
    await c.run(500); // < timer_interval: may be lost
    await killAll();
    await restartAll();
    for (const a of apps) {
      const u = users(a);
      expect(u.filter((x) => x.startsWith('early')).length).toBe(200);
      expect(u.filter((x) => x.startsWith('late')).length).toBeLessThanOrEqual(200);
    }
  }, 60_000);

  it('a node drops what expired while it was down, and syncs the rest from the cluster', async () => {
    const { c, apps, register, killAll, restartAll } = await cluster('exp', 1);
    register(0, 'short', 60);
    register(0, 'long', 3600);
    await c.run(500);
    await killAll();
    await c.run(120_000);
    await restartAll();
    expect(users(apps[0])).toEqual(['long']);
    expect(apps[0].persister!.stats.droppedExpired).toBe(1);
  }, 60_000);
});
