// NodeList holds back node.heard / node.replied for an active node and gives the actor the latest
// one just before the next other event (node-list.ts, reading node-machine.ts coalescingEvents). That is only right while the
// node machine treats those events, in `active`, as "stay active, aliveAt = max(aliveAt, at)".
// This property drives a raw node-machine actor with every event and a NodeList with the same
// events: the statuses after each event, the status changes reported, and the final context
// (aliveAt, failedAt) must agree. A machine change that gives those events another effect in
// `active` fails here.
import fc from 'fast-check';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { NodeList, type StatusChange } from '../../../src/actors/membership/node-list.ts';
import { nodeMachine, type NodeEvent } from '../../../src/actors/membership/node-machine.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import type { NodeStatus } from '../../../src/actors/membership/node-list-body.ts';

const statusArb = fc.constantFrom<NodeStatus>('active', 'pending', 'timeout', 'disabled');
/** an event builder given the current time */
const eventArb: fc.Arbitrary<(at: number) => NodeEvent> = fc.oneof(
  { weight: 5, arbitrary: fc.constant((at: number) => ({ type: 'node.heard', at }) as NodeEvent) },
  { weight: 5, arbitrary: fc.constant((at: number) => ({ type: 'node.replied', at }) as NodeEvent) },
  { weight: 3, arbitrary: fc.record({ status: statusArb, fromSelf: fc.boolean() }).map((x) => (at: number) => ({ type: 'node.listed', ...x, at }) as NodeEvent) },
  {
    weight: 3,
    arbitrary: fc.record({ back: fc.integer({ min: 0, max: 3000 }), sentWhile: statusArb }).map((x) => (at: number) => ({ type: 'node.timedOut', at, sentAt: at - x.back, sentWhile: x.sentWhile }) as NodeEvent),
  },
  { weight: 1, arbitrary: fc.constant(() => ({ type: 'node.remove' }) as NodeEvent) },
);

describe('signs of life (node.heard, node.replied): a NodeList ends where its node machine ends', () => {
  it('statuses, reported changes and the final context equal a node-machine actor given every event', () => {
    fc.assert(
      fc.property(statusArb, fc.boolean(), fc.boolean(), fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 1500 })), { maxLength: 40 }), (initial, seed, failRemove, steps) => {
        const clock = new VirtualClock(1_000_000);
        const list = new NodeList({ host: '127.0.0.1', port: '5090', transport: null }, clock, failRemove);
        const peer = { host: '127.0.0.2', port: '5090', transport: null };
        const changes: StatusChange[] = [];
        list.onChange((c) => changes.push(c));
        list.ensure(peer, initial, { seed });
        const key = '127.0.0.2:5090';
        const raw = createActor(nodeMachine, { input: { key, ...peer, seed, failRemove, initial, at: clock.now() } }).start();
        const rawChanges: Array<[string, string]> = [];
        let prev = raw.getSnapshot().value as string;
        for (const [make, wait] of steps) {
          clock.advance(wait);
          const ev = make(clock.now());
          if (raw.getSnapshot().status === 'done') break;
          raw.send(ev);
          const snap = raw.getSnapshot();
          const now = snap.status === 'done' ? 'removed' : (snap.value as string);
          if (now !== prev) rawChanges.push([prev, now]);
          prev = now;
          const got = list.sendKey(key, ev);
          expect(got).toBe(now);
          if (now === 'removed') break;
        }
        expect(changes.slice(1).map((c) => [c.from, c.to])).toEqual(rawChanges);
        if (raw.getSnapshot().status !== 'done') {
          const want = raw.getSnapshot().context;
          const have = list.contextOf(key)!;
          expect({ aliveAt: have.aliveAt, failedAt: have.failedAt }).toEqual({ aliveAt: want.aliveAt, failedAt: want.failedAt });
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
  });
});
