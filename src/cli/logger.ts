// The CLI's Log port, on pino: one JSON object per line (pino's shape: level, time, pid,
// hostname, msg, then the fields), or a readable line when the output is a TTY (a small built-in
// formatter; pino-pretty is not a dependency). Level from --log-level. Writes are synchronous, so
// nothing is lost when the process exits right after a line.

import pino, { type DestinationStream, type Logger } from 'pino';
import { LEVELS, type Log, type LogLevel } from '../ports/log.ts';

const LEVEL_NAME: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOR: Record<number, string> = { 20: '\x1b[90m', 30: '\x1b[32m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };

/** one pino JSON line → `HH:MM:SS.mmm LEVEL msg key=value …` */
export function prettyLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const { level, time, msg, pid: _pid, hostname: _h, ...fields } = o;
  const lv = Number(level);
  const name = (LEVEL_NAME[lv] ?? String(level)).padEnd(5);
  const t = new Date(Number(time)).toISOString().slice(11, 23);
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const head = color ? `${COLOR[lv] ?? ''}${name}\x1b[0m` : name;
  return `${t} ${head} ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`;
}

function prettyStream(out: NodeJS.WritableStream, color: boolean): DestinationStream {
  return { write: (s: string) => void out.write(prettyLine(s.trimEnd(), color)) };
}

export interface CliLog extends Log {
  /** the underlying pino logger */
  readonly pino: Logger;
}

export function createLogger(level: LogLevel, out: NodeJS.WritableStream = process.stdout, pretty = Boolean((out as NodeJS.WriteStream).isTTY)): CliLog {
  const dest: DestinationStream = pretty
    ? prettyStream(out, Boolean((out as NodeJS.WriteStream).isTTY))
    : out === process.stdout
      ? pino.destination({ dest: 1, sync: true })
      : { write: (s: string) => void out.write(s) };
  const logger = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  return {
    pino: logger,
    log(l, msg, fields) {
      if (LEVELS[l] < LEVELS[level]) return;
      if (fields) logger[l](fields, msg);
      else logger[l](msg);
    },
  };
}

export function isLogLevel(s: string): s is LogLevel {
  return s in LEVELS;
}
