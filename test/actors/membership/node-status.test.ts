// NodeList keeps each entry's status beside its actor (src/actors/membership/node-list.ts): whatever events
// arrive, statusOfKey must answer what the actor's snapshot says (the views read the snapshot),
// also from inside a status-change observer.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeList, nodeKey, type NodeId } from '../../../src/actors/membership/node-list.ts';
import type { NodeEvent } from '../../../src/actors/membership/node-machine.ts';
import type { NodeStatus } from '../../../src/actors/membership/node-list-body.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';

const statuses: NodeStatus[] = ['active', 'pending', 'timeout', 'disabled'];
const node = (i: number): NodeId => ({ host: `127.0.2.${i}`, port: '5090', transport: null });

const event: fc.Arbitrary<(at: number) => NodeEvent> = fc.oneof(
  fc.record({ status: fc.constantFrom(...statuses), fromSelf: fc.boolean() }).map(({ status, fromSelf }) => (at: number) => ({ type: 'node.listed' as const, status, fromSelf, at })),
  fc.constant((at: number) => ({ type: 'node.replied' as const, at })),
  fc.constant((at: number) => ({ type: 'node.heard' as const, at })),
  fc.record({ back: fc.nat(50), sentWhile: fc.constantFrom(...statuses) }).map(({ back, sentWhile }) => (at: number) => ({ type: 'node.timedOut' as const, at, sentAt: at - back, sentWhile })),
  fc.constant(() => ({ type: 'node.remove' as const })),
);

const op = fc.oneof(
  fc.record({ kind: fc.constant('ensure' as const), i: fc.nat(4), initial: fc.constantFrom(...statuses), seed: fc.boolean() }),
  fc.record({ kind: fc.constant('send' as const), i: fc.nat(4), ev: event }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(100) }),
);

describe('a node\'s status is its machine\'s', () => {
  it('statusOfKey equals the actor snapshot, for any sequence of events', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (failRemove, ops) => {
        const clock = new VirtualClock(1000);
        const list = new NodeList({ host: '127.0.2.100', port: '5090', transport: null }, clock, failRemove);
        const seen: string[] = [];
        list.onChange((c) => {
          // inside the observer the new status is already visible
          if (c.to !== 'removed') expect(list.statusOfKey(c.key)).toBe(c.to);
          seen.push(c.key);
        });
        for (const o of ops) {
          if (o.kind === 'ensure') list.ensure(node(o.i), o.initial, { seed: o.seed });
          else if (o.kind === 'send') list.send(node(o.i), o.ev(clock.now()));
          else clock.advance(o.ms);
          for (const v of list.peers()) expect(list.statusOfKey(v.key)).toBe(v.status);
          for (let i = 0; i < 5; i++) if (!list.has(node(i))) expect(list.statusOfKey(nodeKey(node(i)))).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
