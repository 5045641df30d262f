// The `auth:` section beyond its types (schema.ts): one subscriber source, Kamailio's db_url forms
// (`sqlite:////absolute/path.db`, `sqlite:///relative.db`, `postgres://user:pass@host:port/db`;
// mysql:// named as not supported), algorithm names, a realm that fits in a quoted string, and column names that
// are plain identifiers. Each error names its key, as load.ts's.
import type { AuthConfig, KdmqConfig } from './types.ts';
import { errorText } from '../errors.ts';

export type DbUrl = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string } | { kind: 'unsupported'; scheme: string };

/**
 * Kamailio's db_url: `scheme://[user[:pass]@]host[:port]/database`. For sqlite the host is empty
 * and the database is the file: four slashes give an absolute path, three a relative one.
 */
export function parseDbUrl(url: string): DbUrl | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (m === null) return null;
  const scheme = m[1].toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    // Kamailio's form: user:pass@host[:port]/database (a database name is needed)
    return /^[^/?#]+\/[^/?#]+$/.test(m[2]) ? { kind: 'postgres', url: `postgres://${m[2]}` } : null;
  }
  if (scheme !== 'sqlite') return { kind: 'unsupported', scheme };
  if (!m[2].startsWith('/') || m[2].length < 2) return null;
  return { kind: 'sqlite', path: m[2].slice(1) };
}

/** the password column auth_db reads: the configured one, else "password" (calculate_ha1) or "ha1" */
export function passwordColumn(a: AuthConfig): string {
  return a.password_column ?? (a.calculate_ha1 ? 'password' : 'ha1');
}

/** null when the section is usable; normalises the algorithm names to upper case */
export function authConfigError(c: KdmqConfig): string | null {
  const a = c.auth;
  if (a === undefined) return usrlocConfigError(c);
  if (a.db_url !== undefined && a.users_file !== undefined) return errorText('KDMQ_CONFIG_AUTH_TWO_SOURCES');
  if (a.db_url !== undefined) {
    const u = parseDbUrl(a.db_url);
    if (u === null) return errorText('KDMQ_CONFIG_DB_URL', 'auth.db_url', a.db_url);
    if (u.kind === 'unsupported') return errorText('KDMQ_CONFIG_DB_URL_UNSUPPORTED', 'auth.db_url', u.scheme);
  }
  if (a.users_file === '') return errorText('KDMQ_CONFIG_TYPE', 'auth.users_file', 'a file name', '""');
  if (a.enable && a.db_url === undefined && a.users_file === undefined) {
    return errorText('KDMQ_CONFIG_AUTH_NO_SOURCE');
  }
  a.algorithms = a.algorithms.map((s) => s.toUpperCase()); // md5 and sha-256 accepted as written
  if (a.algorithms.length === 0) return errorText('KDMQ_CONFIG_TYPE', 'auth.algorithms', 'MD5, SHA-256 or both', '[]');
  for (const alg of a.algorithms) {
    if (alg !== 'MD5' && alg !== 'SHA-256') return errorText('KDMQ_CONFIG_TYPE', 'auth.algorithms', 'MD5 or SHA-256', JSON.stringify(alg));
  }
  if (new Set(a.algorithms).size !== a.algorithms.length) return errorText('KDMQ_CONFIG_AUTH_ALGORITHM_TWICE', JSON.stringify(a.algorithms));
  if (a.realm !== undefined && !/^[^"\\\x00-\x1f\x7f]+$/.test(a.realm)) {
    return errorText('KDMQ_CONFIG_AUTH_REALM', JSON.stringify(a.realm));
  }
  if (a.password_column !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.password_column)) {
    return errorText('KDMQ_CONFIG_AUTH_PASSWORD_COLUMN', JSON.stringify(a.password_column));
  }
  if (a.secret !== undefined && a.secret.length < 16) return errorText('KDMQ_CONFIG_AUTH_SECRET');
  return usrlocConfigError(c);
}

/** usrloc.db_url: Kamailio's sqlite or postgres form; db_mode 3 needs a database */
export function usrlocConfigError(c: KdmqConfig): string | null {
  const u = c.usrloc;
  if (u?.db_url === undefined) return null;
  const p = parseDbUrl(u.db_url);
  if (p === null) return errorText('KDMQ_CONFIG_DB_URL', 'usrloc.db_url', u.db_url);
  if (p.kind === 'unsupported') return errorText('KDMQ_CONFIG_DB_URL_UNSUPPORTED', 'usrloc.db_url', p.scheme);
  return null;
}
