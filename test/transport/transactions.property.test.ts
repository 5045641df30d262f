// Property: on a SimNetwork that duplicates, reorders (jitter) and optionally loses datagrams,
// every client request gets exactly one `done`, and every distinct request is handed up at most
// once (exactly once, with an answer, when nothing is lost). Seeds are printed by fast-check.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { SimNetwork } from '../../src/transport/sim-transport.ts';
import { TransactionLayer } from '../../src/transport/transactions.ts';
import type { ClientOutcome, ServerTx } from '../../src/transport/transactions.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { kdmq } from './fixtures.ts';

const A = { host: '127.0.0.1', port: 5090 };
const B = { host: '127.0.0.2', port: 5090 };

type Answer = { kind: 'now' } | { kind: 'later'; ms: number } | { kind: 'trying-then'; ms: number };

const scenario = (maxLoss: number) =>
  fc.record({
    seed: fc.string({ maxLength: 8 }),
    delayMs: fc.integer({ min: 0, max: 50 }),
    jitterMs: fc.integer({ min: 0, max: 2000 }),
    duplicate: fc.double({ min: 0, max: 0.9, noNaN: true }),
    loss: fc.double({ min: 0, max: maxLoss, noNaN: true }),
    requests: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 3000 }),
        answer: fc.oneof(
          fc.constant<Answer>({ kind: 'now' }),
          fc.integer({ min: 1, max: 5000 }).map((ms): Answer => ({ kind: 'later', ms })),
          fc.integer({ min: 1, max: 5000 }).map((ms): Answer => ({ kind: 'trying-then', ms })),
        ),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  });

type Scenario = typeof scenario extends (x: number) => fc.Arbitrary<infer S> ? S : never;

async function run(s: Scenario) {
  const clock = new VirtualClock(0);
  const { delayMs, jitterMs, duplicate, loss } = s;
  const net = new SimNetwork({ clock, random: new SeededRandom(`net/${s.seed}`), defaults: { delayMs, jitterMs, duplicate, loss } });
  const ta: Transport = net.transport();
  const tb: Transport = net.transport();
  await ta.bind(A);
  await tb.bind(B);
  const handedUp = new Map<string, number>();
  const done = new Map<string, ClientOutcome[]>();
  const client = new TransactionLayer({
    clock, random: new SeededRandom(`a/${s.seed}`), send: (f, t, d) => ta.send(f, t, d), onRequest: () => {},
  });
  const server = new TransactionLayer({
    clock,
    random: new SeededRandom(`b/${s.seed}`),
    send: (f, t, d) => tb.send(f, t, d),
    onRequest: (req, tx: ServerTx) => {
      const id = req.get('call-id')!;
      handedUp.set(id, (handedUp.get(id) ?? 0) + 1);
      const answer = s.requests[Number(id.slice(1))].answer;
      if (answer.kind === 'now') tx.respond(200, 'OK', { toTag: 'b' });
      else {
        if (answer.kind === 'trying-then') tx.respond(100, 'Trying');
        clock.setTimeout(() => tx.respond(200, 'OK', { toTag: 'b' }), answer.ms);
      }
    },
  });
  ta.onDatagram((d) => client.receive(d));
  tb.onDatagram((d) => server.receive(d));
  s.requests.forEach((r, i) => {
    clock.setTimeout(() => {
      done.set(`r${i}`, []);
      client.request(kdmq(`r${i}`), A, B, (o) => done.get(`r${i}`)!.push(o));
    }, r.at);
  });
  clock.runUntil(200_000);
  return { done, handedUp, client, server, clock };
}

describe('transactions under duplication and reordering (SimNetwork)', () => {
  it('without loss: one done per request, each a 200; each request handed up exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(0), async (s) => {
        const { done, handedUp, client, server, clock } = await run(s);
        expect(done.size).toBe(s.requests.length);
        for (const [id, outcomes] of done) {
          expect(outcomes, id).toHaveLength(1);
          expect(outcomes[0].kind).toBe('response');
          expect(handedUp.get(id), id).toBe(1);
        }
        expect(client.stats.timeouts).toBe(0);
        expect(client.size).toEqual({ clients: 0, servers: 0 });
        expect(server.size).toEqual({ clients: 0, servers: 0 });
        expect(clock.pending()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('a retransmission sent just before timer F and delayed past 64·T1 is not handed up again', async () => {
    // fast-check seed -1770007812 (CI, 2026-11-26) found it while timer J was 64·T1
    const now: Answer = { kind: 'now' };
    const s: Scenario = {
      seed: 'Ay Yf', delayMs: 0, jitterMs: 1028, duplicate: 0.17404306493699553, loss: 0.5980261482764037,
      requests: [{ at: 2202, answer: now }, { at: 0, answer: now }, { at: 701, answer: now }],
    };
    const { handedUp } = await run(s);
    for (const [id, n] of handedUp) expect(n, id).toBeLessThanOrEqual(1);
  });

  it('with loss: still exactly one done per request, never handed up twice', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(0.6), async (s) => {
        const { done, handedUp } = await run(s);
        for (const [id, outcomes] of done) {
          expect(outcomes, id).toHaveLength(1);
          expect(handedUp.get(id) ?? 0, id).toBeLessThanOrEqual(1);
          if (outcomes[0].kind === 'response') expect(handedUp.get(id), id).toBe(1);
        }
        expect(done.size).toBe(s.requests.length);
      }),
      { numRuns: 150 },
    );
  });
});
