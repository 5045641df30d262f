// The `auth:` section: defaults, the errors that name their key (one source, Kamailio's db_url
// forms, algorithms, realm, columns), --kamailio-cfg's mapping of auth_db/auth modparams (and
// Kamailio's defaults when auth_db is loaded), and openAuth's start-up checks and log lines.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigText, validateConfig } from '../../src/config/load.ts';
import { parseDbUrl, passwordColumn } from '../../src/config/auth.ts';
import { readKamailioCfg } from '../../src/config/kamailio-cfg.ts';
import { openAuth } from '../../src/cli/auth-setup.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { LogLevel } from '../../src/ports/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const r = loadConfigText(text);
  if (!r.ok) throw new Error(r.error);
  return r.config;
}

function error(text: string): string {
  const r = loadConfigText(text);
  return r.ok ? 'ok' : r.error;
}

describe('auth config', () => {
  it('defaults: off, MD5, nonce_expire 300, cache_ttl 60, Kamailio auth_db column defaults', () => {
    const a = load('{}').auth!;
    expect(a).toEqual({ enable: false, calculate_ha1: false, use_domain: false, algorithms: ['MD5'], nonce_expire: 300, cache_ttl: 60 });
    expect(passwordColumn(a)).toBe('ha1');
    expect(passwordColumn({ ...a, calculate_ha1: true })).toBe('password');
    expect(passwordColumn({ ...a, calculate_ha1: true, password_column: 'pw' })).toBe('pw');
  });

  it('Kamailio db_url forms', () => {
    expect(parseDbUrl('sqlite:////var/lib/kamailio/kamailio.db')).toEqual({ kind: 'sqlite', path: '/var/lib/kamailio/kamailio.db' });
    expect(parseDbUrl('sqlite:///kamailio.db')).toEqual({ kind: 'sqlite', path: 'kamailio.db' });
    expect(parseDbUrl('postgres://kamailio:pw@127.0.0.1:5432/kamailio')).toEqual({ kind: 'postgres', url: 'postgres://kamailio:pw@127.0.0.1:5432/kamailio' });
    expect(parseDbUrl('postgres://kamailio:pw@127.0.0.1:5432')).toBeNull();
    expect(parseDbUrl('mysql://k:pw@127.0.0.1/kamailio')).toEqual({ kind: 'unsupported', scheme: 'mysql' });
    expect(parseDbUrl('sqlite://host/x.db')).toBeNull();
    expect(parseDbUrl('/var/x.db')).toBeNull();
  });

  it('errors name the key', () => {
    expect(error('auth: { enable: true }')).toBe('config key auth.enable: needs auth.db_url (the subscriber table) or auth.users_file');
    expect(error('auth: { db_url: "sqlite:////x.db", users_file: "/u" }')).toBe('config key auth.users_file: set auth.db_url or auth.users_file, not both');
    expect(error('auth: { enable: true, db_url: "postgres://k:pw@127.0.0.1:5432/kamailio" }')).toBe('ok');
    expect(error('auth: { enable: true, db_url: "mysql://k:pw@127.0.0.1/kamailio" }'))
      .toBe('config key auth.db_url: mysql:// is not supported (sqlite:////absolute/path.db or postgres://user:pass@host:port/db)');
    expect(error('usrloc: { db_mode: 3, db_url: "postgres://k:pw@127.0.0.1" }')).toMatch(/^config key usrloc\.db_url: "postgres:\/\/k:pw@127\.0\.0\.1" is not sqlite:/);
    expect(error('auth: { db_url: "/tmp/x.db" }')).toMatch(/^config key auth\.db_url: "\/tmp\/x\.db" is not sqlite:\/\/\/\//);
    expect(error('auth: { algorithms: [MD5, SHA-1] }')).toBe('config key auth.algorithms: expected MD5 or SHA-256, got "SHA-1"');
    expect(error('auth: { algorithms: [] }')).toBe('config key auth.algorithms: expected MD5, SHA-256 or both, got []');
    expect(error('auth: { algorithms: [md5, MD5] }')).toBe('config key auth.algorithms: ["MD5","MD5"] names one twice');
    expect(error('auth: { realm: "a\\"b" }')).toMatch(/^config key auth\.realm: /);
    expect(error('auth: { password_column: "pw; DROP TABLE x" }')).toMatch(/^config key auth\.password_column: .* is not a column name$/);
    expect(error('auth: { secret: short }')).toBe('config key auth.secret: needs 16 or more characters');
    expect(error('auth: { nonce_expire: 5 }')).toBe('config key auth.nonce_expire: expected an integer >= 10, got 5');
    expect(error('auth: { cache_ttl: 7200 }')).toBe('config key auth.cache_ttl: expected an integer <= 3600, got 7200');
    expect(error('auth: { enabled: true }')).toBe('config key auth.enabled: unknown key');
  });

  it('examples/node-auth.yaml is a valid config with auth on', () => {
    const c = load(readFileSync(new URL('../../examples/node-auth.yaml', import.meta.url), 'utf8'));
    expect(c.auth).toMatchObject({ enable: true, db_url: 'sqlite:////var/lib/kdmq/subscriber.db', calculate_ha1: true });
  });

  it('examples/node-postgres.yaml is a valid config: auth and the location table on PostgreSQL', () => {
    const c = load(readFileSync(new URL('../../examples/node-postgres.yaml', import.meta.url), 'utf8'));
    const url = 'postgres://kamailio:kamailiorw@127.0.0.1:5432/kamailio';
    expect(c.auth).toMatchObject({ enable: true, db_url: url, calculate_ha1: true });
    expect(c.usrloc).toMatchObject({ db_mode: 1, db_url: url, server_id: 1 });
  });

  it('algorithm names are read in any case and kept in order', () => {
    expect(load('auth: { algorithms: [sha-256, md5] }').auth!.algorithms).toEqual(['SHA-256', 'MD5']);
  });
});

describe('--kamailio-cfg: auth_db and auth modparams', () => {
  let files = 0;
  const cfg = (body: string) => {
    const p = join(dir, `k${files++}.cfg`);
    writeFileSync(p, `#!KAMAILIO\nlisten=udp:127.0.0.1:5060\n${body}\nrequest_route { exit; }\n`);
    const r = readKamailioCfg(p);
    if (!r.ok) throw new Error(r.error);
    return r;
  };

  it('maps db_url, calculate_ha1 (yes), password_column, use_domain, nonce_expire, secret, algorithm; auth_db turns auth on', () => {
    const r = cfg([
      '#!define DBURL "sqlite:////var/lib/kamailio/kamailio.db"',
      'loadmodule "db_sqlite.so"', 'loadmodule "auth.so"', 'loadmodule "auth_db.so"',
      'modparam("auth_db", "db_url", DBURL)',
      'modparam("auth_db", "calculate_ha1", yes)',
      'modparam("auth_db", "password_column", "password")',
      'modparam("auth_db", "use_domain", 1)',
      'modparam("auth_db", "load_credentials", "")',
      'modparam("auth", "nonce_expire", 120)',
      'modparam("auth", "secret", "0123456789abcdef0123")',
      'modparam("auth", "algorithm", "SHA-256")',
    ].join('\n'));
    expect(r.config.auth).toEqual({
      enable: true, db_url: 'sqlite:////var/lib/kamailio/kamailio.db', calculate_ha1: true, password_column: 'password', use_domain: true,
      nonce_expire: 120, secret: '0123456789abcdef0123', algorithms: ['SHA-256'],
    });
    expect(r.ignored).toContain('modparam auth_db load_credentials');
    expect(r.ignored.filter((i) => /loadmodule (auth|auth_db|db_sqlite)$/.test(i))).toEqual([]);
    const v = validateConfig(r.config);
    expect(v.ok).toBe(true);
  });

  it('auth_db loaded with nothing set: Kamailio\'s defaults (password_column ha1, its MySQL db_url, refused as not supported)', () => {
    const r = cfg('loadmodule "auth.so"\nloadmodule "auth_db.so"');
    expect(r.config.auth).toEqual({ enable: true, db_url: 'mysql://kamailioro:kamailioro@localhost/kamailio', calculate_ha1: false, password_column: 'ha1', use_domain: false });
    const v = validateConfig(r.config);
    expect(v.ok ? 'ok' : v.error).toBe('config key auth.db_url: mysql:// is not supported (sqlite:////absolute/path.db or postgres://user:pass@host:port/db)');
  });

  it('no auth_db: auth stays off', () => {
    expect(cfg('loadmodule "registrar.so"').config.auth).toBeUndefined();
  });
});

describe('openAuth (kdmq serve start-up)', () => {
  const deps = () => {
    const logs: Array<[LogLevel, string, Record<string, unknown> | undefined]> = [];
    return { logs, clock: new VirtualClock(0), log: { log: (l: LogLevel, m: string, f?: Record<string, unknown>) => logs.push([l, m, f]) } };
  };

  it('off: says so at start (warn) and builds nothing', () => {
    const d = deps();
    const r = openAuth(load('{}'), d);
    expect(r).toEqual({ ok: true, auth: undefined });
    expect(d.logs).toEqual([['warn', 'auth.enable is false: REGISTER is not authenticated, any UA may register any AoR', undefined]]);
  });

  it('a users file: read and announced; a missing or empty one is an error naming the key', () => {
    const users = join(dir, 'users');
    writeFileSync(users, '# none yet\n');
    const d = deps();
    expect(openAuth(load(`auth: { enable: true, users_file: "${users}" }`), d)).toEqual({ ok: false, error: `config key auth.users_file: no user@domain:password lines in ${users}` });
    expect(openAuth(load(`auth: { enable: true, users_file: "${users}.x" }`), d)).toEqual({ ok: false, error: `config key auth.users_file: cannot read ${users}.x: ENOENT` });
    writeFileSync(users, 'alice@lab.local:pw\n');
    const r = openAuth(load(`auth: { enable: true, users_file: "${users}" }`), d);
    expect(r.ok && r.auth !== undefined).toBe(true);
    expect(d.logs.at(-1)?.[1]).toBe('digest authentication of REGISTER on');
    expect(d.logs.at(-1)?.[2]).toMatchObject({ subscribers: `users_file ${users} (1 users)`, realm: '(To domain)', algorithms: ['MD5'] });
  });

  it('a db_url that cannot be opened is an error naming auth.db_url', () => {
    const r = openAuth(load(`auth: { enable: true, db_url: "sqlite:///${dir}/none.db" }`), deps());
    expect(r.ok ? 'ok' : r.error).toBe(`config key auth.db_url: ${dir}/none.db: unable to open database file`);
  });
});
