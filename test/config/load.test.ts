// src/config/load.ts without a process: defaults from schema.ts, YAML and JSON input, `--set`
// overrides (nested keys, lists, YAML scalars, creating missing sections), and every error path,
// each one line naming the key or the problem: bad YAML, unknown keys, wrong types, ranges,
// listen / server_address / notification_address / rpc.listen syntax, bad --set paths.

import { describe, expect, it } from 'vitest';
import { applyOverrides, loadConfigText, parseConfigText, validateConfig } from '../../src/config/load.ts';
import type { KdmqConfig } from '../../src/config/types.ts';

function ok(text: string, sets: string[] = []): KdmqConfig {
  const r = loadConfigText(text, sets);
  if (!r.ok) throw new Error(`expected a config, got: ${r.error}`);
  return r.config;
}
function err(text: string, sets: string[] = []): string {
  const r = loadConfigText(text, sets);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.config)}`);
  expect(r.error).not.toContain('\n');
  return r.error;
}

describe('defaults', () => {
  it('an empty file (and "{}", and a comment) gives every default', () => {
    const c = ok('');
    expect(ok('{}')).toEqual(c);
    expect(ok('# nothing\n')).toEqual(c);
    expect(c.listen).toEqual(['udp:127.0.0.1:5060']);
    expect(c.routing.other_reply).toBe('500 Nope');
    expect(c.dmq).toEqual({
      notification_address: [], notification_channel: 'notification_peer', multi_notify: false,
      ping_interval: 60, fail_remove: true, leave_on_stop: true,
    });
    expect(c.sip).toEqual({ t1: 500, t2: 4000, t4: 5000, kdmq_timeout: 0 });
    expect(c.dmq_usrloc).toEqual({
      enable: true, sync: true, batch_msg_contacts: 50, batch_msg_size: 60000, usrloc_delete: true,
      stream_batch_msg_size: 1_000_000, stream_batch_msg_contacts: 2000,
    });
    expect(c.registrar).toEqual({ default_expires: 3600, min_expires: 60, max_expires: 0, max_contacts: 0, use_domain: false });
    expect(c.htable).toEqual({ enable_dmq: true, dmq_init_sync: true, tables: {} });
    expect(c.rpc.listen).toBe('127.0.0.1:8060');
    expect('server_address' in c.dmq || 'allow' in c.dmq || 'servers' in c.dns).toBe(false);
  });

  it('a null section or key takes the defaults; defaults are not shared between loads', () => {
    const c = ok('dmq:\nsip:\n  t1:\n');
    expect(c.dmq.ping_interval).toBe(60);
    expect(c.sip.t1).toBe(500);
    c.listen.push('udp:127.0.0.2:5060');
    expect(ok('').listen).toEqual(['udp:127.0.0.1:5060']);
  });

  it('reads YAML and JSON, fills htable table defaults, takes a single string for a list', () => {
    const y = ok('listen: udp:127.0.0.5:5090\nhtable:\n  tables:\n    t1: { size: 4, dmqreplicate: true }\ndmq:\n  allow: 10.0.0.0/8\n');
    expect(y.listen).toEqual(['udp:127.0.0.5:5090']);
    expect(y.dmq.allow).toEqual(['10.0.0.0/8']);
    expect(y.htable.tables.t1).toEqual({ size: 4, autoexpire: 0, updateexpire: true, dmqreplicate: true, initval: '', persistent: false });
    const j = ok('{"listen": ["udp:[::1]:5060"], "dmq": {"server_address": "sip:[::1]:5060", "multi_notify": 1}}');
    expect([j.listen, j.dmq.server_address, j.dmq.multi_notify]).toEqual([['udp:[::1]:5060'], 'sip:[::1]:5060', true]);
  });
});

describe('--set overrides', () => {
  it('nested keys, YAML scalars, quoted strings and flow lists; later sets win; file values are overridden', () => {
    const c = ok('dmq:\n  ping_interval: 30\n', [
      'dmq.ping_interval=5',
      'dmq.multi_notify=true',
      'routing.other_reply="486 Busy Here"',
      'listen=[udp:127.0.0.7:5060, udp:127.0.0.7:5090]',
      'dmq.notification_address=sip:127.0.0.8:5090',
      'sip.t1=100',
      'sip.t1=200',
      'rpc.listen=',
    ]);
    expect(c.dmq.ping_interval).toBe(5);
    expect(c.dmq.multi_notify).toBe(true);
    expect(c.routing.other_reply).toBe('486 Busy Here');
    expect(c.listen).toEqual(['udp:127.0.0.7:5060', 'udp:127.0.0.7:5090']);
    expect(c.dmq.notification_address).toEqual(['sip:127.0.0.8:5090']);
    expect(c.sip.t1).toBe(200);
    expect(c.rpc.listen).toBe('127.0.0.1:8060'); // an empty value is YAML null: the default
  });

  it('unquoted values with spaces and "=" stay strings; a new nested map is created', () => {
    expect(ok('', ['routing.other_reply=486 Busy=Here']).routing.other_reply).toBe('486 Busy=Here');
    expect(ok('', ['htable.tables.sess.size=3']).htable.tables.sess.size).toBe(3);
    expect(ok('', ['rpc.listen=""']).rpc.listen).toBe('');
  });

  it('does not change the object it was given', () => {
    const raw = { dmq: { ping_interval: 9 } };
    const r = applyOverrides(raw, ['dmq.ping_interval=10']);
    expect(r.ok && r.value).toEqual({ dmq: { ping_interval: 10 } });
    expect(raw.dmq.ping_interval).toBe(9);
  });

  it.each([
    ['dmq.ping_interval', /--set dmq.ping_interval: expected key.path=value/],
    ['=5', /expected key.path=value/],
    ['dmq..ping_interval=5', /--set dmq..ping_interval: not a key path/],
    ['__proto__.polluted=1', /not a key path/],
    ['dmq.constructor.x=1', /not a key path/],
  ])('rejects --set %s', (set, re) => {
    expect(err('', [set])).toMatch(re);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('errors from a --set value name the key like a file value', () => {
    expect(err('', ['dmq.ping_interval=x'])).toBe('config key dmq.ping_interval: expected an integer, got "x"');
    expect(err('', ['dmq.nope=1'])).toBe('config key dmq.nope: unknown key');
    expect(err('', ['listen.x=1'])).toMatch(/^config key listen: expected a list of strings/);
  });
});

describe('errors: one line naming the key or the problem', () => {
  it.each([
    ['bad YAML', 'listen: [udp:1\n  x: : ]\n', /^config file is not valid YAML or JSON: .*line 1/],
    ['bad JSON', '{"listen": ', /^config file is not valid YAML or JSON/],
    ['top level not a mapping', '- a\n- b\n', /^config key \(top level\): expected a mapping/],
    ['a scalar top level', '42', /^config key \(top level\): expected a mapping/],
    ['unknown top key', 'foo: 1\n', /^config key foo: unknown key$/],
    ['unknown nested key', 'dmq:\n  foo: 1\n', /^config key dmq.foo: unknown key$/],
    ['an inherited name is still unknown', 'dmq:\n  toString: 1\n', /^config key dmq.toString: unknown key$/],
    ['unknown htable table key', 'htable:\n  tables:\n    t:\n      sz: 1\n', /^config key htable.tables.t.sz: unknown key$/],
    ['section not a mapping', 'dmq: 5\n', /^config key dmq: expected a mapping, got 5$/],
    ['wrong type: string for int', 'dmq:\n  ping_interval: "x"\n', /^config key dmq.ping_interval: expected an integer, got "x"$/],
    ['wrong type: float for int', 'sip:\n  t1: 1.5\n', /^config key sip.t1: expected an integer/],
    ['int below min', 'dmq:\n  ping_interval: 0\n', /^config key dmq.ping_interval: expected an integer >= 1/],
    ['int above max', 'dmq_usrloc:\n  batch_msg_contacts: 151\n', /^config key dmq_usrloc.batch_msg_contacts: expected an integer <= 150/],
    ['bool', 'dmq:\n  multi_notify: "yes"\n', /^config key dmq.multi_notify: expected true or false/],
    ['string', 'dmq:\n  notification_channel: 5\n', /^config key dmq.notification_channel: expected a string/],
    ['list of strings', 'listen: [1, 2]\n', /^config key listen: expected a list of strings/],
    ['reply', 'routing:\n  other_reply: "Nope"\n', /^config key routing.other_reply: expected "CODE Reason"/],
    ['reply code 700', 'routing:\n  other_reply: "700 Nope"\n', /^config key routing.other_reply/],
    ['map', 'htable:\n  tables: [a]\n', /^config key htable.tables: expected a mapping/],
    ['empty listen', 'listen: []\n', /^config key listen: at least one/],
    ['listen: sctp', 'listen: [sctp:127.0.0.1:5060]\n', /^config key listen: "sctp:127.0.0.1:5060" is not udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT$/],
    ['listen: host name', 'listen: [udp:localhost:5060]\n', /^config key listen: "udp:localhost:5060"/],
    ['listen: no port', 'listen: [udp:127.0.0.1]\n', /^config key listen: /],
    ['listen: port too big', 'listen: [udp:127.0.0.1:70000]\n', /^config key listen: /],
    ['listen: octet too big', 'listen: [udp:127.0.0.300:5060]\n', /^config key listen: "udp:127.0.0.300:5060"/],
    ['listen: bad IPv6', 'listen: ["udp:[::g]:5060"]\n', /^config key listen: /],
    ['server_address: name', 'dmq:\n  server_address: sip:node1:5060\n', /^config key dmq.server_address: .*IP literal/],
    ['server_address: no port', 'dmq:\n  server_address: sip:127.0.0.1\n', /^config key dmq.server_address: /],
    ['server_address: bad IP', 'dmq:\n  server_address: sip:999.0.0.1:5060\n', /^config key dmq.server_address: /],
    ['notification_address', 'dmq:\n  notification_address: [http://x]\n', /^config key dmq.notification_address: "http:\/\/x" is not a sip: URI$/],
    ['rpc.listen', 'rpc:\n  listen: "8060"\n', /^config key rpc.listen: "8060" is not HOST:PORT$/],
  ])('%s', (_name, text, re) => {
    expect(err(text)).toMatch(re);
  });

  it('validateConfig and parseConfigText are usable alone', () => {
    expect(validateConfig(undefined).ok).toBe(true);
    expect(validateConfig({ sip: { t2: 'x' } })).toEqual({ ok: false, error: 'config key sip.t2: expected an integer, got "x"' });
    expect(parseConfigText('a: [').ok).toBe(false);
    expect(parseConfigText('a: 1')).toEqual({ ok: true, value: { a: 1 } });
  });
});
