// DnsResolver (src/ports/dns-resolver.ts) against the in-process DNS server on 127.0.0.1 only:
// A, AAAA, SRV, NXDOMAIN/NODATA/SERVFAIL/REFUSED, time-outs and server fail-over, malformed and
// forged answers, TTL and negative caching on a fake clock, hosts-file precedence, never-rejects.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver, type DnsResolverOptions } from '../../src/ports/dns-resolver.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-dns-'));
const hostsFile = join(dir, 'hosts');
writeFileSync(hostsFile, '# test hosts\n192.168.7.7  pinned.test pinned-alias.test  # comment\n::1 v6only.test\n');

let dns: DnsServer;
let clock = 1_000_000;
const servers: DnsServer[] = [];
async function server(...args: Parameters<typeof startDnsServer>): Promise<DnsServer> {
  const s = await startDnsServer(...args);
  servers.push(s);
  return s;
}
const at = (s: DnsServer): string => `${s.address}:${s.port}`;
const resolver = (o: Partial<DnsResolverOptions> = {}): DnsResolver =>
  new DnsResolver({ servers: [at(dns)], hostsFile, timeoutMs: 1000, attempts: 1, now: () => clock, ...o });

beforeAll(async () => {
  dns = await server({
    'node1.test': { A: ['10.0.0.1', { data: '10.0.0.2', ttl: 20 }], AAAA: ['2001:db8::1'], ttl: 60 },
    '_sip._udp.dmq.test': { SRV: [{ priority: 10, weight: 5, port: 5090, target: 'node1.test' }], ttl: 300 },
    'pinned.test': { A: ['10.9.9.9'], AAAA: ['2001:db8::9'] },
    'v6only.test': { A: ['10.6.6.6'] },
    'broken.test': { rcode: 'SERVFAIL' },
    'refusing.test': { rcode: 'REFUSED' },
  });
});
afterEach(() => {
  dns.setMode('answer');
  dns.queries.length = 0;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('answers', () => {
  it('A: all records, TTL = the smallest record TTL', async () => {
    expect(await resolver().a('node1.test')).toEqual({ ok: true, records: ['10.0.0.1', '10.0.0.2'], ttl: 20 });
  });
  it('AAAA', async () => {
    expect(await resolver().aaaa('NODE1.test.')).toEqual({ ok: true, records: ['2001:db8::1'], ttl: 60 });
  });
  it('SRV', async () => {
    expect(await resolver().srv('_sip._udp.dmq.test')).toEqual({
      ok: true, records: [{ priority: 10, weight: 5, port: 5090, target: 'node1.test' }], ttl: 300,
    });
  });
  it.each([
    ['nxdomain', 'missing.test'],
    ['nodata', '_sip._udp.dmq.test'],
    ['servfail', 'broken.test'],
    ['refused', 'refusing.test'],
  ])('%s', async (code, name) => {
    const r = await resolver().a(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });
  it('IP literals answer themselves without a query', async () => {
    const r = resolver();
    expect(await r.a('10.1.2.3')).toMatchObject({ ok: true, records: ['10.1.2.3'] });
    expect(await r.aaaa('[2001:db8::5]')).toMatchObject({ ok: true, records: ['2001:db8::5'] });
    expect(await r.a('2001:db8::5')).toMatchObject({ ok: false, code: 'nodata' });
    expect(dns.queries).toEqual([]);
  });
});

describe('failures are values', () => {
  it('a silent server times out after every attempt', async () => {
    dns.setMode('drop');
    const r = await resolver({ attempts: 2, timeoutMs: 80 }).a('node1.test');
    expect(r).toMatchObject({ ok: false, code: 'timeout' });
    expect(dns.queries.length).toBe(2);
  });
  it('servers are tried in order: a dead first server falls over to the second', async () => {
    const dead = await server({}, { mode: 'drop' });
    const r = await resolver({ servers: [at(dead), at(dns)], timeoutMs: 80 }).a('node1.test');
    expect(r).toMatchObject({ ok: true, records: ['10.0.0.1', '10.0.0.2'] });
    expect(dead.queries.length).toBe(1);
  });
  it('SERVFAIL from the first server: the second is asked', async () => {
    const failing = await server({ 'node1.test': { rcode: 'SERVFAIL' } });
    const r = await resolver({ servers: [at(failing), at(dns)] }).a('node1.test');
    expect(r).toMatchObject({ ok: true });
    expect(failing.queries.length).toBe(1);
  });
  it('NXDOMAIN is an answer: the second server is not asked', async () => {
    const other = await server({ 'gone.test': { A: ['10.0.0.1'] } });
    const r = await resolver({ servers: [at(dns), at(other)] }).a('gone.test');
    expect(r).toMatchObject({ ok: false, code: 'nxdomain' });
    expect(other.queries).toEqual([]);
  });
  it('an undecodable answer is reported, not thrown', async () => {
    dns.setMode('garbage');
    const r = await resolver({ timeoutMs: 100 }).a('node1.test');
    expect(r).toMatchObject({ ok: false, code: 'error' });
    if (!r.ok) expect(r.error).toMatch(/malformed/);
  });
  it('an answer with another id is ignored', async () => {
    dns.setMode('wrongId');
    expect(await resolver({ timeoutMs: 100 }).a('node1.test')).toMatchObject({ ok: false, code: 'timeout' });
  });
  it('a truncated answer is reported', async () => {
    dns.setMode('truncated');
    const r = await resolver().a('node1.test');
    expect(r).toMatchObject({ ok: false, code: 'error' });
    if (!r.ok) expect(r.error).toMatch(/truncated/);
  });
  it('bad configuration and bad names give values', async () => {
    expect(await resolver({ servers: [] }).a('node1.test')).toMatchObject({ ok: false, code: 'error' });
    expect(await resolver({ servers: ['not an address'] }).a('node1.test')).toMatchObject({ ok: false, code: 'error' });
    expect(await resolver().a(`${'x'.repeat(70)}.test`)).toMatchObject({ ok: false, code: 'error' });
    expect(await resolver().srv('')).toMatchObject({ ok: false, code: 'error' });
  });
  it('never rejects, whatever the name', async () => {
    const r = resolver({ timeoutMs: 100 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.domain(), fc.string({ unit: 'binary', maxLength: 300 })), async (name) => {
        const answers = await Promise.all([r.a(name), r.aaaa(name), r.srv(name)]);
        return answers.every((a) => typeof a.ok === 'boolean');
      }),
      { numRuns: 40 },
    );
  });
});

describe('caching', () => {
  it('serves from cache until the smallest TTL ends, with the remaining TTL', async () => {
    const r = resolver();
    clock = 1_000_000;
    await r.a('node1.test');
    clock += 15_000;
    expect(await r.a('node1.test')).toEqual({ ok: true, records: ['10.0.0.1', '10.0.0.2'], ttl: 5 });
    expect(dns.queries.length).toBe(1);
    dns.setZone('node1.test', { A: ['10.0.0.3'] });
    clock += 5_001;
    expect(await r.a('node1.test')).toMatchObject({ ok: true, records: ['10.0.0.3'] });
    expect(dns.queries.length).toBe(2);
    dns.setZone('node1.test', { A: ['10.0.0.1', { data: '10.0.0.2', ttl: 20 }], AAAA: ['2001:db8::1'], ttl: 60 });
  });
  it('caches a negative answer for the SOA minimum', async () => {
    const r = resolver();
    expect(await r.a('later.test')).toMatchObject({ code: 'nxdomain' });
    dns.setZone('later.test', { A: ['10.0.0.8'] });
    clock += 29_000;
    expect(await r.a('later.test')).toMatchObject({ code: 'nxdomain' });
    expect(dns.queries.length).toBe(1);
    clock += 1_001;
    expect(await r.a('later.test')).toMatchObject({ ok: true, records: ['10.0.0.8'] });
  });
  it('caches a negative answer without SOA for 5 s', async () => {
    const bare = await server({}, { negativeSoa: false });
    const r = resolver({ servers: [at(bare)] });
    await r.a('x.test');
    clock += 4_900;
    await r.a('x.test');
    expect(bare.queries.length).toBe(1);
    clock += 200;
    await r.a('x.test');
    expect(bare.queries.length).toBe(2);
  });
  it('does not cache time-outs', async () => {
    const r = resolver({ timeoutMs: 60 });
    dns.setMode('drop');
    expect(await r.a('node1.test')).toMatchObject({ code: 'timeout' });
    dns.setMode('answer');
    expect(await r.a('node1.test')).toMatchObject({ ok: true });
  });
  it('concurrent identical lookups share one query', async () => {
    const r = resolver();
    const [x, y] = await Promise.all([r.srv('_sip._udp.dmq.test'), r.srv('_sip._udp.dmq.test')]);
    expect(x).toEqual(y);
    expect(dns.queries.length).toBe(1);
  });
});

describe('hosts file', () => {
  it('is read first for A, names and aliases case-insensitively', async () => {
    const r = resolver();
    expect(await r.a('Pinned.test')).toMatchObject({ ok: true, records: ['192.168.7.7'] });
    expect(await r.a('pinned-alias.test')).toMatchObject({ ok: true, records: ['192.168.7.7'] });
    expect(dns.queries).toEqual([]);
  });
  it('a family the file lacks is asked from DNS', async () => {
    expect(await resolver().aaaa('pinned.test')).toMatchObject({ ok: true, records: ['2001:db8::9'] });
    expect(await resolver().a('v6only.test')).toMatchObject({ ok: true, records: ['10.6.6.6'] });
    expect(await resolver().aaaa('v6only.test')).toMatchObject({ ok: true, records: ['::1'] });
  });
  it('a missing hosts file means DNS only', async () => {
    expect(await resolver({ hostsFile: join(dir, 'none') }).a('pinned.test')).toMatchObject({ ok: true, records: ['10.9.9.9'] });
  });
});
