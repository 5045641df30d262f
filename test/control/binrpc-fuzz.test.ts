// 10^5 fuzzed BINRPC packets (test/support/binrpc-fuzz.ts: random, mutated, truncated, padded,
// hostile) against a live in-process node's BINRPC listeners on loopback (UDP, TCP, a unix stream
// socket in a fresh temp dir), each answered exactly as the handler says it should be (a fault, a
// reply, or nothing for a short datagram), then: the node still answers BINRPC, HTTP RPC and SIP,
// no method but the read-only ones was ever called, and its bindings, htable and node list are
// what they were. The seed is FC_SEED (CI) or fresh, printed either way.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacket, encodePacket } from '../../src/control/binrpc/codec.ts';
import { startBinrpc, type BinrpcListeners } from '../../src/control/binrpc/listen.ts';
import { parseCtlSocket, type CtlSocketSpec } from '../../src/control/binrpc/socket-spec.ts';
import { silentLog } from '../../src/ports/log.ts';
import { RawSip, registerReq, startLiveNode, type LiveNode } from '../support/live-node.ts';
import { allocLoopbackIps, freeTcpPort, freeUdpPort } from '../support/loopback.ts';
import { READ_CALLS, Rng, datagramReplied, expectedReplies, fuzzPacket } from '../support/binrpc-fuzz.ts';

const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNTS = { udp: 80_000, tcp: 14_000, unix: 6_000 };

/** resolves when `f()` holds (checked on every event that calls `poke`), rejects at the deadline */
function until(f: () => boolean, ms: number, what: string, poke: { fn?: () => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (f()) return resolve();
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    poke.fn = () => {
      if (f()) {
        clearTimeout(t);
        poke.fn = undefined;
        resolve();
      }
    };
  });
}

function countPackets(buf: Buffer): number {
  let n = 0;
  let at = 0;
  for (;;) {
    const d = decodePacket(buf.subarray(at));
    if (!d.ok) return n;
    n++;
    at += d.size;
  }
}

/** one connection: write `bytes` (in random chunks), read the expected number of replies */
async function streamCase(connect: () => net.Socket, bytes: Uint8Array, r: Rng): Promise<void> {
  const want = await expectedReplies(bytes);
  const s = connect();
  let got = Buffer.alloc(0);
  const poke: { fn?: () => void } = {};
  s.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
    poke.fn?.();
  });
  s.on('error', () => poke.fn?.());
  await new Promise<void>((res, rej) => (s.once('connect', res), s.once('error', rej)));
  for (let at = 0; at < bytes.length;) {
    const n = 1 + r.int(bytes.length);
    s.write(bytes.subarray(at, at + n));
    at += n;
  }
  try {
    await until(() => countPackets(got) >= want.replies, 5000, `${want.replies} replies to ${Buffer.from(bytes).toString('hex').slice(0, 200)}`, poke);
    expect(countPackets(got)).toBe(want.replies);
  } finally {
    s.destroy();
  }
}

describe('BINRPC listener under 10^5 fuzzed packets', () => {
  let live: LiveNode;
  let listeners: BinrpcListeners;
  let dir: string;
  let ip: string;
  const specs: Record<'tcp' | 'udp' | 'unix', CtlSocketSpec> = {} as never;
  const calls = new Map<string, number>();

  const snapshot = async () => {
    const call = async (m: string, p: unknown[] = []) => JSON.stringify(await live.reg.methods.get(m)!.fn(p), (k, v) => (k === 'Expires' ? undefined : v));
    return { ul: await call('ul.dump'), htable: await call('htable.dump', ['t']), nodes: await call('dmq.list_nodes') };
  };

  beforeAll(async () => {
    [ip] = allocLoopbackIps(1);
    live = await startLiveNode(ip, []);
    const sip = await RawSip.open(ip);
    for (let i = 0; i < 5; i++) expect((await sip.request(registerReq(`${ip}:5060`, `fuzz${i}`, [`sip:fuzz${i}@${ip}:${7000 + i}`]), ip, 5060)).status).toBe(200);
    await sip.close();
    for (let i = 0; i < 5; i++) await live.reg.methods.get('htable.sets')!.fn(['t', `k${i}`, `v${i}`]);
    for (const [name, m] of live.reg.methods) {
      const fn = m.fn;
      m.fn = (p) => (calls.set(name, (calls.get(name) ?? 0) + 1), fn(p));
    }
    dir = mkdtempSync(join(tmpdir(), 'kdmq-fuzz-'));
    const parse = (s: string) => parseCtlSocket(s) as CtlSocketSpec;
    specs.tcp = parse(`tcp:${ip}:${await freeTcpPort(ip)}`);
    specs.udp = parse(`udp:${ip}:${await freeUdpPort(ip)}`);
    specs.unix = parse(`unix:${join(dir, 'ctl')}`);
    listeners = await startBinrpc(live.reg, [specs.tcp, specs.udp, specs.unix], { perms: { mode: 0o600, uid: -1, gid: -1 }, log: silentLog });
  }, 30_000);

  afterAll(async () => {
    await listeners?.close();
    await live?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`every packet answered as it should be; node alive; nothing changed (seed ${SEED})`, async () => {
    console.log(`[binrpc fuzz] seed ${SEED} (FC_SEED=${SEED} replays it)`);
    const before = await snapshot();
    calls.clear();
    const r = new Rng(SEED);
    const t0 = Date.now();

    // UDP: windows of 64 datagrams; each window waits for exactly the replies it should get
    const u = dgram.createSocket('udp4');
    await new Promise<void>((res) => u.bind(0, ip, () => res()));
    let replies = 0;
    const poke: { fn?: () => void } = {};
    u.on('message', () => (replies++, poke.fn?.()));
    let expected = 0;
    for (let sent = 0; sent < COUNTS.udp;) {
      for (let i = 0; i < 64 && sent < COUNTS.udp; i++, sent++) {
        const p = fuzzPacket(r);
        if (await datagramReplied(p)) expected++;
        u.send(p, (specs.udp as { port: number }).port, ip);
      }
      const want = expected;
      await until(() => replies >= want, 10_000, `UDP replies ${replies}/${want} after ${sent} datagrams`, poke);
    }
    expect(replies).toBe(expected);
    u.close();

    // streams: 1-4 packets per connection, 8 connections at a time
    const tcpConnect = () => net.connect((specs.tcp as { port: number }).port, ip);
    const unixConnect = () => net.connect((specs.unix as { path: string }).path);
    for (const [connect, total] of [[tcpConnect, COUNTS.tcp], [unixConnect, COUNTS.unix]] as const) {
      let done = 0;
      const worker = async () => {
        while (done < total) {
          const n = Math.min(1 + r.int(4), total - done);
          done += n;
          const parts = Array.from({ length: n }, () => fuzzPacket(r));
          await streamCase(connect, Buffer.concat(parts), r);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    }
    const ms = Date.now() - t0;
    console.log(`[binrpc fuzz] ${COUNTS.udp + COUNTS.tcp + COUNTS.unix} packets in ${ms} ms; ${expected} UDP replies; calls ${JSON.stringify(Object.fromEntries(calls))}`);

    // only read-only methods ran (a mutated name is an unknown command)
    const allowed = new Set(READ_CALLS.map((c) => c[0]));
    expect([...calls.keys()].filter((m) => !allowed.has(m))).toEqual([]);
    expect(calls.get('ul.dump') ?? 0).toBeGreaterThan(0);
    // alive: BINRPC on every socket, HTTP RPC, SIP
    for (const spec of Object.values(specs)) {
      const req = encodePacket({ type: 'request', cookie: 7, body: [{ t: 'str', v: 'htable.get' }, { t: 'str', v: 't' }, { t: 'str', v: 'k1' }] });
      const reply = spec.proto === 'udp'
        ? await new Promise<Buffer>((res) => {
          const s = dgram.createSocket('udp4');
          s.on('message', (m) => (s.close(), res(m)));
          s.send(req, spec.port, ip);
        })
        : await new Promise<Buffer>((res, rej) => {
          const s = spec.proto === 'tcp' ? net.connect(spec.port, ip) : net.connect((spec as { path: string }).path);
          let b = Buffer.alloc(0);
          s.on('data', (d) => ((b = Buffer.concat([b, d])), countPackets(b) > 0 && (s.destroy(), res(b))));
          s.on('error', rej);
          s.write(req);
        });
      const d = decodePacket(reply);
      expect(d.ok && d.packet.body[0], spec.text).toMatchObject({ t: 'struct', v: [{ name: 'item' }] });
    }
    expect((await live.rpc('core.version')).result).toMatch(/^kdmq /);
    expect(await snapshot()).toEqual(before);
    const sip = await RawSip.open(ip);
    expect((await sip.request({ method: 'OPTIONS', uri: `sip:${ip}:5060` }, ip, 5060)).status).toBe(200);
    await sip.close();
  }, 180_000);
});
