// Results to BINRPC (src/control/binrpc/shape.ts) and the request handler (handler.ts): Kamailio
// 5.6.3's own JSON answers, mapped by shape.ts, give its BINRPC answers byte for byte (captured from
// one node within one second: jsonrpcs datagram and ctl TCP); the handler answers from a registry
// with ctl's faults; parameters arrive as the registry's methods take them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePacket, encodePacket, type BinrpcValue } from '../../src/control/binrpc/codec.ts';
import { METHOD_HINTS, paramValue, resultRecords } from '../../src/control/binrpc/shape.ts';
import { answerBinrpc } from '../../src/control/binrpc/handler.ts';
import { createRegistry, register, RpcError } from '../../src/control/rpc.ts';

const pairs = JSON.parse(readFileSync(new URL('./fixtures/kamailio-5.6.3-json-binrpc-pairs.json', import.meta.url), 'utf8')) as {
  pairs: Array<{ args: string[]; json: { result?: unknown; error?: { code: number; message: string } }; binrpc: string }>;
};

const req = (cookie: number, ...vals: BinrpcValue[]) => encodePacket({ type: 'request', cookie, body: vals });
const s = (v: string): BinrpcValue => ({ t: 'str', v });

async function call(reg: ReturnType<typeof createRegistry>, bytes: Uint8Array) {
  const step = await answerBinrpc(reg, bytes);
  if (step.kind !== 'reply') throw new Error(`no reply: ${JSON.stringify(step)}`);
  const d = decodePacket(step.reply);
  if (!d.ok) throw new Error('reply does not decode');
  return { ...step, packet: d.packet };
}

describe("Kamailio's JSON answers become its BINRPC answers", () => {
  for (const p of pairs.pairs) {
    it(p.args.join(' '), () => {
      const d = decodePacket(Buffer.from(p.binrpc, 'hex'));
      if (!d.ok) throw new Error('fixture does not decode');
      if (p.json.error) {
        expect(d.packet).toEqual({ type: 'fault', cookie: d.packet.cookie, body: [{ t: 'int', v: p.json.error.code }, { t: 'str', v: p.json.error.message }] });
        return;
      }
      const mine = encodePacket({ type: 'reply', cookie: d.packet.cookie, body: resultRecords(p.json.result, METHOD_HINTS[p.args[0]]) });
      expect(Buffer.from(mine).toString('hex')).toBe(p.binrpc);
    });
  }
});

describe('results and parameters', () => {
  it('maps C ints, wrapping unsigned ones; larger and fractional numbers are doubles', () => {
    expect(resultRecords(4294967295)).toEqual([{ t: 'int', v: -1 }]);
    expect(resultRecords(2 ** 31)).toEqual([{ t: 'int', v: -(2 ** 31) }]);
    expect(resultRecords(2 ** 32)).toEqual([{ t: 'double', v: 2 ** 32 }]);
    expect(resultRecords(0.5)).toEqual([{ t: 'double', v: 0.5 }]);
    expect(resultRecords(true)).toEqual([{ t: 'int', v: 1 }]);
    expect(resultRecords(undefined)).toEqual([]);
    expect(resultRecords(null)).toEqual([]);
    expect(resultRecords([])).toEqual([]);
    expect(resultRecords({ a: null })).toEqual([{ t: 'struct', v: [{ name: 'a', value: { t: 'str', v: '<null string>' } }] }]);
  });

  it('any JSON result maps and encodes without a throw', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => encodePacket({ type: 'reply', cookie: 1, body: resultRecords(v) }).length > 0), { numRuns: 500 });
  });

  it('parameters: ints, doubles, strings as kamcmd sends them', () => {
    expect(paramValue({ t: 'int', v: 42 })).toBe(42);
    expect(paramValue({ t: 'double', v: 1.5 })).toBe(1.5);
    expect(paramValue(s('alice'))).toBe('alice');
    expect(paramValue({ t: 'struct', v: [{ name: 'a', value: { t: 'int', v: 1 } }] })).toEqual({ a: 1 });
  });
});

describe('the request handler', () => {
  const reg = createRegistry();
  const seen: unknown[][] = [];
  register(reg, 'test.echo', 'echo', (p) => (seen.push(p), { got: p }));
  register(reg, 'test.fail', 'fails', () => {
    throw new RpcError(404, 'Key not found in htable.');
  });
  register(reg, 'test.throw', 'bug', () => {
    throw new Error('boom');
  });

  it('runs the method with its parameters and keeps the cookie', async () => {
    const r = await call(reg, req(0xdeadbeef, s('test.echo'), s('location'), { t: 'int', v: 7 }));
    expect(seen.at(-1)).toEqual(['location', 7]);
    expect(r.packet).toEqual({ type: 'reply', cookie: 0xdeadbeef, body: [{ t: 'struct', v: [{ name: 'got', value: { t: 'struct', v: [{ name: null, value: s('location') }, { name: null, value: { t: 'int', v: 7 } }] } }] }] });
    expect(r.close).toBe(false);
  });

  it("answers faults as ctl: unknown command, the method's own code and text, internal errors", async () => {
    expect((await call(reg, req(1, s('no.such')))).packet.body).toEqual([{ t: 'int', v: 500 }, s('command no.such not found')]);
    expect((await call(reg, req(1, s('test.fail')))).packet.body).toEqual([{ t: 'int', v: 404 }, s('Key not found in htable.')]);
    expect((await call(reg, req(1, s('test.throw')))).packet.body).toEqual([{ t: 'int', v: 500 }, s('Internal error: boom')]);
  });

  it('refuses bad packets with 400 and closes the stream', async () => {
    const notReq = await call(reg, encodePacket({ type: 'reply', cookie: 5, body: [s('test.echo')] }));
    expect([notReq.packet.type, notReq.packet.cookie, notReq.packet.body, notReq.close]).toEqual(['fault', 5, [{ t: 'int', v: 400 }, s('bad request: corrupted packet')], true]);
    const noMethod = await call(reg, req(6, { t: 'int', v: 1 }));
    expect(noMethod.packet.body).toEqual([{ t: 'int', v: 400 }, s("bad request method: record doesn't match type")]);
    const garbage = await call(reg, Uint8Array.from([0x47, 0x45, 0x54, 0x20, 0x2f]));
    expect([garbage.packet.cookie, garbage.packet.body, garbage.consumed, garbage.close]).toEqual([0, [{ t: 'int', v: 400 }, s('bad request: corrupted packet')], 5, true]);
    const huge = await call(reg, Uint8Array.from([0xa1, 0x08, 0x01, 0x00, 0x00, 0x07]));
    expect(huge.packet.body).toEqual([{ t: 'int', v: 400 }, s('bad request: buffer too small (overflow)')]);
  });

  it('asks for the rest of a split packet, then answers it; a second packet after it is left', async () => {
    const one = req(9, s('test.echo'));
    const two = Buffer.concat([one, one]);
    for (let cut = 0; cut < one.length; cut++) expect((await answerBinrpc(reg, one.subarray(0, cut))).kind).toBe('need');
    const r = await answerBinrpc(reg, two);
    expect(r.kind === 'reply' && r.consumed).toBe(one.length);
  });
});
