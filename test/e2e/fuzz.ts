// fast-check arbitrary of hostile datagrams for the e2e robustness test: arbitrary bytes, and valid
// REGISTER / OPTIONS / KDMQ requests (unique Call-ID and branch each) mutated by byte flips,
// truncation, duplicated header lines, bad Content-Length values and huge header values. KDMQ
// seeds name data channels only, so no mutation can teach the node a peer to contact; every Via
// has `;rport`, so answers go to the source address (and the node's 127/8 sockets cannot send
// off-box anyway).
import fc from 'fast-check';
import type { SipClient } from './kdmq-proc.ts';

type Mutation =
  | { kind: 'flip'; at: number; b: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dup'; line: number; times: number }
  | { kind: 'cl'; value: string }
  | { kind: 'huge'; line: number; n: number; ch: string };

export interface FuzzCase {
  /** the datagram, built for this client and target, with Call-ID fz-<i> */
  render(c: SipClient, ip: string, i: number): Buffer;
}

const MAX_UDP = 65_000;

function seed(kind: number, c: SipClient, ip: string, i: number): Buffer {
  const callId = `fz-${i}`;
  const branch = `z9hG4bKfz${i}`;
  const rport = true;
  if (kind === 0) return c.build({ method: 'OPTIONS', uri: `sip:${ip}:5060`, callId, branch, rport, extra: ['Accept: application/sdp'] });
  if (kind === 1) {
    return c.build({
      method: 'REGISTER', uri: `sip:${ip}`, callId, branch, rport,
      extra: ['Contact: <sip:alice@127.0.0.1:5999>;expires=60;q=0.5', 'Expires: 60', 'User-Agent: fuzz'],
    });
  }
  return c.build({
    method: 'KDMQ', uri: `sip:${kind === 2 ? 'usrloc' : 'htable'}@${ip}:5090`, callId, branch, rport,
    extra: ['Content-Type: application/json'],
    body: '{"action":1,"aor":"alice","ruid":"r1","c":"sip:alice@127.0.0.1:5999","expires":60}',
  });
}

function mutate(buf: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of ms) {
    if (b.length === 0) break;
    if (m.kind === 'flip') b[m.at % b.length] = m.b;
    else if (m.kind === 'truncate') b = b.subarray(0, m.at % b.length);
    else {
      const text = b.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const headEnd = split < 0 ? text.length : split;
      const lines = text.slice(0, headEnd).split('\r\n');
      const rest = text.slice(headEnd);
      const at = 1 + (('line' in m ? m.line : 0) % Math.max(1, lines.length - 1));
      if (m.kind === 'dup' && lines.length > 1) lines.splice(at, 0, ...new Array<string>(m.times).fill(lines[at]));
      else if (m.kind === 'cl') {
        const i = lines.findIndex((l) => /^(Content-Length|l)\s*:/i.test(l));
        if (i >= 0) lines[i] = `Content-Length: ${m.value}`;
        else lines.push(`Content-Length: ${m.value}`);
      } else if (m.kind === 'huge' && lines.length > 1) {
        const colon = lines[at].indexOf(':');
        lines[at] = `${lines[at].slice(0, colon + 1)} ${m.ch.repeat(m.n)}`;
      }
      b = Buffer.from(lines.join('\r\n') + rest, 'latin1');
    }
  }
  return b.length > MAX_UDP ? b.subarray(0, MAX_UDP) : b;
}

const byte = fc.oneof(fc.constantFrom(...[0, 9, 10, 13, 32, 34, 44, 58, 59, 60, 62, 64, 0x80, 0xc3, 0xff]), fc.integer({ min: 0, max: 255 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), b: byte }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dup' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 40 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cl' as const),
      value: fc.oneof(
        fc.constantFrom('-1', 'abc', '', '1e3', '0x10', ' 5', '5 5', '4294967296', '2147483648', '999999999999999999999', '0', '1'),
        fc.nat().map(String),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const), line: fc.nat(), n: fc.integer({ min: 500, max: 60_000 }),
      ch: fc.constantFrom('9', 'a', ';', ',', '<', '"', ' ', '%', ';x=1'),
    }),
  },
);

/** one hostile datagram: 1 in 5 arbitrary bytes, else a valid request with 1-6 mutations */
export const fuzzDatagram: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1500 }).map((bytes): FuzzCase => ({ render: () => Buffer.from(bytes) })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
      .map(([kind, ms]): FuzzCase => ({ render: (c, ip, i) => mutate(seed(kind, c, ip, i), ms) })),
  },
);
