// HEP mirroring as a Transport wrapper: each datagram out and in reaches the inner transport and
// the handler unchanged and is copied (HEPv3 with the exact bytes, addresses, time and capture id;
// plain for trace_mode 4); a full outlet drops copies only, counted; siptrace.status turns it off;
// the siptrace keys are refused with one line naming the key.

import { describe, expect, it } from 'vitest';
import type { Datagram, Endpoint, Transport } from '../../src/transport/transport.ts';
import { HepMirrorTransport, parseDuplicateUri, siptraceConfigError, type HepOutlet } from '../../src/trace/hep-mirror.ts';
import { decodeHep } from '../../src/trace/hep.ts';
import { createRegistry, dispatch, register } from '../../src/control/rpc.ts';
import { registerSiptraceMethods, siptraceStats } from '../../src/control/siptrace-methods.ts';
import { filterStats } from '../../src/control/stats-methods.ts';
import type { SiptraceConfig } from '../../src/config/types.ts';

class FakeTransport implements Transport {
  sent: Array<[Endpoint, Endpoint, Uint8Array]> = [];
  handler: (d: Datagram) => void = () => {};
  stats = { sent: 0, received: 0, sendErrors: 0 };
  async bind(e: Endpoint) { return e; }
  send(from: Endpoint, to: Endpoint, data: Uint8Array) { this.sent.push([from, to, data]); }
  onDatagram(h: (d: Datagram) => void) { this.handler = h; }
  endpoints() { return []; }
  async close() {}
}

class ListOutlet implements HepOutlet {
  got: Uint8Array[] = [];
  constructor(private readonly room = Infinity) {}
  push(p: Uint8Array) {
    if (this.got.length >= this.room) return false;
    this.got.push(p);
    return true;
  }
}

const enc = (s: string) => new TextEncoder().encode(s);
const req = enc('REGISTER sip:kdmq.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5070\r\n\r\n');
const rpl = enc('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.9:5070\r\n\r\n');
const node: Endpoint = { host: '127.0.0.1', port: 5060 };
const ua: Endpoint = { host: '127.0.0.9', port: 5070 };

function setup(mode = 1, room = Infinity) {
  const inner = new FakeTransport();
  const outlet = new ListOutlet(room);
  const m = new HepMirrorTransport(inner, outlet, { mode, captureId: 77, authKey: 'key', enabled: true, nowMs: () => 1_700_000_000_250.5 });
  const got: Datagram[] = [];
  m.onDatagram((d) => got.push(d));
  return { inner, outlet, m, got };
}

describe('HEP mirror transport', () => {
  it('copies a received request and a sent reply as HEPv3 with their exact bytes and ends', () => {
    const { inner, outlet, m, got } = setup();
    inner.handler({ local: node, remote: ua, data: req });
    m.send(node, ua, rpl);
    expect(got.map((d) => d.data)).toEqual([req]);
    expect(inner.sent).toEqual([[node, ua, rpl]]);
    const d = outlet.got.map((b) => decodeHep(b));
    expect(d).toEqual([
      { ok: true, value: { family: 2, ipProto: 17, src: '127.0.0.9', dst: '127.0.0.1', sport: 5070, dport: 5060, sec: 1_700_000_000, usec: 250_500, protoType: 1, captureId: 77, authKey: 'key', payload: req } },
      { ok: true, value: { family: 2, ipProto: 17, src: '127.0.0.1', dst: '127.0.0.9', sport: 5060, dport: 5070, sec: 1_700_000_000, usec: 250_500, protoType: 1, captureId: 77, authKey: 'key', payload: rpl } },
    ]);
    expect(m.counters).toMatchObject({ copied: 2, dropped: 0, tracedRequests: 1, tracedReplies: 1 });
  });

  it('IPv6 and TCP/TLS ends: family 10, protocol 6 / 22 as Kamailio writes them', () => {
    const { outlet, m } = setup();
    m.send({ host: '::1', port: 5060, proto: 'tcp' }, { host: 'fd00::2', port: 5090, proto: 'tcp' }, req);
    m.send({ host: '127.0.0.1', port: 5061, proto: 'tls' }, { host: '127.0.0.2', port: 5061, proto: 'tls' }, req);
    const [a, b] = outlet.got.map((x) => decodeHep(x));
    expect(a.ok && [a.value.family, a.value.ipProto, a.value.src, a.value.dst]).toEqual([10, 6, '::1', 'fd00::2']);
    expect(b.ok && b.value.ipProto).toBe(22);
  });

  it('trace_mode 4 copies the plain datagram, 5 both', () => {
    const four = setup(4);
    four.m.send(node, ua, req);
    expect(four.outlet.got).toEqual([req]);
    const five = setup(5);
    five.m.send(node, ua, req);
    expect(five.outlet.got.length).toBe(2);
    expect(decodeHep(five.outlet.got[0]).ok && five.outlet.got[1]).toEqual(req);
  });

  it('a full outlet drops trace copies only, counted; the SIP datagrams all pass', () => {
    const { inner, outlet, m, got } = setup(1, 3);
    for (let i = 0; i < 10; i++) {
      m.send(node, ua, rpl);
      inner.handler({ local: node, remote: ua, data: req });
    }
    expect(inner.sent.length).toBe(10);
    expect(got.length).toBe(10);
    expect(outlet.got.length).toBe(3);
    expect(m.counters).toMatchObject({ copied: 3, dropped: 17 });
    expect(siptraceStats(m, { sent: 3, sendErrors: 0, queued: 0 })).toContain('siptrace:hep_dropped = 17');
  });

  it('siptrace.status off stops the copies; stats.get_statistics gains the siptrace: group', async () => {
    const { outlet, m } = setup();
    const reg = createRegistry();
    register(reg, 'stats.get_statistics', 'Print statistics', (p) => filterStats(['dmq:nodes_active = 0'], p));
    registerSiptraceMethods(reg, m, { sent: 0, sendErrors: 0, queued: 0 });
    const call = async (method: string, params: unknown[]) => JSON.parse(await dispatch(reg, JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 })));
    expect((await call('siptrace.status', ['check'])).result).toBe('Enabled');
    expect((await call('siptrace.status', ['off'])).result).toBe('Disabled');
    m.send(node, ua, req);
    expect(outlet.got.length).toBe(0);
    expect((await call('siptrace.status', ['on'])).result).toBe('Enabled');
    m.send(node, ua, req);
    expect(outlet.got.length).toBe(1);
    expect((await call('siptrace.status', ['maybe'])).error).toEqual({ code: 500, message: 'Bad parameter (on, off or check)' });
    expect((await call('stats.get_statistics', ['siptrace:'])).result).toEqual([
      'siptrace:traced_requests = 1', 'siptrace:traced_replies = 0', 'siptrace:hep_copied = 1', 'siptrace:hep_sent = 0',
      'siptrace:hep_queued = 0', 'siptrace:hep_dropped = 0', 'siptrace:hep_send_errors = 0', 'siptrace:hep_unencodable = 0',
    ]);
    expect((await call('stats.get_statistics', ['all'])).result[0]).toBe('dmq:nodes_active = 0');
  });

  it('siptrace keys: duplicate_uri forms, hep_version 3 only, trace_mode 2 refused', () => {
    expect(parseDuplicateUri('sip:127.0.0.1:9060')).toEqual({ host: '127.0.0.1', port: 9060 });
    expect(parseDuplicateUri('sip:[::1]:9060;transport=udp')).toEqual({ host: '::1', port: 9060 });
    expect(parseDuplicateUri('sip:10.1.1.1')).toEqual({ host: '10.1.1.1', port: 5060 });
    expect(parseDuplicateUri('sip:homer.example:9060')).toMatch(/^config key siptrace.duplicate_uri: expected sip:IP:PORT/);
    const c: SiptraceConfig = { duplicate_uri: 'sip:127.0.0.1:9060', trace_on: true, trace_mode: 1, hep_mode_on: true, hep_version: 3, hep_capture_id: 1, queue_size: 10 };
    expect(siptraceConfigError(c)).toBeNull();
    expect(siptraceConfigError({ ...c, hep_version: 2 })).toBe('config key siptrace.hep_version: kdmq writes HEPv3 only, expected 3, got 2');
    expect(siptraceConfigError({ ...c, trace_mode: 3 })).toMatch(/^config key siptrace.trace_mode: bit 2/);
    expect(siptraceConfigError({ ...c, duplicate_uri: undefined })).toMatch(/^config key siptrace.duplicate_uri: needed/);
    expect(siptraceConfigError({ ...c, duplicate_uri: undefined, trace_mode: 0 })).toBeNull();
  });
});
