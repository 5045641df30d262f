// The CLI's Log port on pino: JSON lines with level/time/msg/fields, level filtering, and the
// readable TTY format.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel, prettyLine } from '../../src/cli/logger.ts';

function capture(level: 'debug' | 'info' | 'warn' | 'error', pretty = false) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { log: createLogger(level, out, pretty), text: () => text };
}

describe('logger', () => {
  it('writes one pino JSON object per line, with the fields', () => {
    const c = capture('info');
    c.log.log('info', 'membership change', { node: '127.0.0.2:5090', from: 'pending', to: 'active' });
    c.log.log('warn', 'rejected KDMQ sender', { source: '10.0.0.1:5090' });
    const lines = c.text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'membership change', node: '127.0.0.2:5090', from: 'pending', to: 'active', pid: process.pid });
    expect(typeof lines[0].time).toBe('number');
    expect(lines[1]).toMatchObject({ level: 40, msg: 'rejected KDMQ sender' });
  });

  it('drops lines below --log-level', () => {
    const c = capture('warn');
    c.log.log('debug', 'a');
    c.log.log('info', 'b');
    c.log.log('error', 'c');
    expect(c.text().trim().split('\n').map((l) => JSON.parse(l).msg)).toEqual(['c']);
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
  });

  it('is readable when pretty (a TTY)', () => {
    const c = capture('debug', true);
    c.log.log('info', 'kdmq ready', { listen: ['udp:127.0.0.1:5060'], rpc: 'http://127.0.0.1:8060/RPC' });
    expect(c.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  kdmq ready listen=\["udp:127\.0\.0\.1:5060"\] rpc=http:\/\/127\.0\.0\.1:8060\/RPC\n$/);
    expect(prettyLine('not json')).toBe('not json\n');
  });
});
