// Parser strictness against real Kamailio 5.6.3 (issue #14 item 6): the same REGISTER bytes sent
// to a Kamailio registrar and to a kdmq node (default limits) on fresh loopback IPs. Large valid
// requests (500 extension headers; a 60-proxy Via chain with Record-Route, Route and Path; a
// 65 000-byte datagram of ~12 900 short lines) get 200 from both. Control characters: Kamailio
// 5.6.3 accepts and stores a NUL in a header value and drops (no answer) a request with one in a
// header name; kdmq answers both with 400 naming it and stores neither. Skipped without Kamailio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { RawSip, startLiveNode, type LiveNode, type RawRequest } from '../support/live-node.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[parser-strictness interop] skipped: ${avail.reason}`);

let kam: KamailioNode;
let kdmq: LiveNode;
let ua: RawSip;
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

function reg(target: string, user: string, headers: string[]): RawRequest {
  return {
    method: 'REGISTER', uri: `sip:${target}`, from: `<sip:${user}@kdmq.test>`, to: `<sip:${user}@kdmq.test>`, callId: `strict-${user}-${target}`,
    cseq: '1 REGISTER', headers: [`Contact: <sip:${user}@${ua.ip}:${ua.port}>;expires=300`, ...headers],
  };
}
/** the final answer of both systems to the same request: "200 OK", "400 …" or "no answer" */
async function both(user: string, headers: string[]): Promise<{ kamailio: string; kdmq: string; viaCount: number[] }> {
  const out = { kamailio: '', kdmq: '', viaCount: [] as number[] };
  for (const [name, ip] of [['kamailio', kam.ip], ['kdmq', kdmq.ip]] as const) {
    try {
      const r = await ua.request(reg(ip, user, headers), ip, 5060, 1500);
      out[name] = `${r.status} ${r.reason}`;
      out.viaCount.push(r.text.match(/^Via: /gim)?.length ?? 0);
    } catch {
      out[name] = 'no answer';
    }
  }
  return out;
}

describe.skipIf(!avail.ok)('parser strictness: the same bytes to Kamailio 5.6.3 and to kdmq', () => {
  beforeAll(async () => {
    const [ipK, ipD, ipU] = allocLoopbackIps(3);
    [kam, kdmq, ua] = await Promise.all([
      startKamailio({ ip: ipK, notificationAddresses: [], dmq: false, children: 1 }),
      startLiveNode(ipD, []),
      RawSip.open(ipU),
    ]);
  }, 60_000);
  afterAll(async () => {
    await ua?.close();
    await kdmq?.stop();
    await kam?.cleanup();
  });

  it('500 extension headers: 200 from both', async () => {
    expect(await both('h500', many(500, (i) => `X-Ext-${i}: value ${i}`))).toMatchObject({ kamailio: '200 OK', kdmq: '200 OK' });
  });

  it('60 proxies (Via chain, Record-Route, Route, Path): 200 from both, each echoing the 60 Vias', async () => {
    const r = await both('chain', [
      ...many(59, (i) => `Via: SIP/2.0/UDP 10.0.0.${i + 1}:5060;branch=z9hG4bK-proxy-${i};received=10.9.0.${i + 1}`),
      ...many(60, (i) => `Record-Route: <sip:10.0.1.${i + 1}:5060;lr;ftag=f${i}>`),
      `Route: ${many(60, (i) => `<sip:10.1.0.${i + 1}:5060;lr>`).join(', ')}`,
      'Supported: path',
      ...many(60, (i) => `Path: <sip:10.2.0.${i + 1}:5060;lr>`),
    ]);
    expect(r).toEqual({ kamailio: '200 OK', kdmq: '200 OK', viaCount: [60, 60] });
  });

  it('a 65 000-byte datagram of short header lines: 200 from both', async () => {
    const head = ua.build(reg(kam.ip, 'short', [])).bytes.byteLength;
    expect(await both('short', many(Math.floor((65_000 - head - 20) / 5), (i) => `x:${i % 10}`))).toMatchObject({ kamailio: '200 OK', kdmq: '200 OK' });
  });

  it('a NUL in a header value: Kamailio 200 (stored), kdmq 400 naming it (nothing stored)', async () => {
    expect(await both('nulvalue', ['X-A: a\0b'])).toMatchObject({ kamailio: '200 OK', kdmq: '400 NUL (0x00) in header X-A' });
  });

  it('a control character in a header name: Kamailio no answer (nothing stored), kdmq 400', async () => {
    expect(await both('ctlname', ['X\x01A: v'])).toMatchObject({ kamailio: 'no answer', kdmq: '400 control character 0x01 in the name of header XA' });
  });

  it('what each stored', async () => {
    const kamAors = (await kam.ulDump()).map((a) => a.aor).sort();
    expect(kamAors).toEqual(['chain', 'h500', 'nulvalue', 'short']);
    const store = kdmq.services.app.registrar.store;
    expect(['chain', 'h500', 'nulvalue', 'short', 'ctlname'].filter((u) => store.get(u).length > 0)).toEqual(['chain', 'h500', 'short']);
  });
});
