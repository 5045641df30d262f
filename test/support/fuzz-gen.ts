// Datagram generators of the fuzz campaign (fuzz-campaign.ts): fast-check samples a pool of base
// cases (REGISTER/OPTIONS, KDMQ with node-list, usrloc and htable bodies, raw bytes, JSON-RPC
// bodies), and a seeded mutator derives each datagram from one (byte flips, truncation, repeated
// lines, bad Content-Length). Safety rules: AoRs, ruids and contacts are `fz-…` (disjoint from
// any snapshot); node lines name only the fuzz IP on 8 ports; malformed node lists and mutations
// go to kdmq only, Kamailio gets only well-formed REGISTER/OPTIONS (its §8 #1 freeze is not ours).
import fc from 'fast-check';

export type Target = 'kdmq-sip' | 'kdmq-dmq' | 'kamailio-sip';
export interface Case {
  target: Target;
  /** render for a destination "ip:port", from the fuzz socket ip:port, with a unique index */
  render(dest: string, src: string, i: number): string;
  /** false: never mutate (sent to Kamailio as is) */
  mutable: boolean;
}

const FZ_PORTS = [41001, 41002, 41003, 41004, 41005, 41006, 41007, 41008];

function sip(method: string, uri: string, dest: string, src: string, i: number, extra: string[], body = ''): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${src};branch=z9hG4bKfz${i.toString(36)};rport`,
    `From: <sip:fz@${src}>;tag=fz${i.toString(36)}`,
    `To: <${uri}>`,
    `Call-ID: fz-${i.toString(36)}@${src}`,
    `CSeq: ${1 + (i % 1000)} ${method}`,
    'Max-Forwards: 70',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const user = fc.integer({ min: 0, max: 49 }).map((n) => `fz-${n}`);
const registerCase = (target: Target) =>
  fc.record({ u: user, c: fc.integer({ min: 0, max: 3 }), exp: fc.constantFrom(0, 60, 300, 3600), q: fc.option(fc.constantFrom('0.1', '0.5', '1.0')) }).map(
    ({ u, c, exp, q }): Case => ({
      target, mutable: target !== 'kamailio-sip',
      render: (dest, src, i) => sip('REGISTER', `sip:${dest.split(':')[0]}`, dest, src, i, [`Contact: <sip:${u}@127.0.0.9:${6000 + c}>${q ? `;q=${q}` : ''}`, `Expires: ${exp}`], '')
        .replace(`To: <sip:${dest.split(':')[0]}>`, `To: <sip:${u}@kdmq.test>`).replace(`From: <sip:fz@${src}>`, `From: <sip:${u}@kdmq.test>`),
    }),
  );
const optionsCase = (target: Target) => fc.constant<Case>({ target, mutable: target !== 'kamailio-sip', render: (dest, src, i) => sip('OPTIONS', `sip:${dest}`, dest, src, i, ['Accept: application/sdp']) });
const bytesCase = fc.uint8Array({ minLength: 1, maxLength: 1500 }).map((b): Case => ({ target: 'kdmq-sip', mutable: true, render: () => Buffer.from(b).toString('latin1') }));

const nodeLine = fc.oneof(
  fc.record({ p: fc.constantFrom(...FZ_PORTS), s: fc.constantFrom('active', 'pending', 'disabled', 'timeout', 'bogus', 'ACTIVE', '') }).map(({ p, s }) => (ip: string) => `sip:${ip}:${p};status=${s}`),
  fc.constantFrom('', ' ', 'sip:', 'sip:fz-host.invalid:5090;status=active', 'sip:[::1]:x;status=active', 'garbage\u0000line', 'sip:1.2.3:5;status=active').map((l) => () => l),
  fc.string({ maxLength: 60 }).map((l) => () => l),
);
const nodeListCase = fc.record({ lines: fc.array(nodeLine, { maxLength: 6 }), eol: fc.constantFrom('\r\n', '\n', '', '\r') }).map(
  ({ lines, eol }): Case => ({
    target: 'kdmq-dmq', mutable: true,
    render: (dest, src, i) => sip('KDMQ', `sip:notification_peer@${dest}`, dest, src, i, ['Content-Type: text/plain'], lines.map((l) => l(src.split(':')[0])).join('\r\n') + eol),
  }),
);

const fzContact = fc.record({ u: user, n: fc.integer({ min: 0, max: 9 }), a: fc.constantFrom(0, 1, 2, 3, 4, 7) }).map(({ u, n, a }) => ({
  action: a, aor: u, ruid: `fz-ruid-${u}-${n}`, c: `sip:${u}@127.0.0.9:${7000 + n}`, received: '', path: '', callid: `fz-cid-${n}`, user_agent: 'fz', instance: '',
  expires: Math.floor(Date.now() / 1000) + 300, cseq: n, flags: 0, cflags: 0, q: -1, last_modified: Math.floor(Date.now() / 1000), methods: 4294967295, reg_id: 0, server_id: 0,
}));
const usrlocBody = fc.oneof(fzContact.map((c) => JSON.stringify(c)), fc.array(fzContact, { maxLength: 4 }).map((m) => JSON.stringify({ multi: m })), fc.json(), fc.constant('{"action":3}'));
const htableBody = fc.oneof(
  fc.record({ action: fc.integer({ min: 0, max: 8 }), htname: fc.constantFrom('fz', 'lab', ''), cname: fc.string({ maxLength: 20 }), type: fc.constantFrom(0, 1, 2), strval: fc.string({ maxLength: 40 }), intval: fc.integer(), mode: fc.integer({ min: 0, max: 2 }) }).map((o) => JSON.stringify(o)),
  fc.json(),
);
const dataCase = fc.record({ ch: fc.constantFrom('usrloc', 'htable', 'dialog', 'nope'), u: usrlocBody, h: htableBody, ct: fc.constantFrom('application/json', 'text/plain') }).map(
  ({ ch, u, h, ct }): Case => ({ target: 'kdmq-dmq', mutable: true, render: (dest, src, i) => sip('KDMQ', `sip:${ch}@${dest}`, dest, src, i, [`Content-Type: ${ct}`], ch === 'htable' ? h : u) }),
);

/** read-only and unknown methods only: nothing that may change pre-campaign bindings or membership */
export const RPC_METHODS = ['dmq.list_nodes', 'ul.dump', 'ul.lookup', 'htable.dump', 'htable.get', 'htable.listTables', 'htable.stats', 'stats.get_statistics', 'core.uptime', 'system.listMethods', 'system.methodHelp', 'no.such', ''];
export const rpcBody = fc.oneof(
  fc.record({ jsonrpc: fc.constantFrom('2.0', '1', undefined), method: fc.constantFrom(...RPC_METHODS), params: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })), id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)) }, { requiredKeys: ['method'] }).map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
);

export function casePool(seed: number, n: number): Case[] {
  const arb = fc.oneof(
    { weight: 3, arbitrary: registerCase('kdmq-sip') },
    { weight: 1, arbitrary: optionsCase('kdmq-sip') },
    { weight: 1, arbitrary: bytesCase },
    { weight: 2, arbitrary: nodeListCase },
    { weight: 3, arbitrary: dataCase },
    { weight: 1, arbitrary: registerCase('kamailio-sip') },
    { weight: 1, arbitrary: optionsCase('kamailio-sip') },
  );
  return fc.sample(arb, { seed, numRuns: n });
}

/** xorshift32: the mutator's randomness (seeded, cheap enough for 10⁶ datagrams) */
export function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function mutate(text: string, rnd: () => number): Buffer {
  const b = Buffer.from(text, 'latin1');
  const k = rnd();
  if (k < 0.35) return b; // as generated
  if (k < 0.6) {
    for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    return b;
  }
  if (k < 0.75) return b.subarray(0, Math.floor(rnd() * b.length));
  const lines = text.split('\r\n');
  if (k < 0.9) {
    const at = 1 + Math.floor(rnd() * Math.max(1, lines.length - 3));
    lines.splice(at, 0, ...Array(1 + Math.floor(rnd() * 30)).fill(lines[at] ?? 'X: y'));
  } else {
    const cl = lines.findIndex((l) => l.startsWith('Content-Length'));
    if (cl >= 0) lines[cl] = `Content-Length: ${['-1', '999999', 'abc', '0', String(Math.floor(rnd() * 5000))][Math.floor(rnd() * 5)]}`;
  }
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
