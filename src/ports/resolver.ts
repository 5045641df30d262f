// The Resolver port: DNS lookups as values (never thrown). Implemented by dns-resolver.ts
// (dns-packet over UDP, /etc/hosts first, TTL cache) and by the simulator's DNS.
// Used by multi_notify expansion (protocol reference §2.3) and TTL-driven re-resolution.

export type DnsAnswer<T> =
  | { ok: true; records: T[]; ttl: number }
  | { ok: false; error: string; code: 'nxdomain' | 'servfail' | 'timeout' | 'refused' | 'nodata' | 'error' };

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface Resolver {
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
}
