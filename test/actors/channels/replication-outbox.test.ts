// The replication outbox (src/actors/channels/replication-outbox.ts, specs/replication.md R1a): one entry
// per key and node (a newer version replaces a waiting one), batches of several waiting changes,
// failed KDMQ put back unless a newer version waits (a 4xx batch retried change by change, a 4xx
// change counted and not sent again), nothing sent to a node that is not active, lag and backlog
// for admission control, and a property: whatever the order of changes and outcomes, every key's
// last version is delivered to the node exactly as the last one it receives.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { ReplicationOutbox, type Change } from '../../../src/actors/channels/replication-outbox.ts';
import type { KdmqOutcome, KdmqSend } from '../../../src/actors/dmq/dmq-sender.ts';

const peer = { host: '127.0.9.1', port: '5090', transport: null, key: '127.0.9.1:5090' };
const change = (key: string, v: number, at: number): Change => ({ channel: 'usrloc', key, at, body: () => `{"k":"${key}","v":${v}}` });

function rig(o: { batch?: number; active?: boolean } = {}) {
  const clock = new VirtualClock(1_000_000);
  let active = o.active ?? true;
  const sent: KdmqSend[] = [];
  const rejected: number[] = [];
  let room = 0;
  const box: ReplicationOutbox = new ReplicationOutbox({
    clock, config: { retryMs: 500, liveMs: 5000 },
    kick: (_to, key) => {
      while (room > 0) {
        const m = box.pull(key);
        if (!m) break;
        room--;
        sent.push(m);
      }
    },
    isActive: () => active,
    onRejected: (_to, _ch, n, code) => rejected.push(code),
  });
  box.register('usrloc', { maxChanges: () => o.batch ?? 3, maxBytes: () => 60_000, join: (b) => `[${b.join(',')}]`, overhead: () => 12 });
  const open = (n: number) => {
    room += n;
    box.heard(peer.key);
    (box as unknown as { d: { kick(t: unknown, k: string): void } }).d.kick(peer, peer.key);
  };
  const answer = (m: KdmqSend, code = 200) => m.done!({ code, reason: '', body: '' } as KdmqOutcome);
  return { clock, box, sent, rejected, open, answer, setActive: (a: boolean) => (active = a) };
}

describe('ReplicationOutbox', () => {
  it('coalesces: a newer version of a waiting key replaces it; waiting changes leave in batches, oldest first', () => {
    const r = rig();
    for (let i = 0; i < 5; i++) r.box.enqueue(change(`b${i}`, 1, r.clock.now()), [peer]);
    r.box.enqueue(change('b1', 2, r.clock.now()), [peer]);
    expect(r.box.backlog(peer.key)).toBe(5);
    expect(r.box.stats.coalesced).toBe(1);
    r.open(2);
    expect(r.sent.map((m) => m.body)).toEqual(['[{"k":"b0","v":1},{"k":"b2","v":1},{"k":"b3","v":1}]', '[{"k":"b4","v":1},{"k":"b1","v":2}]']);
  });

  it('a time-out puts the batch back in front; a 5xx also holds the node for retryMs; a newer waiting version wins', () => {
    const r = rig({ batch: 2 });
    r.box.enqueue(change('a', 1, r.clock.now()), [peer]);
    r.box.enqueue(change('b', 1, r.clock.now()), [peer]);
    r.open(1);
    const first = r.sent.shift()!;
    r.box.enqueue(change('b', 2, r.clock.now()), [peer]);
    r.answer(first, 408);
    r.open(1);
    // a (without the b a newer version replaced) is sent again before b v2
    expect(r.sent.shift()!.body).toBe('{"k":"a","v":1}');
    r.open(1);
    const b2 = r.sent.shift()!;
    expect(b2.body).toBe('{"k":"b","v":2}');
    r.answer(b2, 500);
    r.open(1);
    expect(r.sent).toEqual([]); // held for retryMs
    r.clock.advance(600);
    r.open(1);
    expect(r.sent.shift()!.body).toBe('{"k":"b","v":2}');
  });

  it('a 4xx batch is retried change by change; a 4xx for one change is counted and not sent again', () => {
    const r = rig();
    for (const k of ['x', 'y']) r.box.enqueue(change(k, 1, r.clock.now()), [peer]);
    r.open(1);
    r.answer(r.sent.shift()!, 400);
    r.open(2);
    const [x, y] = r.sent.splice(0);
    expect([x.body, y.body]).toEqual(['{"k":"x","v":1}', '{"k":"y","v":1}']);
    r.answer(x, 400);
    r.answer(y, 200);
    expect(r.rejected).toEqual([400]);
    expect(r.box.backlog(peer.key)).toBe(0);
  });

  it('nothing is sent to a node that is not active; lag and backlog grow; worst() skips a silent node', () => {
    const r = rig({ active: false });
    r.box.enqueue(change('a', 1, r.clock.now()), [peer]);
    r.open(4);
    expect(r.sent).toEqual([]);
    r.clock.advance(3000);
    expect(r.box.lagMs(peer.key)).toBe(3000);
    expect(r.box.worst([peer])).toEqual({ key: peer.key, lagMs: 3000, backlog: 1 });
    r.clock.advance(6000); // nothing heard for 6 s > liveMs: unreachable, not slow
    expect(r.box.worst([peer])).toBeNull();
    expect(r.box.forget(peer.key)).toBe(true);
    expect(r.box.backlog(peer.key)).toBe(0);
  });

  it('property: any order of changes and outcomes; each key ends with its last version delivered last', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.record({ op: fc.constant('change' as const), key: fc.integer({ min: 0, max: 4 }) }),
        fc.record({ op: fc.constant('answer' as const), i: fc.nat(), code: fc.constantFrom(200, 200, 408, 500, 503) }),
        fc.record({ op: fc.constant('open' as const), n: fc.integer({ min: 1, max: 3 }) }),
        fc.record({ op: fc.constant('tick' as const) }),
      ), { maxLength: 80 }),
      (ops) => {
        const r = rig({ batch: 2 });
        const last = new Map<string, number>();
        const delivered = new Map<string, number>();
        let v = 0;
        const settle = (m: KdmqSend, code: number) => {
          if (code === 200) for (const mm of m.body.matchAll(/"k":"(\w+)","v":(\d+)/g)) delivered.set(mm[1], Math.max(delivered.get(mm[1]) ?? 0, Number(mm[2])));
          r.answer(m, code);
        };
        for (const op of ops) {
          if (op.op === 'change') {
            last.set(`k${op.key}`, ++v);
            r.box.enqueue(change(`k${op.key}`, v, r.clock.now()), [peer]);
          } else if (op.op === 'answer' && r.sent.length > 0) settle(r.sent.splice(op.i % r.sent.length, 1)[0], op.code);
          else if (op.op === 'open') r.open(op.n);
          else r.clock.advance(600);
        }
        // drain: everything answered 200 from now on
        for (let guard = 0; guard < 200 && (r.sent.length > 0 || r.box.backlog(peer.key) > 0); guard++) {
          r.clock.advance(600);
          r.open(4);
          while (r.sent.length > 0) settle(r.sent.shift()!, 200);
        }
        expect(r.box.backlog(peer.key)).toBe(0);
        expect(delivered).toEqual(last);
      },
    ));
  });
});
