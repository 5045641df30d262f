// System DNS configuration for the dns-packet resolver: /etc/hosts (hosts(5)) and the nameserver
// lines of /etc/resolv.conf (resolv.conf(5)), plus `ip[:port]` server addresses. Parsers are pure;
// only systemResolverServers touches the file system.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

export interface HostsEntry {
  A: string[];
  AAAA: string[];
}

/** hosts(5): `ip name [aliases…]`, `#` comments; names lower-cased; first occurrence order kept. */
export function parseHostsFile(text: string): Map<string, HostsEntry> {
  const table = new Map<string, HostsEntry>();
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length < 2) continue;
    const ip = fields[0]!;
    const family = isIP(ip);
    if (family === 0) continue;
    for (const name of fields.slice(1)) {
      const key = name.toLowerCase().replace(/\.$/, '');
      const e = table.get(key) ?? { A: [], AAAA: [] };
      const list = family === 4 ? e.A : e.AAAA;
      if (!list.includes(ip)) list.push(ip);
      table.set(key, e);
    }
  }
  return table;
}

/** Nameserver addresses from resolv.conf text, in order (comments with `#` or `;`). */
export function readResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(raw.replace(/[#;].*/, ''));
    if (m && isIP(m[1]!.replace(/%.*/, '')) !== 0) out.push(m[1]!);
  }
  return out;
}

/** The system's nameservers; glibc's default 127.0.0.1 when none is configured or readable. */
export async function systemResolverServers(path = '/etc/resolv.conf'): Promise<string[]> {
  try {
    const servers = readResolvConf(await readFile(path, 'utf8'));
    return servers.length > 0 ? servers : ['127.0.0.1'];
  } catch {
    return ['127.0.0.1'];
  }
}

/** `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` → host and port (53 by default); null if invalid. */
export function parseServerAddress(s: string): { host: string; port: number } | null {
  let host = s;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(s.replace(/%.*/, '')) === 0) {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (!m) return null;
    host = m[1]!;
    port = Number(m[2]);
  }
  if (isIP(host.replace(/%.*/, '')) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}
