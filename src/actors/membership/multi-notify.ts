// Kamailio's multi_notify expansion of the first notification address (protocol reference §2.3,
// dmq notification_peer.c get_dmq_host_list @5.6.3): IP literal → itself; else SRV on the host as
// written (targets' A then AAAA with the SRV port, skipping SRV ports that differ from a given port),
// then the host's A, then its AAAA in brackets; at most 30, then de-duplicated. Works on any Resolver.

import { ipFamily as isIP } from '../dmq/cidr.ts';
import type { DnsAnswer, Resolver } from '../../ports/resolver.ts';

export const MAX_DMQ_HOSTS = 30;

export interface ExpandedAddresses {
  /** node endpoints in Kamailio's order; IPv6 hosts bracketed */
  targets: Array<{ host: string; port: number; transport: string | null }>;
  /** every lookup that failed (NODATA/NXDOMAIN included: callers decide what is worth a log line) */
  errors: Array<{ query: string; code: string; error: string }>;
}

/** IPv6 text as Kamailio's ip6tosbuf prints it: 8 upper-case groups, no `::` (node identity is textual). */
export function kamailioIPv6(text: string): string {
  if (isIP(text) !== 6 || text.includes('%')) return text;
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const toGroups = (s: string): string[] => {
    if (s === '') return [];
    const parts = s.split(':');
    const last = parts[parts.length - 1]!;
    if (last.includes('.')) {
      const b = last.split('.').map(Number);
      parts.splice(-1, 1, ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    }
    return parts;
  };
  const h = toGroups(head);
  const t = tail === null ? [] : toGroups(tail);
  const groups = tail === null ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16).toUpperCase()).join(':');
}

/**
 * Expand `uriHost` (as written in the notification address) into node endpoints. `port` is the
 * address's explicit port (null if none: results then use 5060, where Kamailio would write no port).
 * `transport` is not used for the lookups (Kamailio queries the host as written); it is copied onto
 * each result, as Kamailio copies the URI params.
 */
export async function expandNotificationAddress(
  resolver: Resolver,
  uriHost: string,
  port: number | null,
  transport: string | null = null,
): Promise<ExpandedAddresses> {
  const out: ExpandedAddresses = { targets: [], errors: [] };
  const found: Array<{ host: string; port: number }> = [];
  const full = (): boolean => found.length >= MAX_DMQ_HOSTS;
  const note = <T>(query: string, a: DnsAnswer<T>): T[] => {
    if (a.ok) return a.records;
    out.errors.push({ query, code: a.code, error: a.error });
    return [];
  };
  const literal = uriHost.replace(/^\[(.*)\]$/, '$1');
  const defaultPort = port ?? 5060;
  if (isIP(literal) !== 0) {
    found.push({ host: isIP(literal) === 6 ? `[${literal}]` : literal, port: defaultPort });
  } else {
    /** A then AAAA of one name (get_dmq_host_list without SRV) */
    const addHost = async (name: string, p: number): Promise<void> => {
      const bare = name.replace(/^\[(.*)\]$/, '$1');
      if (isIP(bare) !== 0) {
        if (!full()) found.push({ host: isIP(bare) === 6 ? `[${kamailioIPv6(bare)}]` : bare, port: p });
        return;
      }
      for (const ip of note(`A ${name}`, await resolver.a(name))) if (!full()) found.push({ host: ip, port: p });
      if (full()) return;
      for (const ip of note(`AAAA ${name}`, await resolver.aaaa(name))) {
        if (!full()) found.push({ host: `[${kamailioIPv6(ip)}]`, port: p });
      }
    };
    for (const rec of note(`SRV ${uriHost}`, await resolver.srv(uriHost))) {
      if (port !== null && port !== 0 && rec.port !== port) continue;
      if (full()) break;
      await addHost(rec.target, rec.port);
    }
    if (!full()) await addHost(uriHost, defaultPort);
  }
  const seen = new Set<string>();
  for (const f of found) {
    const key = `${f.host}:${f.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.targets.push({ ...f, transport });
  }
  return out;
}
