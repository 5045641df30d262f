// htable body codec (protocol reference §6.2–6.4): round trip, §6.3 key order and emission rules,
// `cells` first-key dispatch, 32-bit integers, strict operation keys, batching, never-throws.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchHtableCells,
  formatHtableBody,
  parseHtableBody,
  type HtableCell,
  type HtableMessage,
  type HtableValue,
} from '../../../src/actors/channels/htable-body.ts';

const str = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'a"b\\c', '\u0000\r\n'));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const value: fc.Arbitrary<HtableValue> = fc.oneof(
  fc.record({ type: fc.constant(0 as const), intval: int32 }),
  fc.record({ type: fc.constant(2 as const), strval: str }),
);
const mode = fc.constantFrom(0, 1);
const cell: fc.Arbitrary<HtableCell> = fc.record({ htname: str, cname: str, value, expire: fc.oneof(fc.constant(0), fc.nat(), fc.integer({ min: 0, max: 2 ** 33 })) });
const message: fc.Arbitrary<HtableMessage> = fc.oneof(
  fc.constant({ action: 1 as const }),
  fc.record({ action: fc.constantFrom(2 as const, 3 as const), htname: str, cname: str, value, mode }),
  fc.record({ action: fc.constant(4 as const), htname: str, cname: str, mode }),
  fc.record({ action: fc.constantFrom(5 as const, 6 as const), htname: str, value, mode }),
  fc.record({ cells: fc.array(cell, { maxLength: 5 }) }),
);

describe('htable body round trip and exact format', () => {
  it('parse(format(m)) = m', () => {
    fc.assert(
      fc.property(message, (m) => {
        const text = formatHtableBody(m);
        expect(parseHtableBody(text)).toEqual({ ok: true, value: m });
        expect(text).not.toMatch(/:null[,}]/);
      }),
    );
  });

  it.each<[HtableMessage, string]>([
    [{ action: 2, htname: 't', cname: 'k1', value: { type: 2, strval: 'hello' }, mode: 1 }, '{"action":2,"htname":"t","cname":"k1","type":2,"strval":"hello","mode":1}'],
    [{ action: 2, htname: 'p', cname: 'n1', value: { type: 0, intval: 42 }, mode: 1 }, '{"action":2,"htname":"p","cname":"n1","type":0,"intval":42,"mode":1}'],
    [{ action: 3, htname: 't', cname: 'k1', value: { type: 0, intval: 120 }, mode: 0 }, '{"action":3,"htname":"t","cname":"k1","type":0,"intval":120,"mode":0}'],
    [{ action: 4, htname: 'p', cname: 'n1', mode: 0 }, '{"action":4,"htname":"p","cname":"n1","mode":0}'],
    [{ action: 5, htname: 't', value: { type: 2, strval: '^k.*' }, mode: 0 }, '{"action":5,"htname":"t","type":2,"strval":"^k.*","mode":0}'],
    [{ action: 6, htname: 't', value: { type: 2, strval: 'k' }, mode: 0 }, '{"action":6,"htname":"t","type":2,"strval":"k","mode":0}'],
    [{ action: 1 }, '{"action":1}'],
    [{ action: 2, htname: 't', cname: 'k', value: { type: 2, strval: 'a"b\\c' }, mode: 1 }, '{"action":2,"htname":"t","cname":"k","type":2,"strval":"a\\"b\\\\c","mode":1}'],
    [
      { cells: [{ htname: 'p', cname: 'n2', value: { type: 0, intval: 7 }, expire: 0 }, { htname: 't', cname: 'k2', value: { type: 2, strval: 'world' }, expire: 1795688708 }] },
      '{"cells":[{"htname":"p","cname":"n2","type":0,"intval":7,"expire":0},{"htname":"t","cname":"k2","type":2,"strval":"world","expire":1795688708}]}',
    ],
    [{ cells: [] }, '{"cells":[]}'],
  ])('§6.3/§6.4 example %#', (m, text) => {
    expect(formatHtableBody(m)).toBe(text);
    expect(parseHtableBody(text)).toEqual({ ok: true, value: m });
  });

  it('follows the action, not stray fields, when deciding what to emit', () => {
    const stray = { action: 5, htname: 't', cname: 'zzz', value: { type: 2, strval: 'k' }, mode: 0 } as HtableMessage;
    expect(formatHtableBody(stray)).toBe('{"action":5,"htname":"t","type":2,"strval":"k","mode":0}');
  });

  it('refuses to write an integer outside 32 bits (broken invariant)', () => {
    expect(() => formatHtableBody({ action: 2, htname: 't', cname: 'k', value: { type: 0, intval: 2 ** 31 }, mode: 1 })).toThrow(RangeError);
  });
});

describe('htable body reader', () => {
  it('recognises cells by the first key only', () => {
    expect(parseHtableBody('{"cells":[],"action":1}')).toEqual({ ok: true, value: { cells: [] } });
    expect(parseHtableBody('{"action":1,"cells":[]}').ok).toBe(false); // `cells` is no operation key
  });

  it('ignores unknown keys inside cells, as Kamailio only warns', () => {
    expect(parseHtableBody('{"cells":[{"htname":"t","cname":"k","type":0,"intval":1,"expire":5,"x":1}]}')).toEqual({
      ok: true,
      value: { cells: [{ htname: 't', cname: 'k', value: { type: 0, intval: 1 }, expire: 5 }] },
    });
  });

  it.each([
    ['empty', ''],
    ['not an object', '[1]'],
    ['empty object', '{}'],
    ['unknown key in an operation (Kamailio: 400)', '{"action":4,"htname":"p","cname":"n1","mode":0,"x":1}'],
    ['action 0', '{"action":0}'],
    ['action 7 (6.0 numbering)', '{"action":7,"htname":"t","type":2,"strval":"k","mode":0}'],
    ['type 2 without strval', '{"action":2,"htname":"t","cname":"k","type":2,"mode":1}'],
    ['type 0 with strval only', '{"action":2,"htname":"t","cname":"k","type":0,"strval":"1","mode":1}'],
    ['unknown type', '{"action":2,"htname":"t","cname":"k","type":1,"intval":1,"mode":1}'],
    ['intval past 32 bits', '{"action":2,"htname":"t","cname":"k","type":0,"intval":2147483648,"mode":1}'],
    ['missing htname', '{"action":4,"cname":"n1","mode":0}'],
    ['missing cname', '{"action":2,"htname":"t","type":0,"intval":1,"mode":1}'],
    ['missing mode', '{"action":4,"htname":"p","cname":"n1"}'],
    ['htname null', '{"action":4,"htname":null,"cname":"n1","mode":0}'],
    ['cells not an array', '{"cells":{}}'],
    ['cell without expire', '{"cells":[{"htname":"t","cname":"k","type":0,"intval":1}]}'],
    ['cell not an object', '{"cells":[1]}'],
  ])('refuses %s', (_n, text) => {
    expect(parseHtableBody(text).ok).toBe(false);
  });

  it('never throws, on any string or JSON value', () => {
    const keys = fc.constantFrom('action', 'cells', 'htname', 'cname', 'type', 'intval', 'strval', 'mode', 'expire', '__proto__');
    const jsonish = fc.oneof(
      fc.json(),
      fc.dictionary(keys, fc.jsonValue()).map((o) => JSON.stringify(o)),
      fc.array(fc.dictionary(keys, fc.jsonValue())).map((c) => JSON.stringify({ cells: c })),
      fc.string({ unit: 'binary' }),
    );
    fc.assert(fc.property(jsonish, (s) => typeof parseHtableBody(s).ok === 'boolean'), { numRuns: 1000 });
  });
});

describe('batchHtableCells', () => {
  it('every body within maxBytes, all cells once and in order, greedy', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 40 }), fc.integer({ min: 40, max: 3000 }), (cells, maxBytes) => {
        const { bodies, tooLarge } = batchHtableCells(cells, maxBytes);
        const back: HtableCell[][] = bodies.map((b) => {
          expect(Buffer.byteLength(b)).toBeLessThanOrEqual(Math.max(maxBytes, '{"cells":[]}'.length));
          const r = parseHtableBody(b);
          if (!r.ok || !('cells' in r.value)) throw new Error(`not a cells body: ${b}`);
          return r.value.cells;
        });
        expect(back.flat()).toEqual(cells.filter((c) => !tooLarge.includes(c)));
        for (const c of tooLarge) expect(Buffer.byteLength(formatHtableBody({ cells: [c] }))).toBeGreaterThan(maxBytes);
        for (let i = 0; i + 1 < back.length; i++) {
          const grown = formatHtableBody({ cells: [...back[i]!, back[i + 1]![0]!] });
          expect(Buffer.byteLength(grown)).toBeGreaterThan(maxBytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('no cells gives one {"cells":[]}, as Kamailio sends', () => {
    expect(batchHtableCells([], 60000)).toEqual({ bodies: ['{"cells":[]}'], tooLarge: [] });
  });

  it('caps bodies at 60000 bytes', () => {
    const cells = Array.from({ length: 100 }, (_, i): HtableCell => ({ htname: 't', cname: `k${i}`, value: { type: 2, strval: 'v'.repeat(2000) }, expire: 0 }));
    const { bodies } = batchHtableCells(cells, 1e9);
    expect(bodies.length).toBe(4);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(60000);
  });
});
