// NodeListText's caches (src/actors/membership/node-lines.ts) against the uncached reader and writer:
// parse(body) says what parseNodeList says (with each line's identity), lineOf says what
// formatNodeLine says for the node's identity and status, however the caches were filled
// before (the same key spelt otherwise, bodies evicted). NodeList.forEachNode walks what views()
// lists, in the same order, with the same fields.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeList, nodeKey, type NodeId } from '../../../src/actors/membership/node-list.ts';
import { KDMQ_MARK, NodeListText, formatLine, prepareBody } from '../../../src/actors/membership/node-lines.ts';
import { NODE_STATUSES, formatNodeLine, parseNodeList, type NodeStatus } from '../../../src/actors/membership/node-list-body.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';

const host = fc.oneof(
  fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]) => `127.0.${a}.${b}`),
  fc.constantFrom('[::1]', '::1', 'node.example', '[fe80::2]', ''),
);
const id: fc.Arbitrary<NodeId> = fc.record({
  host,
  port: fc.constantFrom('5090', '5091', '', '0'),
  transport: fc.constantFrom(null, 'udp', 'tcp', 'tls', 'TLS', 'bogus'),
});
/** few identities, so that keys repeat (also spelt otherwise: 'TLS' and 'tls', 'udp' and null share a key) */
const fewIds: fc.Arbitrary<NodeId> = fc.record({
  host: fc.constantFrom('127.0.0.1', '::1', '[::1]'),
  port: fc.constantFrom('5090', ''),
  transport: fc.constantFrom(null, 'udp', 'tls', 'TLS'),
});
const status = fc.constantFrom<NodeStatus>(...NODE_STATUSES);

const lineText = fc.oneof(
  fc.tuple(id, status).map(([n, s]) => formatLine(n, s, false) ?? 'sip:bad'),
  fc.tuple(id, status).map(([n, s]) => formatLine(n, s, true) ?? 'sip:bad;'),
  fc.constantFrom('', 'sip:127.0.0.1', 'sip:127.0.0.1:5090;status=weird', 'junk', 'sip:127.0.0.2:5090;kdmq=1;status=active'),
);
const body = fc.tuple(fc.array(lineText, { maxLength: 8 }), fc.constantFrom('\r\n', '\n'), fc.boolean()).map(([ls, end, last]) => ls.join(end) + (last && ls.length > 0 ? end : ''));

describe('node lines: read and written as the node-list body does', () => {
  it('parse equals parseNodeList, cached or not', () => {
    const text = new NodeListText();
    const other = new NodeListText(); // another node: its own line cache
    fc.assert(
      fc.property(fc.array(body, { minLength: 1, maxLength: 6 }), (bodies) => {
        for (const b of [...bodies, ...bodies]) {
          for (const p of [text.parse(b), other.parse(b), prepareBody(b)]) {
            const ref = parseNodeList(b);
            expect(p.bad).toBe(ref.bad.length);
            expect(p.lines.map((l) => l.line)).toEqual(ref.nodes);
            for (const l of p.lines) {
              expect(l.id).toEqual({ host: l.line.host, port: l.line.port, transport: l.line.transport });
              expect(l.key).toBe(nodeKey(l.id));
              expect(l.kdmq).toBe(l.line.params.some(([n, v]) => n === KDMQ_MARK[0] && v === KDMQ_MARK[1]));
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('each NodeListText (one per node) keeps its own parsed lines: equal, never the same objects', () => {
    const body = 'sip:10.0.0.1:5060;status=active\r\nsip:10.0.0.2:5060;status=disabled\r\n';
    const [a, b] = [new NodeListText(), new NodeListText()];
    const [pa, pb] = [a.parse(body), b.parse(body)];
    expect(pb).toEqual(pa);
    expect(pa.lines.map((l) => l.key)).toEqual(['10.0.0.1:5060', '10.0.0.2:5060']);
    pa.lines.forEach((l, i) => expect(pb.lines[i]).not.toBe(l));
    expect(a.parse(body).lines[0]).toBe(pa.lines[0]); // the same node reads the line from its cache
  });

  it('lineOf equals formatNodeLine of the identity it is given, whatever was asked before', () => {
    fc.assert(
      // one NodeListText per node: its local node is always the same one
      fc.property(id, fc.array(fc.tuple(fewIds, status, fc.boolean()), { maxLength: 30 }), (self, asks) => {
        const text = new NodeListText();
        for (const [peer, s, local] of asks) {
          const n = local ? self : peer;
          const r = formatNodeLine({ host: n.host, port: n.port, transport: n.transport ?? undefined, status: s, ...(local ? { extraParams: [KDMQ_MARK] } : {}) });
          // the key is nodeKey's: 'udp', 'UDP' and null share one, but their lines differ
          expect(text.lineOf(n, nodeKey(n), s, local)).toBe(r.ok ? r.value : null);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('walking the node list (forEachNode)', () => {
  it('walks views() in order with the same identity, key, status and locality', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ i: fc.nat(6), s: status, ev: fc.constantFrom('none', 'remove', 'replied', 'timeout', 'kdmq') }), { maxLength: 40 }), (ops) => {
        const clock = new VirtualClock(1000);
        const list = new NodeList({ host: '127.0.9.1', port: '5090', transport: null }, clock, true);
        const node = (i: number): NodeId => ({ host: `127.0.9.${i + 2}`, port: '5090', transport: i % 3 === 0 ? 'tcp' : null });
        for (const o of ops) {
          if (!list.ensure(node(o.i), o.s)) {
            if (o.ev === 'remove') list.send(node(o.i), { type: 'node.remove' });
            else if (o.ev === 'replied') list.send(node(o.i), { type: 'node.replied', at: clock.now() });
            else if (o.ev === 'timeout') list.send(node(o.i), { type: 'node.timedOut', at: clock.now(), sentAt: clock.now(), sentWhile: o.s });
            else if (o.ev === 'kdmq') list.markKdmq(node(o.i));
          }
          clock.advance(10);
          const walked: unknown[] = [];
          list.forEachNode((n, key, st, local) => walked.push({ host: n.host, port: n.port, transport: n.transport, key, status: st, local }));
          expect(walked).toEqual(list.views().map((v) => ({ host: v.host, port: v.port, transport: v.transport, key: v.key, status: v.status, local: v.local })));
        }
      }),
      { numRuns: 200 },
    );
  });
});
