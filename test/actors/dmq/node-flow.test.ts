// Per-node flow control of outgoing KDMQ (src/actors/dmq/node-flow.ts): in-flight caps per lane,
// bounded FIFO queues, drop-oldest of droppable messages only (anti-entropy digests) with counts,
// drop bursts, messages not marked droppable never dropped, notifications never behind data,
// and a property: whatever the order of sends and answers, the caps hold and every `done` is
// called exactly once (answered or dropped).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PeerFlow, type DropBurst } from '../../../src/actors/dmq/node-flow.ts';
import type { KdmqOutcome, KdmqSend } from '../../../src/actors/dmq/dmq-sender.ts';

const peer = (n: number) => ({ host: `127.0.9.${n}`, port: '5090', transport: null });
const NOTE = 'notification_peer';

function rig(cfg = { inFlight: 4, queue: 10, notifyInFlight: 2, notifyQueue: 3 }) {
  const sent: KdmqSend[] = [];
  const bursts: DropBurst[] = [];
  const flow = new PeerFlow(cfg, NOTE, (m) => sent.push(m), (b) => bursts.push(b));
  const outcomes: Array<[string, KdmqOutcome]> = [];
  const send = (to: number, channel: string, body: string, droppable = true) =>
    flow.submit({ to: peer(to), channel, body, contentType: 'application/json', maxForwards: 1, droppable, done: (r) => outcomes.push([body, r]) });
  const answer = (m: KdmqSend) => m.done!({ code: 200, reason: 'OK', body: '' });
  return { flow, sent, bursts, outcomes, send, answer };
}

const flush = async () => {
  for (let i = 0; i < 4; i++) await Promise.resolve();
};

describe('flow control towards one node', () => {
  it('a node that never answers: in flight stays at the cap, the queue is bounded, the oldest are dropped and counted', async () => {
    const r = rig();
    for (let i = 0; i < 100; i++) r.send(1, i % 2 ? 'usrloc' : 'htable', `d${i}`);
    expect(r.sent.map((m) => m.body)).toEqual(['d0', 'd1', 'd2', 'd3']);
    expect(r.flow.queued()).toBe(10);
    expect(r.flow.dropped.get('127.0.9.1:5090')).toEqual({ usrloc: 43, htable: 43 });
    await flush();
    // the dropped ones are told so (asynchronously), oldest first: d4 … d89
    expect(r.outcomes).toHaveLength(86);
    expect(r.outcomes[0]).toEqual(['d4', expect.objectContaining({ code: 503, dropped: true })]);
    expect(r.outcomes.at(-1)![0]).toBe('d89');
    expect(r.bursts).toEqual([expect.objectContaining({ key: '127.0.9.1:5090', phase: 'start', dropped: 1 })]);
  });

  it('notifications never wait behind data: their own lane, own caps', () => {
    const r = rig();
    for (let i = 0; i < 50; i++) r.send(1, 'usrloc', `d${i}`);
    r.send(1, NOTE, 'ping1');
    r.send(1, NOTE, 'ping2');
    expect(r.sent.map((m) => m.body).slice(-2)).toEqual(['ping1', 'ping2']);
    for (let i = 3; i < 10; i++) r.send(1, NOTE, `ping${i}`);
    expect(r.flow.dropped.get('127.0.9.1:5090')).toEqual({ usrloc: 36, [NOTE]: 4 });
    // dropped notifications do not start a data drop burst of their own
    expect(r.bursts).toHaveLength(1);
  });

  it('an answer frees a slot for the next waiting message (FIFO); the burst ends when the queue is empty', () => {
    const r = rig();
    for (let i = 0; i < 20; i++) r.send(1, 'usrloc', `d${i}`);
    expect(r.bursts.map((b) => b.phase)).toEqual(['start']);
    while (r.sent.length > 0) r.answer(r.sent.shift()!);
    expect(r.outcomes.filter(([, o]) => o.code === 200).map(([b]) => b)).toEqual(['d0', 'd1', 'd2', 'd3', ...Array.from({ length: 10 }, (_, i) => `d${i + 10}`)]);
    expect(r.bursts.map((b) => [b.phase, b.dropped])).toEqual([['start', 1], ['end', 6]]);
    expect(r.flow.view()).toEqual([]);
  });

  it('data not marked droppable (sync answers, replicated changes) is never dropped: it waits past the bound', () => {
    const r = rig();
    for (let i = 0; i < 100; i++) r.send(1, 'usrloc', `d${i}`, false);
    expect(r.flow.queued()).toBe(96);
    expect(r.flow.dropped.size).toBe(0);
    while (r.sent.length > 0) r.answer(r.sent.shift()!);
    expect(r.outcomes.map(([b, o]) => [b, o.code])).toEqual(Array.from({ length: 100 }, (_, i) => [`d${i}`, 200]));
    expect(r.bursts).toEqual([]);
  });

  it('a free data slot alternates between the FIFO and the attached outbox; kick() pulls while there is room', () => {
    const r = rig({ inFlight: 2, queue: 10, notifyInFlight: 1, notifyQueue: 1 });
    const owed = ['o0', 'o1', 'o2', 'o3'];
    r.flow.attach({ pull: () => { const b = owed.shift(); return b === undefined ? undefined : { to: peer(1), channel: 'usrloc', body: b, contentType: 'application/json', maxForwards: 1 }; } });
    r.flow.kick(peer(1), '127.0.9.1:5090');
    expect(r.sent.map((m) => m.body)).toEqual(['o0', 'o1']);
    r.send(1, 'kdmq-ae', 'f0');
    r.send(1, 'kdmq-ae', 'f1');
    while (r.sent.length > 0) r.answer(r.sent.shift()!);
    expect(owed).toEqual([]);
    expect(r.flow.queued()).toBe(0);
  });

  it('nodes are independent; forget() drops what waits for a removed node', () => {
    const r = rig();
    for (let i = 0; i < 8; i++) r.send(1, 'usrloc', `a${i}`);
    r.send(2, 'usrloc', 'b0');
    expect(r.sent.map((m) => m.body)).toContain('b0');
    r.flow.forget('127.0.9.1:5090');
    expect(r.flow.queued()).toBe(0);
    expect(r.flow.dropped.get('127.0.9.1:5090')).toEqual({ usrloc: 4 });
  });

  it('property: caps hold and every done is called exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ op: fc.constant('send' as const), to: fc.integer({ min: 1, max: 3 }), note: fc.boolean() }), fc.record({ op: fc.constant('answer' as const), k: fc.nat() })), { maxLength: 300 }),
        async (ops) => {
          const r = rig({ inFlight: 3, queue: 5, notifyInFlight: 1, notifyQueue: 2 });
          let n = 0;
          for (const o of ops) {
            if (o.op === 'send') r.send(o.to, o.note ? NOTE : 'usrloc', `m${n++}`);
            else if (r.sent.length > 0) r.answer(r.sent.splice(o.k % r.sent.length, 1)[0]);
            for (const p of [1, 2, 3]) {
              const live = r.sent.filter((m) => m.to.host === peer(p).host);
              expect(live.filter((m) => m.channel === NOTE).length).toBeLessThanOrEqual(1);
              expect(live.filter((m) => m.channel !== NOTE).length).toBeLessThanOrEqual(3);
            }
            expect(r.flow.queued()).toBeLessThanOrEqual(3 * (5 + 2));
          }
          while (r.sent.length > 0) r.answer(r.sent.shift()!);
          await flush();
          expect(r.outcomes.map(([b]) => b).sort()).toEqual(Array.from({ length: n }, (_, i) => `m${i}`).sort());
        },
      ),
      { numRuns: 200, seed: 20261126 },
    );
  });
});
