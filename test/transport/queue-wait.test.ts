// Overload (issue #14 item 2): limits.max_queue_wait. A client request that waited longer than the
// limit in the live transport's receive queue is answered 503 + Retry-After at once (statelessly,
// before any work); KDMQ never is (replication and membership keep flowing). The live UDP
// transport stamps each datagram with its read time and hands datagrams over in order.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/index.ts';
import type { SipRequest } from '../../src/sip/types.ts';
import { checkRequestLimits, type RequestLimits } from '../../src/transport/request-limits.ts';
import { UdpTransport } from '../../src/transport/udp-transport.ts';
import type { Datagram } from '../../src/transport/transport.ts';

const L: RequestLimits = { maxDatagram: 65535, maxHeaders: 1000, maxBody: 65535, maxPendingServer: 1000, maxQueueWait: 1000 };
const ep = { host: '127.0.0.1', port: 5060 };

function req(method: string): { r: SipRequest; d: Datagram } {
  const text = `${method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-q1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: q1\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  const data = new TextEncoder().encode(text);
  const m = parseMessage(data);
  if (!m.ok || m.value.kind !== 'request') throw new Error('fixture');
  return { r: m.value as SipRequest, d: { local: ep, remote: { host: '127.0.0.2', port: 5070 }, data } };
}

describe('limits.max_queue_wait', () => {
  it('a REGISTER that waited past the limit: 503 with Retry-After; within it, or a KDMQ: no refusal', () => {
    const reg = req('REGISTER');
    expect(checkRequestLimits(reg.r, reg.d, L, 0, 999)).toBeNull();
    const r = checkRequestLimits(reg.r, reg.d, L, 0, 2500);
    expect(r).toMatchObject({ limit: 'queue_wait', status: 503 });
    expect(r!.headers).toEqual([['Retry-After', '3']]);
    const k = req('KDMQ');
    expect(checkRequestLimits(k.r, k.d, L, 0, 60_000)).toBeNull();
    expect(checkRequestLimits(reg.r, reg.d, { ...L, maxQueueWait: 0 }, 0, 60_000)).toBeNull();
  });

  it('the UDP transport stamps each datagram with its read time and hands them over in order', async () => {
    const t = new UdpTransport();
    const got: Datagram[] = [];
    t.onDatagram((d) => got.push(d));
    const a = await t.bind({ host: '127.0.0.1', port: 0 });
    const b = await t.bind({ host: '127.0.0.1', port: 0 });
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) t.send(b, a, new TextEncoder().encode(`m${i}`));
    const deadline = Date.now() + 5000;
    while (got.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await t.close();
    expect(got.map((d) => new TextDecoder().decode(d.data))).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    for (const d of got) expect(d.at).toBeGreaterThanOrEqual(t0);
  });
});
