// `kdmq serve`'s digest authentication from the `auth:` section: the subscriber source (Kamailio's
// subscriber table over SQLite or PostgreSQL behind a cache, or a users file), node:crypto as the hash port, the
// nonce secret (auth.secret or 16 random bytes from the OS), and the start-up log line that says
// whether REGISTER is authenticated. A source that cannot be used is an error naming its key.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDbUrl, passwordColumn } from '../config/auth.ts';
import { errorText } from '../errors.ts';
import type { KdmqConfig } from '../config/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import { SqliteSubscribers } from '../persist/subscriber-sqlite.ts';
import { PgSubscribers } from '../persist/subscriber-pg.ts';
import { redactUrl } from '../persist/pg.ts';
import { DigestAuth } from '../registrar/auth.ts';
import { CachedSubscribers, MemorySubscribers, parseUsers, type DigestAlg, type SubscriberSource } from '../registrar/subscribers.ts';

export const digestHash = (alg: DigestAlg, text: string): string => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');

export type AuthSetup = { ok: true; auth: DigestAuth | undefined } | { ok: false; error: string };

export function openAuth(config: KdmqConfig, deps: { clock: Clock; log: Log }): AuthSetup {
  const a = config.auth;
  if (a === undefined || !a.enable) {
    deps.log.log('warn', 'auth.enable is false: REGISTER is not authenticated, any UA may register any AoR');
    return { ok: true, auth: undefined };
  }
  let source: SubscriberSource;
  let from: string;
  if (a.users_file !== undefined) {
    let text: string;
    try {
      text = readFileSync(a.users_file, 'utf8');
    } catch (e) {
      return { ok: false, error: errorText('KDMQ_CONFIG_AUTH_USERS_FILE_READ', a.users_file, (e as NodeJS.ErrnoException).code ?? (e as Error).message) };
    }
    const users = parseUsers(text);
    if (users.size === 0) return { ok: false, error: errorText('KDMQ_CONFIG_AUTH_USERS_FILE_NO_USERS', a.users_file) };
    source = new MemorySubscribers(users);
    from = `users_file ${a.users_file} (${users.size} users)`;
  } else {
    const u = parseDbUrl(a.db_url ?? '');
    if (u === null || u.kind === 'unsupported') return { ok: false, error: errorText('KDMQ_CONFIG_AUTH_DB_URL_KIND', String(a.db_url)) };
    const common = { calculateHa1: a.calculate_ha1, passwordColumn: passwordColumn(a), useDomain: a.use_domain };
    const db = u.kind === 'sqlite'
      ? SqliteSubscribers.open({ ...common, path: resolve(u.path), now: () => deps.clock.now() })
      : PgSubscribers.open({ ...common, url: u.url });
    if (typeof db === 'string') return { ok: false, error: errorText('KDMQ_CONFIG_AUTH_DB', db) };
    source = new CachedSubscribers(db, deps.clock, a.cache_ttl * 1000);
    from = `db_url ${redactUrl(a.db_url ?? '')}`;
  }
  const auth = new DigestAuth({
    source,
    hash: digestHash,
    clock: deps.clock,
    secret: a.secret ?? randomBytes(16).toString('hex'),
    nonceSeconds: a.nonce_expire,
    realm: a.realm,
    algorithms: a.algorithms as DigestAlg[],
    log: deps.log,
  });
  deps.log.log('info', 'digest authentication of REGISTER on', {
    subscribers: from,
    realm: a.realm ?? '(To domain)',
    algorithms: a.algorithms,
    ...(a.db_url !== undefined ? { calculate_ha1: a.calculate_ha1, password_column: passwordColumn(a), use_domain: a.use_domain, cache_ttl: a.cache_ttl } : {}),
  });
  return { ok: true, auth };
}
