// The system Resolver: DNS over UDP with node:dgram + dns-packet, hosts file first for A/AAAA,
// answers cached by TTL (negative answers by SOA minimum, else 5 s), servers tried in order for a
// number of attempts. Every failure is a value; nothing throws or rejects. Re-exports the resolv.conf
// helpers; the multi_notify expansion that uses it is the notification cycle's (actors/membership/multi-notify.ts).

import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { DnsAnswer, Resolver, SrvRecord } from './resolver.ts';
import { parseHostsFile, parseServerAddress, type HostsEntry } from './dns-config.ts';

export { readResolvConf, systemResolverServers, parseHostsFile, parseServerAddress } from './dns-config.ts';

export interface DnsResolverOptions {
  /** `ip` or `ip:port` (`[v6]:port`), tried in order */
  servers: string[];
  hostsFile?: string;
  timeoutMs?: number;
  attempts?: number;
  /** milliseconds, for the cache (default Date.now) */
  now?: () => number;
  /** seconds a negative answer without SOA is cached (default 5) */
  negativeTtl?: number;
  /** seconds a hosts-file answer is reported valid, and between re-reads of the file (default 60) */
  hostsTtl?: number;
}

type QType = 'A' | 'AAAA' | 'SRV';

/** RFC 1035 §2.3.4 limits (labels 1..63 octets, name ≤ 253), no whitespace, control or escape characters. */
function nameProblem(name: string): string | null {
  if (/[\x00-\x20\x7f\\]/.test(name)) return 'whitespace, control or backslash character';
  if (Buffer.byteLength(name) > 253) return 'longer than 253 octets';
  for (const label of name.split('.')) {
    if (label.length === 0) return 'empty label';
    if (Buffer.byteLength(label) > 63) return 'label longer than 63 octets';
  }
  return null;
}
type Failure = Extract<DnsAnswer<never>, { ok: false }>;
type Exchange = { packet: dnsPacket.DecodedPacket } | { failure: Failure };

export class DnsResolver implements Resolver {
  private readonly servers: string[];
  private readonly hostsFile: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly now: () => number;
  private readonly negativeTtl: number;
  private readonly hostsTtl: number;
  private readonly cache = new Map<string, { answer: DnsAnswer<unknown>; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<DnsAnswer<unknown>>>();
  private hosts: { table: Map<string, HostsEntry>; loadedAt: number } | null = null;

  constructor(opts: DnsResolverOptions) {
    this.servers = [...opts.servers];
    this.hostsFile = opts.hostsFile ?? '/etc/hosts';
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.attempts = Math.max(1, opts.attempts ?? 2);
    this.now = opts.now ?? Date.now;
    this.negativeTtl = opts.negativeTtl ?? 5;
    this.hostsTtl = opts.hostsTtl ?? 60;
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'A') as Promise<DnsAnswer<string>>;
  }
  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.lookup(name, 'AAAA') as Promise<DnsAnswer<string>>;
  }
  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.lookup(name, 'SRV') as Promise<DnsAnswer<SrvRecord>>;
  }

  /** Forget cached answers (and the hosts file), e.g. after a configuration change. */
  flush(): void {
    this.cache.clear();
    this.hosts = null;
  }

  private async lookup(rawName: string, type: QType): Promise<DnsAnswer<unknown>> {
    try {
      const name = String(rawName).trim().toLowerCase().replace(/\.$/, '');
      if (name === '') return { ok: false, code: 'error', error: 'empty name' };
      const literal = name.replace(/^\[(.*)\]$/, '$1');
      const family = isIP(literal);
      if (family !== 0 && type !== 'SRV') {
        if ((family === 4) === (type === 'A')) return { ok: true, records: [literal], ttl: this.hostsTtl };
        return { ok: false, code: 'nodata', error: `${name} is an IPv${family} literal` };
      }
      const bad = nameProblem(name);
      if (bad) return { ok: false, code: 'error', error: `bad name "${name}": ${bad}` };
      if (type !== 'SRV') {
        const fromHosts = (await this.hostsTable()).get(name)?.[type];
        if (fromHosts && fromHosts.length > 0) return { ok: true, records: [...fromHosts], ttl: this.hostsTtl };
      }
      const key = `${type} ${name}`;
      const hit = this.cache.get(key);
      const now = this.now();
      if (hit && hit.expiresAt > now) {
        return hit.answer.ok ? { ...hit.answer, ttl: Math.ceil((hit.expiresAt - now) / 1000) } : hit.answer;
      }
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = this.resolve(name, type).finally(() => this.inflight.delete(key));
        this.inflight.set(key, pending);
      }
      return await pending;
    } catch (e) {
      return { ok: false, code: 'error', error: `resolver error: ${(e as Error)?.message ?? String(e)}` };
    }
  }

  private async hostsTable(): Promise<Map<string, HostsEntry>> {
    const now = this.now();
    if (this.hosts && now - this.hosts.loadedAt < this.hostsTtl * 1000) return this.hosts.table;
    let table = new Map<string, HostsEntry>();
    try {
      table = parseHostsFile(await readFile(this.hostsFile, 'utf8'));
    } catch {
      // no hosts file: DNS only
    }
    this.hosts = { table, loadedAt: now };
    return table;
  }

  private async resolve(name: string, type: QType): Promise<DnsAnswer<unknown>> {
    if (this.servers.length === 0) return { ok: false, code: 'error', error: 'no DNS server configured' };
    let lastFailure: Failure | null = null;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      for (const server of this.servers) {
        const ex = await this.exchange(server, name, type);
        if ('failure' in ex) {
          if (ex.failure.code !== 'timeout' || lastFailure === null || lastFailure.code === 'timeout') lastFailure = ex.failure;
          continue;
        }
        const { answer, ttl } = this.interpret(ex.packet, name, type);
        if (!answer.ok && answer.code !== 'nxdomain' && answer.code !== 'nodata') {
          lastFailure = answer; // SERVFAIL, REFUSED, truncated…: ask the next server
          continue;
        }
        if (ttl > 0) this.cache.set(`${type} ${name}`, { answer, expiresAt: this.now() + ttl * 1000 });
        return answer;
      }
    }
    return lastFailure ?? { ok: false, code: 'error', error: 'no answer' };
  }

  private interpret(p: dnsPacket.DecodedPacket, name: string, type: QType): { answer: DnsAnswer<unknown>; ttl: number } {
    const rcode = (p.flags ?? 0) & 0xf;
    const negTtl = (): number => {
      const soa = (p.authorities ?? []).find((a) => a.type === 'SOA') as dnsPacket.SoaAnswer | undefined;
      if (!soa) return this.negativeTtl;
      return Math.min(soa.ttl ?? 0, soa.data.minimum ?? soa.ttl ?? 0);
    };
    if (p.flag_tc) return { answer: { ok: false, code: 'error', error: `truncated answer for ${type} ${name} (no TCP fallback)` }, ttl: 0 };
    if (rcode === 3) return { answer: { ok: false, code: 'nxdomain', error: `${name}: no such domain` }, ttl: negTtl() };
    if (rcode === 2) return { answer: { ok: false, code: 'servfail', error: `${type} ${name}: server failure` }, ttl: 0 };
    if (rcode === 5) return { answer: { ok: false, code: 'refused', error: `${type} ${name}: refused` }, ttl: 0 };
    if (rcode !== 0) return { answer: { ok: false, code: 'error', error: `${type} ${name}: rcode ${rcode}` }, ttl: 0 };
    const matching = (p.answers ?? []).filter((a) => a.type === type);
    if (matching.length === 0) return { answer: { ok: false, code: 'nodata', error: `${name} has no ${type} record` }, ttl: negTtl() };
    const ttl = Math.min(...matching.map((a) => ('ttl' in a ? a.ttl ?? 0 : 0)));
    const records = matching.map((a) => {
      if (a.type !== 'SRV') return (a as dnsPacket.StringAnswer).data;
      const d = (a as dnsPacket.SrvAnswer).data;
      return { priority: d.priority ?? 0, weight: d.weight ?? 0, port: d.port, target: d.target.replace(/\.$/, '') };
    });
    return { answer: { ok: true, records, ttl }, ttl };
  }

  /** One query to one server: the decoded matching answer, or a failure (time-out, socket error). */
  private exchange(server: string, name: string, type: QType): Promise<Exchange> {
    const addr = parseServerAddress(server);
    if (!addr) return Promise.resolve({ failure: { ok: false, code: 'error', error: `bad DNS server address "${server}"` } });
    const id = randomInt(0, 65536);
    const query = dnsPacket.encode({
      type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }],
    });
    const socket = dgram.createSocket(isIP(addr.host.replace(/%.*/, '')) === 6 ? 'udp6' : 'udp4');
    return new Promise<Exchange>((resolve) => {
      let done = false;
      let malformed: string | null = null;
      const finish = (r: Exchange): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        try {
          socket.close();
        } catch {
          // already closed
        }
        resolve(r);
      };
      const timer = setTimeout(() => {
        const error = malformed
          ? `malformed answer from ${server}: ${malformed}`
          : `no answer from ${server} for ${type} ${name} within ${this.timeoutMs} ms`;
        finish({ failure: { ok: false, code: malformed ? 'error' : 'timeout', error } });
      }, this.timeoutMs);
      socket.on('error', (e) => finish({ failure: { ok: false, code: 'error', error: `${server}: ${e.message}` } }));
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== addr.port) return;
        let p: dnsPacket.DecodedPacket;
        try {
          p = dnsPacket.decode(msg);
        } catch (e) {
          malformed = (e as Error)?.message ?? 'undecodable';
          return; // keep waiting: a forged or broken packet must not end the exchange
        }
        const q = p.questions?.[0];
        if (p.id !== id || !p.flag_qr || !q || q.type !== type || q.name.toLowerCase() !== name) return;
        finish({ packet: p });
      });
      socket.send(query, addr.port, addr.host, (err) => {
        if (err) finish({ failure: { ok: false, code: 'error', error: `${server}: ${err.message}` } });
      });
    });
  }
}
