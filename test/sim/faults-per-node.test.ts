// Planted faults reach a node through its own ports (src/ports/faults.ts), never a process
// global: in one simulated cluster, the node planted with faults behaves differently from its
// peers in the same process, and the peers behave as shipped (the fault does not leak).

import { describe, expect, it } from 'vitest';
import { World } from '../../src/sim/world.ts';
import { simIp } from '../../src/sim/cluster.ts';
import { noFaults } from '../../src/ports/faults.ts';
import { cyclicOrder, versionOrder } from '../../src/actors/location/binding-machine.ts';

const PLANTED = 1;

/** the bodies of the notification KDMQs each node sent, by node index */
function notificationBodies(w: World, nodes: number): string[][] {
  const out: string[][] = Array.from({ length: nodes }, () => []);
  w.cluster.net.onDeliver((d) => {
    const text = Buffer.from(d.data).toString('latin1');
    if (!text.startsWith('KDMQ sip:notification_peer@')) return;
    const i = [...Array(nodes).keys()].find((n) => simIp(n) === d.from.host);
    if (i !== undefined) out[i].push(text.slice(text.indexOf('\r\n\r\n') + 4));
  });
  return out;
}

describe('planted faults are per node', () => {
  it('one node planted, its peers in the same process not: wire bytes, conflict order and tombstones differ', async () => {
    const w = await World.create({
      nodes: 3, seed: 'faults-per-node',
      plant: (i) => (i === PLANTED ? ['node-list-no-crlf', 'cyclic-order', 'forget-tombstones'] : []),
    });
    const bodies = notificationBodies(w, 3);
    for (let i = 0; i < 3; i++) await w.join(i);
    await w.run(3000);

    expect(w.node(0)!.faults).toBe(noFaults);
    expect(w.node(2)!.faults).toBe(noFaults);
    expect(w.node(PLANTED)!.faults.has('node-list-no-crlf')).toBe(true);
    expect(w.node(PLANTED)!.faults.has('drop-on-full')).toBe(false);

    // 'node-list-no-crlf': only the planted node's list bodies lack the last CRLF
    for (const i of [0, 1, 2]) expect(bodies[i].length, `node ${i} sent no node list`).toBeGreaterThan(0);
    for (const i of [0, 2]) for (const b of bodies[i]) expect(b.endsWith('\r\n'), `node ${i}: ${JSON.stringify(b)}`).toBe(true);
    for (const b of bodies[PLANTED]) expect(b.length > 0 && !b.endsWith('\r\n'), JSON.stringify(b)).toBe(true);

    // 'cyclic-order': only the planted node's store applies the old order
    expect(w.apps[0]!.registrar.store.order).toBe(versionOrder);
    expect(w.apps[PLANTED]!.registrar.store.order).toBe(cyclicOrder);
    expect(w.apps[2]!.registrar.store.order).toBe(versionOrder);

    // 'forget-tombstones': a REGISTER then an unregister at node 0 and at the planted node, each
    // replicated to the others; every node but the planted one remembers both deletes
    w.register(0, 0, 60, true);
    w.register(PLANTED, 1, 60, true);
    await w.run(1000);
    w.register(0, 0, 0);
    w.register(PLANTED, 1, 0);
    await w.run(2000);
    const tombs = (i: number) => [...w.apps[i]!.registrar.store.removedTombstones()].map((t) => `${t.aor} ${t.c}`).sort();
    const both = ['u0 sip:ua0@127.0.1.250:5070', 'u1 sip:ua1@127.0.1.250:5070'];
    expect(tombs(0)).toEqual(both);
    expect(tombs(2)).toEqual(both);
    expect(tombs(PLANTED)).toEqual([]);
    for (const i of [0, 1, 2]) expect([...w.apps[i]!.registrar.store.all()]).toEqual([]);
  }, 60_000);
});
