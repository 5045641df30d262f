// Parser throughput (messages/s): a sipp REGISTER (lab/kamailio/sipp/register.xml) and a Kamailio
// usrloc KDMQ with its JSON body (kamailio-dmq-protocol.md §5.3), to header boundaries and with
// Via, From, To, Contact, CSeq and Call-ID fully parsed. Run alone: `npx tsx bench/parser.ts`.

import { pathToFileURL } from 'node:url';
import { parseMessage } from '../src/sip/parser.ts';

const crlf = (lines: string[]): Uint8Array => new TextEncoder().encode(lines.join('\r\n'));

export const REGISTER = crlf([
  'REGISTER sip:127.0.0.11:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.20:5070;branch=z9hG4bK-16102-1-0',
  'Max-Forwards: 70',
  'From: <sip:user1@lab.local>;tag=16102SIPpTag1',
  'To: <sip:user1@lab.local>',
  'Call-ID: user1-lab@127.0.0.20',
  'CSeq: 1 REGISTER',
  'Contact: <sip:user1@127.0.0.20:5070>',
  'Expires: 300',
  'User-Agent: sipp-lab',
  'Content-Length: 0',
  '',
  '',
]);

const JSON_BODY =
  '{"action":1,"aor":"alice","ruid":"uloc-6b0808a0-2d22-1","c":"sip:alice@127.0.0.1:5079;transport=udp",' +
  '"received":"","path":"","callid":"reg-call-1@127.0.0.1","user_agent":"test-ua/1.0",' +
  '"instance":"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>","expires":1795692230,"cseq":1,"flags":0,' +
  '"cflags":0,"q":-1,"last_modified":1795688630,"methods":4294967295,"reg_id":1,"server_id":0}';

export const KDMQ = crlf([
  'KDMQ sip:usrloc@127.0.0.1:5072 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK4dd7.be7f8956000000000000000000000000.0',
  'To: <sip:usrloc@127.0.0.1:5072>',
  'From: <sip:usrloc@127.0.0.1:5071>;tag=1227337d338c0aa06e9f3d52c721e4f3-aa4e7528',
  'CSeq: 10 KDMQ',
  'Call-ID: 7abd2fb7129cadde-11554@127.0.0.1',
  `Content-Length: ${JSON_BODY.length}`,
  'User-Agent: kamailio (5.6.3 (x86_64/linux))',
  'Max-Forwards: 1',
  'Content-Type: application/json',
  '',
  JSON_BODY,
]);

function boundaries(msg: Uint8Array): void {
  const r = parseMessage(msg);
  if (!r.ok) throw new Error(r.error);
}

function full(msg: Uint8Array): void {
  const r = parseMessage(msg);
  if (!r.ok) throw new Error(r.error);
  const m = r.value;
  const parts = [m.vias(), m.from(), m.to(), m.contacts(), m.cseq(), m.callId()];
  for (const p of parts) if (!p.ok) throw new Error(p.error);
}

/** Messages per second over `seconds` of wall time, after a short warm-up. */
function rate(fn: (m: Uint8Array) => void, msg: Uint8Array, seconds: number): number {
  for (let i = 0; i < 20_000; i++) fn(msg);
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 2000; i++) fn(msg);
    n += 2000;
    now = performance.now();
  }
  return Math.round(n / ((now - t0) / 1000));
}

export async function benchParser(opts: { seconds?: number } = {}): Promise<{
  registerBoundaries: number; registerFull: number; kdmqBoundaries: number; kdmqFull: number;
}> {
  const s = opts.seconds ?? 1;
  return {
    registerBoundaries: rate(boundaries, REGISTER, s),
    registerFull: rate(full, REGISTER, s),
    kdmqBoundaries: rate(boundaries, KDMQ, s),
    kdmqFull: rate(full, KDMQ, s),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void benchParser({ seconds: Number(process.env.BENCH_SECONDS ?? 2) }).then((r) => {
    for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(20)} ${v.toLocaleString('en')} msgs/s`);
  });
}
