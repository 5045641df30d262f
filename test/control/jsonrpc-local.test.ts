// jsonrpcs' local transports in process: srjson's layout (Kamailio 5.6.3's FIFO and datagram
// answers reproduced byte for byte from their JSON), the FIFO stream splitter (any cut of a
// stream of documents gives the same documents; oversized ones dropped), and a FIFO plus a unix
// datagram socket served from a registry in a fresh temp dir, answered as kamctl/kamcli read them.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { srjsonPrint } from '../../src/control/srjson.ts';
import { JsonDocSplitter } from '../../src/control/json-doc-splitter.ts';
import { startLocalControl, type LocalControl } from '../../src/control/local-control.ts';
import { createRegistry, register, RpcError } from '../../src/control/rpc.ts';
import { silentLog } from '../../src/ports/log.ts';
import { dgramRpc, fifoRpc } from '../support/jsonrpc-local-client.ts';

const capture = JSON.parse(readFileSync(new URL('./fixtures/kamailio-5.6.3-jsonrpcs-replies.json', import.meta.url), 'utf8')) as {
  replies: Array<{ method: string; params: unknown[]; fifo: string; dgram: string }>;
};

describe('srjson layout', () => {
  for (const r of capture.replies) {
    it(`${r.method} ${r.params.join(' ')}: Kamailio's FIFO and datagram answers, byte for byte`, () => {
      expect(srjsonPrint(JSON.parse(r.fifo))).toBe(r.fifo);
      expect(srjsonPrint(JSON.parse(r.dgram))).toBe(r.dgram);
    });
  }
  it('numbers as srjson prints them; control characters escaped', () => {
    expect(srjsonPrint([1, -2147483648, 4294967295, 0.5, 1e-7, 2.5e12])).toBe('[1, -2147483648, 4294967295, 0.500000, 1.000000e-07, 2500000000000]');
    expect(srjsonPrint({ s: 'a"b\\c\n\u0001' })).toBe('{\n\t"s":\t"a\\"b\\\\c\\n\\u0001"\n}');
    expect(srjsonPrint({})).toBe('{\n}');
  });
  it('always JSON that parses', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(() => JSON.parse(srjsonPrint(v))).not.toThrow();
    }), { numRuns: 300 });
  });
});

describe('FIFO document splitter', () => {
  const doc = fc.jsonValue().map((v) => JSON.stringify({ jsonrpc: '2.0', method: 'x', params: [v, "q'uote", '{"'], id: 1 }));
  it('any cut of a stream of documents gives the documents', () => {
    fc.assert(fc.property(fc.array(doc, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (docs, cuts) => {
      const bytes = Buffer.from(docs.map((d) => `${d}\n`).join(''));
      const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const sp = new JsonDocSplitter();
      const out: unknown[] = [];
      let prev = 0;
      for (const c of [...at, bytes.length]) {
        out.push(...sp.push(bytes.subarray(prev, c)));
        prev = c;
      }
      expect(out.map((d) => (typeof d === 'string' ? d.trim() : d))).toEqual(docs);
    }), { numRuns: 300 });
  });
  it('drops an oversized document and goes on', () => {
    const sp = new JsonDocSplitter(100);
    const out = sp.push(Buffer.from(`{"a":"${'x'.repeat(500)}"}\n{"b":1}`));
    expect(out).toEqual([{ dropped: 508 }, '\n{"b":1}']);
  });
});

describe('FIFO and unix datagram socket served from a registry', () => {
  let dir: string;
  let ctl: LocalControl;
  const reg = createRegistry();
  register(reg, 'ul.dump', 'dump', (p) => ({ Domains: [{ Domain: { Domain: 'location', Size: 1024, AoRs: [{ AoR: p[0] === 'brief' ? 'alice' : 'bob' }] } }] }));
  register(reg, 'test.fail', 'fails', () => {
    throw new RpcError(500, 'AOR not found in location table');
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdmq-jsonrpcs-'));
    ctl = await startLocalControl(reg, { jsonrpcs: { fifo_name: join(dir, 'rpc.fifo'), fifo_mode: 660, fifo_reply_dir: dir, dgram_socket: join(dir, 'rpc.sock'), dgram_mode: 620 } }, silentLog);
  });
  afterAll(async () => {
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates them with their modes', () => {
    expect(statSync(join(dir, 'rpc.fifo')).isFIFO()).toBe(true);
    expect(statSync(join(dir, 'rpc.fifo')).mode & 0o777).toBe(0o660);
    expect(statSync(join(dir, 'rpc.sock')).isSocket()).toBe(true);
    expect(statSync(join(dir, 'rpc.sock')).mode & 0o777).toBe(0o620);
    expect(ctl.addresses).toEqual([`fifo:${join(dir, 'rpc.fifo')}`, `unixd:${join(dir, 'rpc.sock')}`]);
  });

  it('answers over the FIFO and the datagram socket as jsonrpcs lays it out', async () => {
    const want = srjsonPrint({ jsonrpc: '2.0', result: { Domains: [{ Domain: { Domain: 'location', Size: 1024, AoRs: [{ AoR: 'alice' }] } }] }, id: 1 });
    expect(await fifoRpc(join(dir, 'rpc.fifo'), dir, 'ul.dump', ['brief'])).toBe(want);
    expect(await dgramRpc(join(dir, 'rpc.sock'), dir, 'ul.dump', ['brief'])).toBe(want);
    const err = srjsonPrint({ jsonrpc: '2.0', error: { code: 500, message: 'AOR not found in location table' }, id: 1 });
    expect(await fifoRpc(join(dir, 'rpc.fifo'), dir, 'test.fail')).toBe(err);
    expect(await dgramRpc(join(dir, 'rpc.sock'), dir, 'test.fail')).toBe(err);
  });

  it('several FIFO requests at once are each answered on their own reply FIFO', async () => {
    const all = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => fifoRpc(join(dir, 'rpc.fifo'), dir, 'ul.dump', i % 2 ? ['brief'] : [])));
    expect(all.map((t) => (JSON.parse(t) as { result: { Domains: Array<{ Domain: { AoRs: Array<{ AoR: string }> } }> } }).result.Domains[0].Domain.AoRs[0].AoR))
      .toEqual(['bob', 'alice', 'bob', 'alice', 'bob', 'alice']);
  });
});
