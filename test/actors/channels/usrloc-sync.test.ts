// sendSyncAnswer (src/actors/channels/usrloc-sync.ts): bodies formatted as the window opens, the window
// respected, bindings removed after the snapshot skipped, the same bodies as batching everything
// up front, and one finish report.
import { describe, expect, it } from 'vitest';
import { Binding, toRecord } from '../../../src/actors/location/binding.ts';
import { batchUsrlocContacts, parseUsrlocBody } from '../../../src/actors/channels/usrloc-body.ts';
import { sendSyncAnswer, type SyncAnswerResult } from '../../../src/actors/channels/usrloc-sync.ts';

function binding(i: number): Binding {
  return new Binding({
    aor: `u${i}`, ruid: `ruid-${i}`, c: `sip:u${i}@127.0.0.9:5070`, received: '', path: '', callId: `cid-${i}`, userAgent: 'ua', instance: '',
    expires: 1_795_700_000, cseq: 1, flags: 0, cflags: 0, q: -1, lastModified: 1_795_690_000, methods: -1, regId: 0, serverId: 0, replicated: false,
  });
}

function run(snapshot: Binding[], window: number, live: (b: Binding) => boolean = () => true) {
  const sent: string[] = [];
  const pending: Array<(code: number) => void> = [];
  let maxInFlight = 0;
  let result: SyncAnswerResult | undefined;
  let finishes = 0;
  sendSyncAnswer({
    snapshot, live, window, limits: { maxContacts: 50, maxBytes: 60_000 },
    send: (body, done) => {
      sent.push(body);
      pending.push(done);
      maxInFlight = Math.max(maxInFlight, pending.length);
    },
    onFinish: (r) => {
      result = r;
      finishes++;
    },
  });
  const firstWindow = sent.length;
  // answer one at a time, oldest first, as a peer would
  while (pending.length > 0) pending.shift()!(200);
  return { sent, firstWindow, maxInFlight, result, finishes };
}

describe('sendSyncAnswer', () => {
  it('sends only a window of bodies up front, then one per answer, with the bodies of up-front batching', () => {
    const bs = Array.from({ length: 1234 }, (_, i) => binding(i));
    const r = run(bs, 8);
    expect(r.firstWindow).toBe(8);
    expect(r.maxInFlight).toBe(8);
    expect(r.sent).toEqual(batchUsrlocContacts(bs.map(toRecord), 50, 60_000).bodies);
    expect(r.finishes).toBe(1);
    expect(r.result).toMatchObject({ contacts: 1234, datagrams: 25, answered: 25, failed: 0, tooLarge: [] });
  });

  it('skips bindings removed after the snapshot', () => {
    const bs = Array.from({ length: 120 }, (_, i) => binding(i));
    const r = run(bs, 2, (b) => Number(b.ruid.slice(5)) % 3 !== 0);
    const aors = r.sent.flatMap((body) => {
      const p = parseUsrlocBody(body);
      if (!p.ok || !('multi' in p.value)) throw new Error('not a multi body');
      return p.value.multi.map((c) => c.aor);
    });
    expect(aors).toEqual(bs.filter((_, i) => i % 3 !== 0).map((b) => b.aor));
    expect(r.result?.contacts).toBe(80);
  });

  it('finishes at once with nothing to send', () => {
    const r = run([], 8);
    expect(r.sent).toEqual([]);
    expect(r.finishes).toBe(1);
    expect(r.result).toMatchObject({ contacts: 0, datagrams: 0 });
  });

  it('counts failed answers (answers arriving asynchronously)', async () => {
    const bs = Array.from({ length: 100 }, (_, i) => binding(i));
    let n = 0;
    const result = await new Promise<SyncAnswerResult>((resolve) => sendSyncAnswer({
      snapshot: bs, live: () => true, window: 4, limits: { maxContacts: 10, maxBytes: 60_000 },
      send: (_b, done) => queueMicrotask(() => done(n++ % 2 === 0 ? 200 : 408)),
      onFinish: resolve,
    }));
    expect(result).toMatchObject({ contacts: 100, datagrams: 10, answered: 5, failed: 5 });
  });
});
