// Exhaustive mode's state identity (issue #14 item 5.1, src/sim/state-digest.ts): identical states
// digest equal, and states that differ only in something the old hash (statuses, bindings, htable
// items, in-flight datagrams) did not cover — a tombstone, a pending retransmission, a clock timer,
// a node machine's context, a replication queue — digest differently.

import { describe, expect, it } from 'vitest';
import { SCENARIOS, apply, build, stateDigest, type Ctx } from '../../src/sim/explore.ts';
import { digestState } from '../../src/sim/state-digest.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { transportHandleOf } from '../../src/transport/transport-actor.ts';
import type { PlantedBug } from '../../src/ports/faults.ts';

/** what the explorer's hash held before: node statuses, bindings, htable items, in-flight datagrams */
function oldParts(c: Ctx): string {
  const parts: string[] = [`t${c.w.clock.now()}`, `k${c.ticks}`, `s${c.net.sent}`];
  for (const m of c.w.live()) parts.push(m.ip, ...m.node.list.views().map((v) => `${v.key}=${v.status}`).sort());
  for (const b of c.w.bindings()) parts.push(b.key, ...b.records.map((r) => JSON.stringify(r)).sort());
  for (const h of c.w.htableItems()) parts.push(h.key, ...h.items.sort());
  parts.push('|', ...c.net.inFlight.map((d) => d.key).sort());
  return parts.join('\n');
}

/** scenario `replicate` after node 0 got the UA's register, refresh and unregister (so it holds a tombstone) */
async function registeredAndRemoved(plant: PlantedBug[] = []): Promise<Ctx> {
  const c = await build(SCENARIOS.replicate, plant);
  for (const ch of ['d0', 'd0', 'd0']) await apply(c, ch);
  return c;
}

const node0 = (c: Ctx) => c.w.node(0)!;
const peerKey = (c: Ctx) => node0(c).list.views().find((v) => !v.local)!.key;

describe('exhaustive mode: state digest', () => {
  it('the same choices from the same scenario give the same digest (and the same text)', async () => {
    const [a, b] = [await registeredAndRemoved(), await registeredAndRemoved()];
    const [da, db] = [stateDigest(a, true), stateDigest(b, true)];
    expect(db.text).toBe(da.text);
    expect(db.hash).toBe(da.hash);
    expect(stateDigest(a).hash).toBe(da.hash); // text mode hashes the same tokens
    await apply(a, 'd0');
    expect(stateDigest(a).hash).not.toBe(da.hash);
  }, 60_000);

  it('a tombstone: node 0 with and without it (forget-tombstones planted) differ, the old parts do not', async () => {
    const a = await registeredAndRemoved();
    const b = await registeredAndRemoved(['forget-tombstones']);
    expect(oldParts(b)).toBe(oldParts(a));
    expect(stateDigest(a, true).text).toMatch(/\.tombs map1/);
    expect(stateDigest(b, true).text).toMatch(/\.tombs map0/);
    expect(stateDigest(b).hash).not.toBe(stateDigest(a).hash);
  }, 60_000);

  it('a pending retransmission: a cancelled client transaction (no more timer E/F) differs', async () => {
    const [a, b] = [await registeredAndRemoved(), await registeredAndRemoved()];
    const handle = transportHandleOf(node0(b).root.getSnapshot().context.transport)!;
    const [id] = handle.pendingClientTx();
    expect(id).toBeDefined();
    const pending = b.w.clock.pending();
    handle.handle({ type: 'transport.cancel', id });
    expect(b.w.clock.pending()).toBeLessThan(pending);
    expect(oldParts(b)).toBe(oldParts(a));
    expect(stateDigest(b).hash).not.toBe(stateDigest(a).hash);
  }, 60_000);

  it("a clock timer, and which object holds it, is part of the state", async () => {
    const [a, b] = [await registeredAndRemoved(), await registeredAndRemoved()];
    b.w.clock.setTimeout(() => {}, 5);
    expect(stateDigest(b).hash).not.toBe(stateDigest(a).hash);

    const clock = new VirtualClock(0);
    const t1 = clock.setTimeout(() => {}, 10);
    const t2 = clock.setTimeout(() => {}, 20);
    const x = digestState([['a', { timer: t1 }], ['b', { timer: t2 }]], { clock });
    const y = digestState([['a', { timer: t2 }], ['b', { timer: t1 }]], { clock });
    expect(y.hash).not.toBe(x.hash);
    expect(digestState([['a', { timer: t1 }], ['b', { timer: t2 }]], { clock }).hash).toBe(x.hash);
  }, 60_000);

  it("a node machine's context: a held-back sign of life (aliveAt) changes what a late time-out does", async () => {
    const [a, b] = [await registeredAndRemoved(), await registeredAndRemoved()];
    const at = b.w.clock.now() + 50;
    node0(b).list.sendKey(peerKey(b), { type: 'node.heard', at });
    expect(oldParts(b)).toBe(oldParts(a));
    expect(stateDigest(b).hash).not.toBe(stateDigest(a).hash);
    // and they behave differently: a time-out of a request sent before `at` is stale only in b
    const late = { type: 'node.timedOut', at: at + 10, sentAt: at - 10, sentWhile: 'active' } as const;
    expect(node0(b).list.sendKey(peerKey(b), late)).toBe('active');
    expect(node0(a).list.sendKey(peerKey(a), late)).not.toBe('active');
  }, 60_000);

  it('htable contents: a write at node 0 differs', async () => {
    const [a, b] = [await registeredAndRemoved(), await registeredAndRemoved()];
    b.w.htSet(0, 'k1', 'v1');
    expect(stateDigest(b).hash).not.toBe(stateDigest(a).hash);
  }, 60_000);
});
