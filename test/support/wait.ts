// Polling helper shared by tests and benchmarks: waitFor() re-runs a probe until it yields a
// value (anything but undefined/false) or a deadline passes, then throws naming what it waited
// for and the last value seen. Use it instead of fixed sleeps.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
  /** Human description used in the timeout error, e.g. "node B lists node A active". */
  what: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    message: string,
    readonly lastValue: unknown,
    readonly lastError: unknown,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/** Thrown by a probe to stop waiting at once (e.g. the process under test has exited). */
export class WaitAbortError extends Error {
  override name = 'WaitAbortError';
}

function show(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
  } catch {
    return String(v);
  }
}

/**
 * Poll `fn` until it returns something other than `undefined`/`false`; return that value.
 * Errors thrown by `fn` count as "not yet" (the last one is reported on timeout), except
 * WaitAbortError, which ends the wait at once.
 * The probe always runs at least once, even with timeoutMs 0.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  let lastErr: unknown = undefined;
  let probes = 0;
  for (;;) {
    probes++;
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
      last = v;
      lastErr = undefined;
    } catch (e) {
      if (e instanceof WaitAbortError) throw new Error(`gave up waiting for ${opts.what}: ${e.message}`, { cause: e });
      lastErr = e;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await delay(Math.min(intervalMs, left));
  }
  const detail = lastErr !== undefined ? `last error: ${show(lastErr)}` : `last value: ${show(last)}`;
  throw new WaitTimeoutError(
    `timed out after ${timeoutMs} ms (${probes} probes) waiting for ${opts.what}; ${detail}`,
    last,
    lastErr,
  );
}
