// The transport actor invoked by a parent machine, two nodes on a SimNetwork with a VirtualClock
// passed to createActor: requests become transport.received once (even when duplicated), answers
// come back as transport.response, a blocked link ends in transport.timedOut at 32 s.

import { assign, createActor, sendTo, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { SimNetwork } from '../../src/transport/sim-transport.ts';
import { createTransportHandle, transportActor } from '../../src/transport/transport-actor.ts';
import type { TransportActorInput, TransportOutEvent } from '../../src/transport/transport-actor.ts';
import type { OutgoingRequest } from '../../src/sip/types.ts';
import type { Endpoint } from '../../src/transport/transport.ts';
import { kdmq } from './fixtures.ts';

type SendEvent = { type: 'send'; id: string; request: OutgoingRequest; from: Endpoint; to: Endpoint };

const nodeMachine = setup({
  types: {
    context: {} as { log: string[]; io: TransportActorInput },
    input: {} as TransportActorInput,
    events: {} as TransportOutEvent | SendEvent,
  },
  actors: { transport: transportActor },
}).createMachine({
  // xstate v5: invoke input sees context, not the machine's input, so keep the ports in context
  context: ({ input }) => ({ log: [], io: input }),
  invoke: { id: 'transport', src: 'transport', input: ({ context }) => context.io },
  on: {
    send: {
      actions: sendTo('transport', ({ event }) => ({
        type: 'transport.request' as const, id: event.id, request: event.request, from: event.from, to: event.to,
      })),
    },
    'transport.received': {
      actions: [
        assign({ log: ({ context, event }) => [...context.log, `received ${event.request.get('call-id')} from ${event.source.host}`] }),
        sendTo('transport', ({ event }) => ({
          type: 'transport.respond' as const, txId: event.txId, status: 200, reason: 'OK', toTag: 'n',
        })),
      ],
    },
    'transport.response': {
      actions: assign({ log: ({ context, event }) => [...context.log, `response ${event.id} ${event.response.status}`] }),
    },
    'transport.timedOut': {
      actions: assign({ log: ({ context, event }) => [...context.log, `timedOut ${event.id}`] }),
    },
  },
});

const A = { host: '127.0.0.1', port: 5090 };
const B = { host: '127.0.0.2', port: 5090 };

async function twoNodes(duplicate: number) {
  const clock = new VirtualClock(0);
  const random = new SeededRandom('actor');
  const net = new SimNetwork({ clock, random: random.fork('net'), defaults: { delayMs: 5, jitterMs: 20, duplicate } });
  const ta = net.transport();
  const tb = net.transport();
  await ta.bind(A);
  await tb.bind(B);
  const a = createActor(nodeMachine, { clock, input: { transport: ta, clock, random: random.fork('a') } }).start();
  const b = createActor(nodeMachine, { clock, input: { transport: tb, clock, random: random.fork('b') } }).start();
  return { clock, net, a, b, ta, tb };
}

describe('transport actor', () => {
  it('delivers a request once despite duplication and routes the response back by id', async () => {
    const { clock, a, b, net } = await twoNodes(1);
    a.send({ type: 'send', id: 'r1', request: kdmq('call-r1'), from: A, to: B });
    clock.runUntil(40_000);
    expect(b.getSnapshot().context.log).toEqual(['received call-r1 from 127.0.0.1']);
    expect(a.getSnapshot().context.log).toEqual(['response r1 200']);
    expect(net.stats.duplicated).toBeGreaterThan(1);
    a.stop();
    b.stop();
  });

  it('reports transport.timedOut at 32 s when the peer is unreachable', async () => {
    const { clock, a, b, net } = await twoNodes(0);
    net.block(A.host, B.host);
    a.send({ type: 'send', id: 'r2', request: kdmq('call-r2'), from: A, to: B });
    clock.runUntil(31_999);
    expect(a.getSnapshot().context.log).toEqual([]);
    clock.runUntil(32_000);
    expect(a.getSnapshot().context.log).toEqual(['timedOut r2']);
    expect(b.getSnapshot().context.log).toEqual([]);
    a.stop();
    b.stop();
  });

  it('closes its transport when stopped', async () => {
    const { a, ta } = await twoNodes(0);
    expect(ta.endpoints()).toHaveLength(1);
    a.stop();
    await Promise.resolve();
    expect(ta.endpoints()).toEqual([]);
  });
});

describe('createTransportHandle (no xstate)', () => {
  it('emits the same events and tracks pending transactions', async () => {
    const clock = new VirtualClock(0);
    const net = new SimNetwork({ clock, random: new SeededRandom('h') });
    const ta = net.transport();
    const tb = net.transport();
    await ta.bind(A);
    await tb.bind(B);
    const outA: TransportOutEvent[] = [];
    const outB: TransportOutEvent[] = [];
    const ha = createTransportHandle({ transport: ta, clock, random: new SeededRandom('ha') }, (e) => outA.push(e));
    const hb = createTransportHandle({ transport: tb, clock, random: new SeededRandom('hb') }, (e) => outB.push(e));
    ha.handle({ type: 'transport.request', id: 'q', request: kdmq('c-q'), from: A, to: B });
    expect(() => ha.handle({ type: 'transport.request', id: 'q', request: kdmq('c-q2'), from: A, to: B })).toThrow(/in flight/);
    expect(ha.pendingClientTx()).toEqual(['q']);
    clock.advance(10);
    expect(outB.map((e) => e.type)).toEqual(['transport.received']);
    const rx = outB[0] as Extract<TransportOutEvent, { type: 'transport.received' }>;
    expect(rx.local).toEqual(B);
    expect(rx.source).toEqual(A);
    expect(hb.pendingServerTx()).toEqual([rx.txId]);
    hb.handle({ type: 'transport.respond', txId: rx.txId, status: 100, reason: 'Trying' });
    hb.handle({ type: 'transport.respond', txId: rx.txId, status: 202, reason: 'Accepted' });
    hb.handle({ type: 'transport.respond', txId: rx.txId, status: 500, reason: 'ignored' });
    clock.advance(10);
    expect(hb.pendingServerTx()).toEqual([]);
    expect(outA).toHaveLength(1);
    expect(outA[0]).toMatchObject({ type: 'transport.response', id: 'q' });
    expect((outA[0] as Extract<TransportOutEvent, { type: 'transport.response' }>).response.status).toBe(202);
    expect(ha.pendingClientTx()).toEqual([]);
    ha.handle({ type: 'transport.request', id: 'c', request: kdmq('c-c'), from: A, to: B });
    ha.handle({ type: 'transport.cancel', id: 'c' });
    clock.advance(60_000);
    expect(outA).toHaveLength(1);
    await ha.stop();
    await hb.stop();
    expect(ta.endpoints()).toEqual([]);
  });
});
