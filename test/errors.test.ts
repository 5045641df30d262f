// The error catalog against its documentation (issue #16 item 5), as fastify's test of
// lib/errors.js against docs/Reference/Errors.md: every code of src/errors.ts is documented in
// specs/errors.md with the same message and number, every documented code exists; and the places
// that build these errors give the catalog's text, byte for byte what they gave before.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, errorText, type ErrorCode } from '../src/errors.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createRegistry, dispatch, rpcError } from '../src/control/rpc.ts';
import { parseMessage } from '../src/sip/index.ts';
import { badRequestReason } from '../src/transport/request-limits.ts';

const doc = readFileSync(new URL('../specs/errors.md', import.meta.url), 'utf8');

interface Documented {
  section: string;
  message: string;
  field: string;
  value: string;
}

function documented(): Map<string, Documented> {
  const out = new Map<string, Documented>();
  let section = '';
  const lines = doc.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) section = lines[i].slice(3);
    const h = /^### (\S+)$/.exec(lines[i]);
    if (!h) continue;
    const msg = /^- message: `(.*)`$/.exec(lines[i + 2] ?? '');
    const num = /^- (exit|code|status|counter): `?(.*?)`?$/.exec(lines[i + 3] ?? '');
    expect(msg, `${h[1]}: "- message: \`…\`" two lines below the heading`).not.toBeNull();
    expect(num, `${h[1]}: "- exit|code|status|counter: …" under the message`).not.toBeNull();
    expect(out.has(h[1]), `${h[1]} documented twice`).toBe(false);
    out.set(h[1], { section, message: msg![1], field: num![1], value: num![2] });
  }
  return out;
}

const SECTION = { config: 'Config errors', rpc: 'RPC errors', sip: 'Protocol errors', drop: 'Counted drops' } as const;
const FIELD = { config: 'exit', rpc: 'code', sip: 'status', drop: 'counter' } as const;

describe('specs/errors.md documents the catalog', () => {
  const docs = documented();
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it('every code of the catalog, with its message, number and section', () => {
    for (const code of codes) {
      const e = ERRORS[code] as { kind: keyof typeof SECTION; message: string; status?: number; counter?: string };
      const d = docs.get(code);
      expect(d, `${code} is not in specs/errors.md`).toBeDefined();
      expect(d!.message, code).toBe(e.message);
      expect(d!.section, code).toBe(SECTION[e.kind]);
      expect(d!.field, code).toBe(FIELD[e.kind]);
      expect(d!.value, code).toBe(e.kind === 'drop' ? e.counter : String(e.status));
    }
  });

  it('every documented code exists', () => {
    expect([...docs.keys()].filter((c) => !(c in ERRORS))).toEqual([]);
  });

  it('codes are KDMQ_<AREA>_<NAME> and config errors exit 2', () => {
    for (const code of codes) {
      expect(code).toMatch(/^KDMQ_(CONFIG|RPC|SIP|DROP)_[A-Z0-9_]+$/);
      expect(code.split('_')[1].toLowerCase()).toBe(ERRORS[code].kind === 'sip' ? 'sip' : ERRORS[code].kind);
      if (ERRORS[code].kind === 'config') expect(ERRORS[code].status).toBe(2);
    }
  });
});

describe('errorText fills the template', () => {
  it('in order, as given, and leaves a message without %s alone', () => {
    expect(errorText('KDMQ_CONFIG_TYPE', 'dmq.ping_interval', 'an integer >= 1', '0')).toBe('config key dmq.ping_interval: expected an integer >= 1, got 0');
    expect(errorText('KDMQ_SIP_CSEQ_METHOD', 'INVITE', 'REGISTER')).toBe('CSeq method INVITE does not match REGISTER');
    expect(errorText('KDMQ_CONFIG_SET_SYNTAX', '%s$&')).toBe('--set %s$&: expected key.path=value');
    expect(errorText('KDMQ_RPC_INVALID_PARAMS')).toBe('Invalid Parameters');
  });
});

describe('the errors kdmq builds are the catalog\'s, with the same bytes as before', () => {
  it('config: the line names the key', () => {
    expect(loadConfigText('dmq: { bogus: 1 }')).toEqual({ ok: false, error: 'config key dmq.bogus: unknown key' });
    expect(loadConfigText('dmq: { ping_interval: "x" }')).toEqual({ ok: false, error: 'config key dmq.ping_interval: expected an integer, got "x"' });
    expect(loadConfigText('listen: [ "udp:1.2.3:5060" ]')).toEqual({
      ok: false, error: 'config key listen: "udp:1.2.3:5060" is not udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT',
    });
    expect(loadConfigText('{}', ['nokey'])).toEqual({ ok: false, error: '--set nokey: expected key.path=value' });
    expect(loadConfigText('[1]')).toEqual({ ok: false, error: 'config key (top level): expected a mapping, got [1]' });
  });

  it('RPC: JSON-RPC answers and method faults', async () => {
    const reg = createRegistry();
    expect(await dispatch(reg, '{')).toBe('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}');
    expect(await dispatch(reg, '[]')).toBe('{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}');
    expect(await dispatch(reg, '{"id":3}')).toBe('{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":3}');
    expect(await dispatch(reg, '{"method":"no.such","id":1}')).toBe('{"jsonrpc":"2.0","error":{"code":500,"message":"Method Not Found"},"id":1}');
    expect(await dispatch(reg, '{"method":"system.methodHelp","params":["x"],"id":2}')).toBe('{"jsonrpc":"2.0","error":{"code":500,"message":"command not found"},"id":2}');
    const e = rpcError('KDMQ_RPC_HTABLE_KEY_NOT_FOUND');
    expect([e.code, e.message, e.kdmqCode]).toEqual([404, 'Key not found in htable.', 'KDMQ_RPC_HTABLE_KEY_NOT_FOUND']);
  });

  it('protocol: the parse error is the 400 reason', () => {
    const bad = parseMessage('REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nContent-Length: 10\r\n\r\nabc');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(badRequestReason(bad.error)).toBe('body shorter than Content-Length (3 < 10)');
    const empty = parseMessage('\r\n\r\n');
    expect(empty.ok ? '' : empty.error).toBe('empty message');
    expect(badRequestReason('')).toBe('Bad Request');
  });
});
