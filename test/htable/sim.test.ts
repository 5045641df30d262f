// htable over a simulated 3-node cluster (SimCluster: real factory, sim network, virtual clock),
// replaying the lab's htable scenario (REPORT 4.4): sets/seti on one node, a set on another, a
// delete, then a restarted node gets the table back through dmq_init_sync (§6.4, §2.8).

import { describe, expect, it } from 'vitest';
import { SimCluster, simIp } from '../../src/sim/cluster.ts';
import type { HtableStore } from '../../src/htable/store.ts';
import { createRegistry, dispatch, type RpcRegistry } from '../../src/control/rpc.ts';
import { registerHtableMethods } from '../../src/control/htable-methods.ts';
import { dumpLines } from './helpers.ts';

const config = (i: number, ip: string, extra: Record<string, unknown> = {}) => ({
  listen: [`udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
  rpc: { listen: '' },
  htable: { tables: { lab: { size: 8, dmqreplicate: true }, ...extra } },
});

function cluster(seed: string, link?: ConstructorParameters<typeof SimCluster>[0]['link']) {
  const apps: Array<{ store: HtableStore; reg: RpcRegistry }> = [];
  const c = new SimCluster({
    seed,
    link,
    config: (i, ip) => config(i, ip, { local: { size: 4 } }),
    install: (node, i) => {
      const { store } = node.app.htable;
      const reg = createRegistry();
      registerHtableMethods(reg, store);
      apps[i] = { store, reg };
    },
  });
  const rpc = async (i: number, method: string, ...params: unknown[]) => {
    const r = JSON.parse(await dispatch(apps[i].reg, JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 })));
    expect(r.error, `${method} ${JSON.stringify(params)}`).toBeUndefined();
    return r.result;
  };
  const tables = () => apps.map((a) => dumpLines(a.store));
  return { c, apps, rpc, tables };
}

const htableSent = (c: SimCluster, i: number) => c.members[i].node!.kdmq.stats.sent.htable ?? 0;

describe('htable on a simulated cluster', () => {
  it('set/seti/delete on one node reach the others; a restarted node syncs the table back', async () => {
    const { c, apps, rpc, tables } = cluster('htable-3');
    for (let i = 0; i < 3; i++) await c.start(i);
    await c.run(3000);
    for (const m of c.live()) expect(m.node.list.activePeers().length, `node ${m.index} peers`).toBe(2);

    const base = [0, 1, 2].map((i) => htableSent(c, i)); // join-time sync requests and answers
    await rpc(0, 'htable.sets', 'lab', 'color', 'blue');
    await rpc(0, 'htable.sets', 'lab', 'city', 'Paris');
    await rpc(0, 'htable.seti', 'lab', 'counter', 42);
    await rpc(0, 'htable.sets', 'local', 'mine', 'only here'); // not dmqreplicate
    await c.run(500);
    expect(tables()).toEqual(Array(3).fill(['city=Paris', 'color=blue', 'counter=42']));
    expect(apps[1].store.get('local', 'mine')).toBeUndefined();
    expect([0, 1, 2].map((i) => htableSent(c, i) - base[i])).toEqual([6, 0, 0]); // 3 changes × 2 peers; nothing re-broadcast

    await rpc(0, 'htable.seti', 'lab', 'counter', 43);
    await rpc(1, 'htable.sets', 'lab', 'fromnode2', 'yes');
    await c.run(500);
    await rpc(0, 'htable.delete', 'lab', 'color');
    await c.run(500);
    const want = ['city=Paris', 'counter=43', 'fromnode2=yes'];
    expect(tables()).toEqual([want, want, want]);
    expect(apps[2].store.get('lab', 'counter')!.value).toEqual({ type: 0, intval: 43 });

    await c.crash(2);
    await c.run(500);
    await c.start(2);
    expect(dumpLines(apps[2].store)).toEqual([]);
    await c.run(4000);
    expect(tables()).toEqual([want, want, want]);
    expect(apps[2].store.get('lab', 'counter')!.value).toEqual({ type: 0, intval: 43 });
    expect(apps[2].store.get('local', 'mine')).toBeUndefined();
  });

  it('a large table (≈ 1.5 MB, ~26 datagrams) reaches a restarted node through the paced sync', async () => {
    const { c, apps, rpc } = cluster('htable-big');
    for (let i = 0; i < 2; i++) await c.start(i);
    await c.run(3000);
    const big = 'v'.repeat(3000);
    for (let k = 0; k < 1000; k++) apps[0].store.set('lab', `key${k}`, k % 2 ? { type: 2, strval: `${big}${k}` } : { type: 0, intval: k }, 'dmq');
    await c.start(2);
    await c.run(5000);
    expect(dumpLines(apps[2].store)).toEqual(dumpLines(apps[0].store));
    expect(dumpLines(apps[2].store).length).toBe(1000);
    expect(await rpc(2, 'htable.get', 'lab', 'key999')).toMatchObject({ item: { name: 'key999', value: `${big}999` } });
  });
});
