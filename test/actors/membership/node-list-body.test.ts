// Node-list body codec (protocol reference §2.2, §10): round trip, the strict writer refusing
// everything that could freeze a 5.6.3 node, the safe-but-lenient reader, and never-throws.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatNodeList,
  isIPv6,
  isSafeNodeListBody,
  parseNodeList,
  type NodeLine,
  type NodeListInput,
  type NodeStatus,
} from '../../../src/actors/membership/node-list-body.ts';

const status = fc.constantFrom<NodeStatus>('active', 'timeout', 'disabled', 'pending');
const reserved = ['transport', 'status', 'ttl', 'maddr', 'lr', 'r2', 'user', 'method', 'gr'];
const param = fc.tuple(
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,7}$/).filter((n) => !reserved.includes(n)),
  fc.option(fc.stringMatching(/^[A-Za-z0-9._~!*'+-]{1,8}$/), { nil: null }),
);
const validLine = fc.record({
  host: fc.oneof(fc.ipV4(), fc.ipV6().map((a) => `[${a}]`)),
  port: fc.integer({ min: 1, max: 65535 }).map(String),
  transport: fc.constantFrom(null, 'tcp', 'tls', 'sctp', 'ws', 'wss'),
  status,
  extraParams: fc.array(param, { maxLength: 3 }),
});

const line = (l: Partial<NodeListInput> | null): NodeListInput =>
  l === null ? (null as unknown as NodeListInput) : { host: '10.0.0.1', port: '5060', status: 'active', ...l };

describe('node-list round trip', () => {
  it('parse(format(lines)) gives the lines back, one CRLF per line', () => {
    fc.assert(
      fc.property(fc.array(validLine, { maxLength: 8 }), (lines) => {
        const f = formatNodeList(lines);
        expect(f.skipped).toEqual([]);
        expect(f.body.split('\r\n').length).toBe(lines.length + 1);
        expect(isSafeNodeListBody(f.body)).toBe(true);
        const p = parseNodeList(f.body);
        expect(p.bad).toEqual([]);
        const expected: NodeLine[] = lines.map((l) => ({
          host: l.host, port: l.port, transport: l.transport, status: l.status, params: l.extraParams,
        }));
        expect(p.nodes).toEqual(expected);
      }),
    );
  });

  it('writes the exact Kamailio line shape, extras between transport and status', () => {
    const f = formatNodeList([
      line({ host: '127.0.0.1', port: 5090 }),
      line({ host: '10.0.0.2', port: '5061', transport: 'tcp', status: 'disabled', extraParams: [['kdmq', '1'], ['x', null]] }),
      line({ host: '2001:db8::1', port: '5060', transport: 'udp' }),
    ]);
    expect(f.skipped).toEqual([]);
    expect(f.body).toBe(
      'sip:127.0.0.1:5090;status=active\r\n' +
        'sip:10.0.0.2:5061;transport=tcp;kdmq=1;x;status=disabled\r\n' +
        'sip:[2001:db8::1]:5060;status=active\r\n',
    );
  });
});

describe('node-list writer refuses what could freeze a 5.6.3 node', () => {
  const refused: Array<[string, Partial<NodeListInput>]> = [
    ['hostname', { host: 'kam1.example.com' }],
    ['localhost', { host: 'localhost' }],
    ['empty host', { host: '' }],
    ['leading space', { host: ' 10.0.0.1' }],
    ['trailing space', { host: '10.0.0.1 ' }],
    ['bad IPv4', { host: '10.0.0.256' }],
    ['IPv4 with leading zero', { host: '10.0.0.01' }],
    ['bad IPv6', { host: '[2001:db8:::1]' }],
    ['empty port', { port: '' }],
    ['port 0', { port: 0 }],
    ['port 65536', { port: 65536 }],
    ['port with space', { port: '5060 ' }],
    ['port with leading zero', { port: '05060' }],
    ['status case', { status: 'Active' as NodeStatus }],
    ['6.x status', { status: 'not_active' as NodeStatus }],
    ['no status', { status: undefined as unknown as NodeStatus }],
    ['unknown transport', { transport: 'quic' }],
    ['reserved extra', { extraParams: [['status', 'active']] }],
    ['transport extra', { extraParams: [['transport', 'tcp']] }],
    ['extra value with space', { extraParams: [['kdmq', '1 ']] }],
    ['extra value with CRLF', { extraParams: [['kdmq', '1\r\nsip:evil']] }],
    ['extra name upper case', { extraParams: [['KDMQ', '1']] }],
    ['extras not a list', { extraParams: 5 as unknown as [] }],
    ['extra not a pair', { extraParams: ['kdmq'] as unknown as [] }],
    ['null node', null as unknown as Partial<NodeListInput>],
  ];
  it.each(refused)('%s', (_name, patch) => {
    const f = formatNodeList([line({}), line(patch), line({ host: '10.0.0.3' })]);
    expect(f.skipped.map((s) => s.index)).toEqual([1]);
    expect(f.body).toBe('sip:10.0.0.1:5060;status=active\r\nsip:10.0.0.3:5060;status=active\r\n');
  });

  it('whatever it is given, the output is safe', () => {
    const junk = fc.record({
      host: fc.oneof(fc.string(), fc.ipV4(), fc.domain()),
      port: fc.oneof(fc.string(), fc.integer()),
      transport: fc.option(fc.string()),
      status: fc.oneof(status, fc.string()) as fc.Arbitrary<NodeStatus>,
      extraParams: fc.array(fc.tuple(fc.string(), fc.option(fc.string(), { nil: null }))),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(junk, validLine)), (lines) => {
        const f = formatNodeList(lines);
        expect(isSafeNodeListBody(f.body)).toBe(true);
        expect(parseNodeList(f.body).nodes.length + f.skipped.length).toBe(lines.length);
      }),
    );
  });
});

describe('isSafeNodeListBody', () => {
  const ok = 'sip:10.0.0.1:5060;status=active\r\n';
  it.each([
    ['empty body', '', true],
    ['one line', ok, true],
    ['IPv6 with transport', 'sip:[::1]:5060;transport=tls;status=pending\r\n', true],
    ['last line without CRLF', 'sip:10.0.0.1:5060;status=active', false],
    ['second line without CRLF', `${ok}sip:10.0.0.2:5060;status=active`, false],
    ['LF only', 'sip:10.0.0.1:5060;status=active\n', false],
    ['blank line', `${ok}\r\n`, false],
    ['hostname', 'sip:kam1.example.com:5060;status=active\r\n', false],
    ['trailing space', 'sip:10.0.0.1:5060;status=active \r\n', false],
    ['leading space', ' sip:10.0.0.1:5060;status=active\r\n', false],
    ['unknown status', 'sip:10.0.0.1:5060;status=not_active\r\n', false],
    ['truncated status (the 5.6.3 last-line bug)', 'sip:10.0.0.1:5060;status=activ\r\n', false],
    ['no status', 'sip:10.0.0.1:5060\r\n', false],
    ['dangling colon, no port', 'sip:10.0.0.1:;status=active\r\n', false],
    ['user part', 'sip:u@10.0.0.1:5060;status=active\r\n', false],
    ['NUL byte', 'sip:10.0.0.1:5060;status=active\0\r\n', false],
  ])('%s', (_n, body, safe) => {
    expect(isSafeNodeListBody(body)).toBe(safe);
  });

  it('cutting the last byte off a safe non-empty body always makes it unsafe', () => {
    fc.assert(
      fc.property(fc.array(validLine, { minLength: 1, maxLength: 5 }), (lines) => {
        const body = formatNodeList(lines).body;
        expect(isSafeNodeListBody(body.slice(0, -1))).toBe(false);
      }),
    );
  });
});

describe('node-list reader', () => {
  it('drops a bad line alone and reports it', () => {
    const p = parseNodeList('sip:10.0.0.1:5060;status=active\r\nsip:10.0.0.2:5060;status=bogus\r\n\r\nsip:10.0.0.3:5060;status=disabled\r\n');
    expect(p.nodes.map((n) => n.host)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(p.bad).toEqual([
      { line: 'sip:10.0.0.2:5060;status=bogus', error: 'unknown status "bogus"' },
      { line: '', error: 'empty line' },
    ]);
  });

  it('accepts LF-only lines, a last line without line end, hostnames and port-less lines', () => {
    const p = parseNodeList('sip:kam1.example.com:5060;status=active\nsip:10.0.0.2:;status=pending\nsip:10.0.0.3;transport=TCP');
    expect(p.bad).toEqual([]);
    expect(p.nodes).toEqual([
      { host: 'kam1.example.com', port: '5060', transport: null, status: 'active', params: [] },
      { host: '10.0.0.2', port: '', transport: null, status: 'pending', params: [] },
      { host: '10.0.0.3', port: '', transport: 'tcp', status: null, params: [] },
    ]);
  });

  it('keeps unknown params in order with lower-cased names', () => {
    const p = parseNodeList('sip:10.0.0.1:5060;KDMQ=1;flag;status=active\r\n');
    expect(p.nodes[0]!.params).toEqual([['kdmq', '1'], ['flag', null]]);
  });

  it('IPv6 literal checker agrees with fast-check addresses and refuses junk', () => {
    fc.assert(fc.property(fc.ipV6(), (a) => isIPv6(a)));
    for (const bad of ['', ':', '1:2', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '::1.2.3', '1::2:3:4:5:6:7:8']) {
      expect(isIPv6(bad), bad).toBe(false);
    }
  });

  it('never throws, on any string', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(fc.oneof(fc.constantFrom('sip:', '[', ']', ':', ';', '=', '\r', '\n', 'status', 'active', '::1', '1.2.3.4', '@'), fc.string()))
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (s) => {
        const p = parseNodeList(s);
        expect(Array.isArray(p.nodes) && Array.isArray(p.bad)).toBe(true);
        if (isSafeNodeListBody(s)) expect(p.bad).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
