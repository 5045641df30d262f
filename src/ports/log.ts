// The Log port: structured events out of the node (membership changes, syncs, rejected
// senders). The CLI writes JSON lines (or readable text on a TTY); tests and the simulator
// collect or drop them. Nothing in src/actors writes to stdout directly.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Log {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

export const silentLog: Log = { log: () => {} };

export const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
