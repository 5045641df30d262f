// The CLI's Log port: one JSON object per line on stdout (pino's shape: level, time, msg,
// fields), or a readable line when stdout is a TTY. Level from --log-level.

import { LEVELS, type Log, type LogLevel } from '../ports/log.ts';

const PINO_LEVEL: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function createLogger(level: LogLevel, out: NodeJS.WritableStream = process.stdout, pretty = Boolean((out as NodeJS.WriteStream).isTTY)): Log {
  const min = LEVELS[level];
  return {
    log(l, msg, fields) {
      if (LEVELS[l] < min) return;
      const time = Date.now();
      if (pretty) {
        const extra = fields ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '';
        out.write(`${new Date(time).toISOString()} ${l.toUpperCase().padEnd(5)} ${msg}${extra}\n`);
      } else {
        out.write(JSON.stringify({ level: PINO_LEVEL[l], time, msg, ...fields }) + '\n');
      }
    },
  };
}

export function isLogLevel(s: string): s is LogLevel {
  return s in LEVELS;
}
