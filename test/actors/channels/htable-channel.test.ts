// The `htable` channel (protocol reference §6, §1.2 replies): the lab's htable trace replayed
// against three kdmq stores gives dumps.txt at every step and the bodies Kamailio sent; replies
// are bodiless 200 / 400 / 500; sync answers are paced batches under 60 000 bytes whose union is
// the table (property over random tables); applied changes are never re-broadcast.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRegistry, dispatch } from '../../../src/control/rpc.ts';
import { registerHtableMethods } from '../../../src/control/htable-methods.ts';
import { parseHtableBody, type HtableCell } from '../../../src/actors/channels/htable-body.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { dumpLines, fakeNode, kdmq, nodeId, readSteps, readTrace, T0, table } from '../../htable/helpers.ts';

const IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

function labNode(k: number, clock: VirtualClock) {
  const n = fakeNode({ clock, peers: IPS.filter((_, j) => j !== k).map((ip) => nodeId(ip)) });
  const reg = createRegistry();
  registerHtableMethods(reg, n.store);
  return { ...n, reg };
}

describe('htable trace replay (fixtures/kamailio-traces/htable)', () => {
  it('every htable KDMQ of sip.txt applied gives the tables of dumps.txt; our sends equal Kamailio’s', async () => {
    const clock = new VirtualClock(T0);
    const nodes = [0, 1, 2].map((k) => labNode(k, clock));
    const msgs = readTrace().filter((m) => m.request?.method === 'KDMQ' && m.text.startsWith('KDMQ sip:htable@'));
    const steps = readSteps();
    expect(steps.length).toBe(5);
    expect(msgs.length).toBe(16); // 12 operations, 2 sync requests, 2 cells answers
    const check = (step: (typeof steps)[number]) => {
      for (const [n, want] of step.dumps) expect(dumpLines(nodes[n - 1].store), `${step.title}: node${n}`).toEqual(want);
    };
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s];
      const [who, ops] = step.title.split(': ');
      const k = Number(/node(\d)/.exec(who)![1]) - 1;
      if (/restart/.test(step.title)) {
        nodes[k] = labNode(k, clock); // fresh state
        nodes[k].channel.onJoined();
        expect(nodes[k].sent.map((m) => [m.to.host, m.body, m.maxForwards])).toEqual([
          ['127.0.0.11', '{"action":1}', 1], ['127.0.0.12', '{"action":1}', 1],
        ]);
      } else {
        for (const op of ops.replace(/ \(.*\)$/, '').split('; ')) {
          const [method, ...params] = op.split(' ');
          const args = params.map((p) => (method === 'htable.seti' && p === params[2] ? Number(p) : p));
          const r = JSON.parse(await dispatch(nodes[k].reg, JSON.stringify({ jsonrpc: '2.0', method, params: args, id: 1 })));
          expect(r.error, op).toBeUndefined();
        }
      }
      const until = steps[s + 1]?.at ?? Infinity;
      const sentBy = new Map<number, string[]>();
      for (const m of msgs.filter((x) => x.at >= step.at && x.at < until)) {
        const from = IPS.indexOf(m.src);
        const to = IPS.indexOf(m.dst);
        // what Kamailio sent, in order per sender (the sync request of a restart, and sync answers, are checked below)
        if (!/"action":1}|"cells"/.test(m.text)) sentBy.set(from, [...(sentBy.get(from) ?? []), `${m.dst} ${m.request!.bodyText()}`]);
        const target = nodes[to];
        const before = target.sent.length;
        const reply = target.channel.handle(m.request!, nodeId(m.src), { host: m.src, port: 5090 });
        expect(reply, `#${m.n}`).toEqual({ status: 200, reason: 'OK' });
        clock.advance(50); // let a sync answer go out
        if (m.request!.bodyText() === '{"action":1}') {
          const answers = target.sent.slice(before);
          const kamailio = msgs.find((x) => x.src === m.dst && x.dst === m.src && x.text.includes('"cells"'))!;
          expect(answers.map((a) => [a.to.host, a.body])).toEqual([[m.src, kamailio.request!.bodyText()]]);
        }
      }
      for (const [from, bodies] of sentBy) {
        const ours = nodes[from].sent.map((x) => `${x.to.host} ${x.body}`);
        expect(ours.sort(), `bodies sent by node${from + 1}`).toEqual([...bodies].sort());
        nodes[from].sent.length = 0;
      }
      check(step);
    }
  });
});

describe('htable channel replies', () => {
  it('200 without body; unknown table 500; bad JSON, unknown key, missing Content-Length 400', () => {
    const { channel, store } = fakeNode();
    const from = nodeId('127.0.0.11');
    const src = { host: '127.0.0.11', port: 5090 };
    const ok = channel.handle(kdmq('{"action":2,"htname":"lab","cname":"k","type":2,"strval":"v","mode":1}'), from, src);
    expect(ok).toEqual({ status: 200, reason: 'OK' });
    expect(store.get('lab', 'k')?.value).toEqual({ type: 2, strval: 'v' });
    expect(channel.handle(kdmq('{"action":4,"htname":"nosuch","cname":"k","mode":0}'), from, src)).toEqual({ status: 500, reason: 'Server Internal Error' });
    expect(channel.handle(kdmq('{"action":2,"htname":'), from, src)).toEqual({ status: 400, reason: 'Bad Request' });
    expect(channel.handle(kdmq('{"action":4,"htname":"lab","cname":"k","mode":0,"x":1}'), from, src).status).toBe(400);
    expect(channel.handle(kdmq('{"action":9}'), from, src).status).toBe(400);
    expect(channel.handle(kdmq('{"action":4,"htname":"lab","cname":"k","mode":0}', undefined, { contentLength: false }), from, src).status).toBe(400);
    expect(channel.handle(kdmq('{"action":5,"htname":"lab","type":2,"strval":"(","mode":0}'), from, src).status).toBe(500);
    expect(store.get('lab', 'k')).toBeDefined(); // nothing lost by bad input
  });

  it('actions 3, 4, 5, 6 and cells apply; nothing applied over DMQ is sent again', () => {
    const tables = { lab: table(), ex: table({ autoexpire: 60 }) };
    const { channel, store, sent, clock } = fakeNode({ tables });
    const from = nodeId('127.0.0.11');
    const src = { host: '127.0.0.11', port: 5090 };
    const h = (b: string) => expect(channel.handle(kdmq(b), from, src)).toEqual({ status: 200, reason: 'OK' });
    h('{"action":2,"htname":"ex","cname":"k1","type":0,"intval":42,"mode":1}');
    h('{"action":3,"htname":"ex","cname":"k1","type":0,"intval":120,"mode":0}');
    expect(store.get('ex', 'k1')!.expireAt).toBe(clock.now() + 120_000);
    for (const k of ['ka', 'kb', 'xa', 'pre1', 'pre2']) h(`{"action":2,"htname":"lab","cname":"${k}","type":2,"strval":"v${k}","mode":1}`);
    h('{"action":5,"htname":"lab","type":2,"strval":"^k.*","mode":0}');
    h('{"action":6,"htname":"lab","type":2,"strval":"pre","mode":0}');
    h('{"action":6,"htname":"lab","type":2,"strval":"vx","mode":1}');
    expect(store.dump('lab')).toEqual([]);
    h(`{"cells":[{"htname":"lab","cname":"c","type":2,"strval":"s","expire":0},{"htname":"nosuch","cname":"c","type":0,"intval":1,"expire":0},{"htname":"ex","cname":"e","type":0,"intval":1,"expire":${Math.floor(clock.now() / 1000) + 10}}]}`);
    expect(store.get('lab', 'c')!.value).toEqual({ type: 2, strval: 's' });
    expect(store.get('ex', 'e')!.expireAt).toBe(Math.floor(clock.now() / 1000) * 1000 + 10_000);
    h('{"action":4,"htname":"lab","cname":"c","mode":0}');
    expect(store.get('lab', 'c')).toBeUndefined();
    expect(sent).toEqual([]);
    // a local change is sent to every active node, MF 1, application/json
    store.set('lab', 'mine', { type: 0, intval: 1 });
    expect(sent.map((m) => [m.to.host, m.channel, m.maxForwards, m.contentType, m.body])).toEqual([
      ['127.0.0.12', 'htable', 1, 'application/json', '{"action":2,"htname":"lab","cname":"mine","type":0,"intval":1,"mode":1}'],
      ['127.0.0.13', 'htable', 1, 'application/json', '{"action":2,"htname":"lab","cname":"mine","type":0,"intval":1,"mode":1}'],
    ]);
  });

  it('onJoined sends {"action":1} only with dmq_init_sync', () => {
    const on = fakeNode({ initSync: true });
    on.channel.onJoined();
    expect(on.sent.map((m) => m.body)).toEqual(['{"action":1}', '{"action":1}']);
    const off = fakeNode({ initSync: false });
    off.channel.onJoined();
    expect(off.sent).toEqual([]);
  });
});

describe('sync answer', () => {
  const name = fc.string({ minLength: 1, maxLength: 30, unit: fc.constantFrom('a', 'b', 'é', '"', '\\', '\n', '€', 'Z', '7') });
  const value = fc.oneof(
    fc.record({ type: fc.constant(0 as const), intval: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({ type: fc.constant(2 as const), strval: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 5000, maxLength: 25_000, unit: fc.constantFrom('x', '€', '"') })) }),
  );

  it('property: paced, unicast, every batch ≤ 60 000 bytes, union = the replicated table', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (entries, pace) => {
        const n = fakeNode({ tables: { lab: table({ size: 4 }), other: table({ dmqreplicate: false }) }, paceMs: pace });
        for (const [k, v] of entries) n.store.set('lab', k, v, 'dmq');
        n.store.set('other', 'hidden', { type: 2, strval: 'x' }, 'dmq');
        const r = n.channel.handle(kdmq('{"action":1}', '127.0.0.13:5090'), nodeId('127.0.0.13'), { host: '127.0.0.13', port: 5090 });
        expect(r).toEqual({ status: 200, reason: 'OK' });
        expect(n.sent).toEqual([]); // nothing back to back inside the handler
        const times: number[] = [];
        for (let t = 0; t < 2000 && n.clock.nextDue() !== undefined; t++) {
          const before = n.sent.length;
          n.clock.step();
          if (n.sent.length > before) times.push(n.clock.now());
          expect(n.sent.length - before).toBeLessThanOrEqual(1);
        }
        for (let j = 1; j < times.length; j++) expect(times[j] - times[j - 1]).toBeGreaterThanOrEqual(pace);
        const got = new Map<string, unknown>();
        for (const m of n.sent) {
          expect(m.to.host).toBe('127.0.0.13');
          expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(60_000);
          const p = parseHtableBody(m.body);
          expect(p.ok).toBe(true);
          for (const c of (p as { value: { cells: HtableCell[] } }).value.cells) {
            expect(c.htname).toBe('lab');
            expect(got.has(c.cname)).toBe(false);
            got.set(c.cname, c.value);
          }
        }
        const want = new Map(entries.map(([k, v]) => [k, v]));
        expect(got).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('an empty table answers one {"cells":[]} as 5.6.3 does', () => {
    const n = fakeNode();
    n.channel.handle(kdmq('{"action":1}'), nodeId('127.0.0.11'), { host: '127.0.0.11', port: 5090 });
    n.clock.advance(10);
    expect(n.sent.map((m) => [m.to.host, m.body])).toEqual([['127.0.0.11', '{"cells":[]}']]);
  });
});
