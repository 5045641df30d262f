// The bench framework's verdicts (bench/lib.ts): every run must meet a target, ratio targets pair
// kdmq and Kamailio of the same run, and a row's work note is built from the runs. Also the
// streaming end-of-JSON scan of the Kamailio FIFO reader (bench/support/kam-fifo.ts).
import { describe, expect, it } from 'vitest';
import { runRatios, summarize, type Figure } from '../../bench/lib.ts';
import { targetText } from '../../bench/report.ts';
import { JsonEnd } from '../../bench/support/kam-fifo.ts';

const fig = (rows: Figure['rows']): Figure => ({ id: 'f', title: 't', runs: () => 3, rows, run: async () => ({}) });

describe('bench verdicts', () => {
  it('a ratio target judges kdmq / Kamailio of each run, the worst run deciding', () => {
    const f = fig(() => [{ label: 'cpu', unit: 'µs', kdmq: 'k', kamailio: 'm', target: { cmp: '<=', value: 0.4, ratio: true } }]);
    const pass = summarize(f, false, [{ k: 30, m: 100 }, { k: 40, m: 100 }, { k: 20, m: 90 }])[0];
    expect(pass.verdict).toBe('PASS (every run)');
    expect(pass.runRatios).toEqual([0.3, 0.4, 20 / 90]);
    // medians 35 / 100 would pass; run 2 alone is 0.5×
    const worst = summarize(f, false, [{ k: 30, m: 100 }, { k: 50, m: 100 }, { k: 35, m: 100 }])[0];
    expect(worst.verdict).toBe('FAIL (median meets it, the worst run does not)');
    const missing = summarize(f, false, [{ k: 30, m: 100 }, { k: 30, m: null }, { k: 35, m: 100 }])[0];
    expect(missing.verdict).toMatch(/^FAIL \(1 of 3 runs without both values\)/);
    expect(targetText(pass)).toBe('≤ 0.4× Kamailio (each run)');
  });

  it('≤ accepts the bound itself, < does not', () => {
    const le = summarize(fig(() => [{ label: 'x', unit: 's', kdmq: 'k', target: { cmp: '<=', value: 2 } }]), false, [{ k: 2 }, { k: 1.8 }, { k: 2 }])[0];
    const lt = summarize(fig(() => [{ label: 'x', unit: 's', kdmq: 'k', target: { cmp: '<', value: 2 } }]), false, [{ k: 2 }, { k: 1.8 }, { k: 2 }])[0];
    expect([le.verdict, lt.verdict]).toEqual(['PASS (every run)', 'FAIL']);
  });

  it('fills a row\'s work note from the runs', () => {
    const f = fig(() => [{ label: 'x', unit: '', kdmq: 'k', work: (runs) => `${runs.map((r) => r.d).join('+')} datagrams` }]);
    expect(summarize(f, false, [{ k: 1, d: 10 }, { k: 1, d: 12 }, { k: 1, d: 11 }])[0].work).toBe('10+12+11 datagrams');
    expect(runRatios([1, null, 3], [2, 2, 0])).toEqual([0.5, null, null]);
  });
});

describe('JsonEnd', () => {
  it('finds the end of a JSON text across chunks, ignoring braces in strings', () => {
    const text = '{"result":{"a":"x}]\\"{","b":[1,{"c":2}]},"id":1}\n';
    for (const cut of [1, 5, 13, 20, text.length - 2]) {
      const e = new JsonEnd();
      expect(e.feed(Buffer.from(text.slice(0, cut)))).toBe(false);
      expect(e.feed(Buffer.from(text.slice(cut)))).toBe(true);
    }
  });
});
