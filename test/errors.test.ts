// The error catalog against its documentation (issue #16 item 5), as fastify's test of
// lib/errors.js against docs/Reference/Errors.md: every code of src/errors.ts is documented in
// specs/errors.md with the same message and number, every documented code exists; and the places
// that build these errors give the catalog's text, byte for byte what they gave before.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, errorText, type ErrorCode } from '../src/errors.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createRegistry, dispatch, rpcError } from '../src/control/rpc.ts';
import { parseMessage } from '../src/sip/index.ts';
import { badRequestReason } from '../src/transport/request-limits.ts';
import { openAuth } from '../src/cli/auth-setup.ts';
import { registerUlMethods } from '../src/control/ul-methods.ts';
import { registerSiptraceMethods } from '../src/control/siptrace-methods.ts';
import { startRpcServer } from '../src/control/rpc-http.ts';
import { Registrar } from '../src/registrar/registrar.ts';
import { parseContacts, parseCSeq, parseNameAddr, parseVia } from '../src/sip/headers.ts';
import { VirtualClock } from '../src/ports/virtual-clock.ts';
import { SeededRandom } from '../src/ports/random.ts';
import { silentLog } from '../src/ports/log.ts';

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

describe('the catalog\'s newer codes give the bytes kdmq gave before', () => {
  it('config: the auth: section and the databases', () => {
    const err = (yaml: string) => { const r = loadConfigText(yaml); return r.ok ? null : r.error; };
    expect(err('auth: { db_url: "sqlite:///a.db", users_file: "u.txt" }')).toBe('config key auth.users_file: set auth.db_url or auth.users_file, not both');
    expect(err('auth: { db_url: "mysql://k:p@h/kamailio" }')).toBe('config key auth.db_url: mysql:// is not supported (sqlite:////absolute/path.db or postgres://user:pass@host:port/db)');
    expect(err('usrloc: { db_url: "nope" }')).toBe('config key usrloc.db_url: "nope" is not sqlite:////absolute/path.db (or sqlite:///relative/path.db) or postgres://user:pass@host:port/db');
    expect(err('auth: { enable: true }')).toBe('config key auth.enable: needs auth.db_url (the subscriber table) or auth.users_file');
    expect(err('auth: { users_file: "" }')).toBe('config key auth.users_file: expected a file name, got ""');
    expect(err('auth: { users_file: "u.txt", algorithms: [md5, MD5] }')).toBe('config key auth.algorithms: ["MD5","MD5"] names one twice');
    expect(err('auth: { users_file: "u.txt", algorithms: [sha1] }')).toBe('config key auth.algorithms: expected MD5 or SHA-256, got "SHA1"');
    expect(err('auth: { users_file: "u.txt", secret: "short" }')).toBe('config key auth.secret: needs 16 or more characters');
  });

  it('config: the users file kdmq serve reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-errors-'));
    try {
      const open = (users_file: string) => {
        const c = loadConfigText(`auth: { enable: true, users_file: ${JSON.stringify(users_file)} }`);
        if (!c.ok) throw new Error(c.error);
        const r = openAuth(c.config, { clock: new VirtualClock(), log: silentLog });
        return r.ok ? null : r.error;
      };
      writeFileSync(join(dir, 'empty.txt'), '# nobody\n\n');
      expect(open(join(dir, 'empty.txt'))).toBe(`config key auth.users_file: no user@domain:password lines in ${join(dir, 'empty.txt')}`);
      expect(open(join(dir, 'absent.txt'))).toBe(`config key auth.users_file: cannot read ${join(dir, 'absent.txt')}: ENOENT`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('RPC: ul.* and siptrace.status faults', async () => {
    const reg = createRegistry();
    const clock = new VirtualClock();
    const config = { default_expires: 3600, min_expires: 60, max_expires: 0, max_contacts: 0, use_domain: true };
    registerUlMethods(reg, new Registrar({ clock, random: new SeededRandom('errors'), config, nodeId: 'n1' }));
    const call = async (method: string, params: unknown[]) => JSON.parse(await dispatch(reg, JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }))).error;
    expect(await call('ul.lookup', [])).toEqual({ code: 500, message: 'Not enough parameters (table and AOR to lookup)' });
    expect(await call('ul.lookup', ['domain', 'a@x'])).toEqual({ code: 500, message: 'Domain table not found' });
    expect(await call('ul.lookup', ['location', 'a'])).toEqual({ code: 500, message: 'Domain missing in AOR' });
    expect(await call('ul.lookup', ['location', 'a@x'])).toEqual({ code: 500, message: 'AOR not found in location table' });
    expect(await call('ul.rm_contact', ['location', 'a@x'])).toEqual({ code: 500, message: 'Not enough parameters (table, AOR and contact)' });
    expect(await call('ul.rm_contact', ['location', 'a@x', 'sip:a@h'])).toEqual({ code: 404, message: 'AOR not found' });
    const mirror = { enabled: false, counters: { copied: 0, dropped: 0, unencodable: 0, tracedRequests: 0, tracedReplies: 0 } };
    registerSiptraceMethods(reg, mirror, { sent: 0, sendErrors: 0, queued: 0 });
    expect(await call('siptrace.status', [])).toEqual({ code: 500, message: 'Not enough parameters (on, off or check)' });
    expect(await call('siptrace.status', ['maybe'])).toEqual({ code: 500, message: 'Bad parameter (on, off or check)' });
  });

  it('RPC over HTTP: the listener\'s own answers, and a bind error', async () => {
    const reg = createRegistry();
    const open = await startRpcServer(reg, '127.0.0.1:0');
    const locked = await startRpcServer(reg, '127.0.0.1:0', undefined, { token: 'a-token-of-16-chars' });
    try {
      const at = (s: { address: { port: number } }, path: string) => `http://127.0.0.1:${s.address.port}${path}`;
      const get = async (url: string, init?: RequestInit) => {
        const r = await fetch(url, init);
        return [r.status, await r.text()];
      };
      expect(await get(at(open, '/nope'))).toEqual([404, 'not found\n']);
      expect(await get(at(open, '/RPC'))).toEqual([405, 'use POST\n']);
      expect(await get(at(locked, '/RPC'), { method: 'POST', body: '{}' })).toEqual([401, '401 Unauthorized: rpc.token is set, send "Authorization: Bearer <token>"\n']);
      await expect(startRpcServer(reg, `127.0.0.1:${open.address.port}`)).rejects.toThrow(`rpc.listen 127.0.0.1:${open.address.port}: EADDRINUSE`);
    } finally {
      await open.close();
      await locked.close();
    }
  });

  it('protocol: header values', () => {
    const err = (r: { ok: boolean; error?: string }) => (r.ok ? null : r.error);
    expect(err(parseCSeq('1'))).toBe("bad CSeq '1'");
    expect(err(parseCSeq('x REGISTER'))).toBe("bad CSeq number: ''");
    expect(err(parseCSeq('4294967296 REGISTER'))).toBe('CSeq number out of range: 4294967296');
    expect(err(parseVia('SIP/2.0 host'))).toBe("bad Via 'SIP/2.0 host'");
    expect(err(parseNameAddr('"Bob <sip:b@h>'))).toBe('unterminated quoted display name');
    expect(err(parseNameAddr('"Bob" sip:b@h'))).toBe('expected < after quoted display name');
    expect(err(parseNameAddr('<sip:b@h'))).toBe('missing > in name-addr');
    expect(err(parseContacts('<sip:b@h>;q=2'))).toBe("bad q value '2'");
    expect(err(parseContacts('<sip:a@h>, "b'))).toBe('unterminated quoted string in Contact');
  });
});
