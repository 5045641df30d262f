// A node removed after time-outs must not come back `active` from a third node's list (the
// "ghost node" loop seen against a Kamailio 5.6.3 seed, test/interop/membership.test.ts (b)):
// gossip re-creates it only as a pending suspect; direct evidence makes it active again. A node
// removed by dmq.remove carries no failure and comes back from gossip as in Kamailio.
import { describe, expect, it } from 'vitest';
import { NodeList, type NodeId } from '../../../src/actors/membership/node-list.ts';
import type { Clock } from '../../../src/ports/clock.ts';

function fakeClock(): Clock & { t: number } {
  return { t: 1000, now() { return this.t; }, setTimeout: () => 0, clearTimeout: () => {} };
}
const local: NodeId = { host: '127.0.0.1', port: '5090', transport: null };
const b: NodeId = { host: '127.0.0.2', port: '5090', transport: null };

describe('NodeList: no ghost nodes', () => {
  it('a node removed after two time-outs is re-created pending by gossip, active only on direct evidence', () => {
    const clock = fakeClock();
    const list = new NodeList(local, clock, true);
    list.ensure(b, 'active');
    clock.t = 2000;
    expect(list.send(b, { type: 'node.timedOut', at: clock.t, sentAt: 1500, sentWhile: 'active' })).toBe('disabled');
    clock.t = 3000;
    expect(list.send(b, { type: 'node.timedOut', at: clock.t, sentAt: 2500, sentWhile: 'disabled' })).toBe('removed');
    expect(list.has(b)).toBe(false);

    clock.t = 3001;
    list.ensure(b, 'active'); // a line "status=active" in another node's list
    expect(list.status(b)).toBe('pending');
    expect(list.send(b, { type: 'node.listed', status: 'active', fromSelf: false, at: clock.t })).toBe('pending');
    expect(list.activePeers()).toEqual([]);

    clock.t = 4000;
    expect(list.send(b, { type: 'node.heard', at: clock.t })).toBe('active');
    // the failure memory was consumed: a later removal by dmq.remove leaves none
    list.send(b, { type: 'node.remove' });
    list.ensure(b, 'active');
    expect(list.status(b)).toBe('active');
  });

  it('a node removed by dmq.remove comes back active from gossip (Kamailio)', () => {
    const list = new NodeList(local, fakeClock(), true);
    list.ensure(b, 'active');
    list.send(b, { type: 'node.remove' });
    list.ensure(b, 'active');
    expect(list.status(b)).toBe('active');
  });
});
