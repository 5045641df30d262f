// The bench's REGISTER ladder walk (bench/support/ladder.ts `bracket`): from the start step it
// steps up while steps hold and down while they do not, tries each step at most once, and returns
// the highest held rate with the step above it tried and not held (or the end of the list); the
// first step and every step walking down get a fresh node.
import { describe, expect, it } from 'vitest';
import { bracket, extendSteps, startIndex } from '../../bench/support/ladder.ts';

const STEPS = [2000, 4000, 6000, 8000, 10_000, 12_000];

/** A node that holds every rate ≤ capacity; records the rates tried. */
async function walk(start: number, capacity: number): Promise<{ held: number; tried: number[]; fresh: number[] }> {
  const tried: number[] = [];
  const fresh: number[] = [];
  const held = await bracket(STEPS, startIndex(STEPS, start), async (r, isFresh) => {
    tried.push(r);
    if (isFresh) fresh.push(r);
    return r <= capacity;
  });
  return { held, tried, fresh };
}

describe('bench ladder bracket', () => {
  it('confirms the start and steps up until a step is not held', async () => {
    expect(await walk(8000, 10_000)).toEqual({ held: 10_000, tried: [8000, 10_000, 12_000], fresh: [8000] });
    expect(await walk(10_000, 10_000)).toEqual({ held: 10_000, tried: [10_000, 12_000], fresh: [10_000] });
  });

  it('walks down when the first step is not held, each lower step on a fresh node', async () => {
    expect(await walk(10_000, 6000)).toEqual({ held: 6000, tried: [10_000, 8000, 6000], fresh: [10_000, 8000, 6000] });
  });

  it('stops at the ends of the list', async () => {
    expect(await walk(10_000, 50_000)).toEqual({ held: 12_000, tried: [10_000, 12_000], fresh: [10_000] });
    expect(await walk(4000, 0)).toEqual({ held: 0, tried: [4000, 2000], fresh: [4000, 2000] });
  });

  it('finds the same held rate from any start, trying each step once', async () => {
    for (const cap of [0, 2000, 5000, 8000, 12_000, 20_000])
      for (const start of [0, ...STEPS]) {
        const r = await walk(start, cap);
        expect(r.held).toBe(STEPS.filter((s) => s <= cap).pop() ?? 0);
        expect(new Set(r.tried).size).toBe(r.tried.length);
      }
  });

  it('rounds the start down to a step', () => {
    expect(startIndex(STEPS, undefined)).toBe(0);
    expect(startIndex(STEPS, 500)).toBe(0);
    expect(startIndex(STEPS, 9000)).toBe(3);
    expect(startIndex(STEPS, 99_000)).toBe(5);
  });

  it('adds steps above the top (its last increment) up to the maximum, so a ladder ends on a failed step', async () => {
    expect(extendSteps(STEPS, undefined)).toEqual(STEPS);
    expect(extendSteps(STEPS, 17_000)).toEqual([...STEPS, 14_000, 16_000]);
    const long = extendSteps(STEPS, 40_000);
    const tried: number[] = [];
    const held = await bracket(long, startIndex(long, 10_000), async (r) => (tried.push(r), r <= 21_000));
    expect(held).toBe(20_000);
    expect(tried).toEqual([10_000, 12_000, 14_000, 16_000, 18_000, 20_000, 22_000]);
    // still held at the maximum: the walk stops there (the figure reports ceiling)
    expect(await bracket(long, startIndex(long, 36_000), async () => true)).toBe(40_000);
  });
});
