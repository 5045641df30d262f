// multi_notify expansion (protocol reference §2.3) through the real DnsResolver and the in-process
// DNS server: Kamailio's order (SRV targets' A then AAAA, then the host's A, then AAAA), the SRV port
// filter, IP literals, the 30-entry cap applied before de-duplication, and errors as values.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver } from '../../../src/ports/dns-resolver.ts';
import { expandNotificationAddress, kamailioIPv6 } from '../../../src/actors/membership/multi-notify.ts';
import { startDnsServer, type DnsServer } from '../../support/dns-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-mn-'));
const hostsFile = join(dir, 'hosts');
writeFileSync(hostsFile, '');
let dns: DnsServer;
let resolver: DnsResolver;
const srv = (port: number, target: string, priority = 10) => ({ priority, weight: 0, port, target });
const hp = (r: { targets: Array<{ host: string; port: number }> }) => r.targets.map((t) => `${t.host}:${t.port}`);

beforeAll(async () => {
  const many: Record<string, { A: string[] }> = {};
  for (let i = 0; i < 20; i++) many[`m${i}.test`] = { A: [`10.1.${i}.1`, `10.1.${i}.2`] };
  dns = await startDnsServer({
    '_sip._udp.dmq.test': { SRV: [srv(5090, 'a.test'), srv(5091, 'b.test'), srv(5090, 'c.test', 20)] },
    'a.test': { A: ['10.0.0.1'], AAAA: ['2001:db8::1'] },
    'b.test': { A: ['10.0.0.2'] },
    'c.test': { A: ['10.0.0.3', '10.0.0.1'] },
    'dmq.test': { SRV: [srv(5070, 'a.test')], A: ['10.0.0.9'], AAAA: ['2001:db8::9'] },
    'plain.test': { A: ['10.0.0.5', '10.0.0.6'], AAAA: ['::ffff:10.0.0.5'] },
    'big.test': { SRV: Array.from({ length: 20 }, (_, i) => srv(5090, `m${i}.test`)), A: ['10.2.0.1'] },
    'dup.test': { SRV: Array.from({ length: 35 }, () => srv(5090, 'b.test')), A: ['10.2.0.2'] },
    'lit.test': { SRV: [srv(5090, '10.7.7.7')] },
    ...many,
  });
  resolver = new DnsResolver({ servers: [`127.0.0.1:${dns.port}`], hostsFile, timeoutMs: 1000, attempts: 1 });
});
afterAll(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('expandNotificationAddress', () => {
  it('SRV targets in answer order, each A then AAAA, with the SRV port', async () => {
    const r = await expandNotificationAddress(resolver, '_sip._udp.dmq.test', null, 'udp');
    expect(hp(r)).toEqual([
      '10.0.0.1:5090', '[2001:DB8:0:0:0:0:0:1]:5090', '10.0.0.2:5091', '10.0.0.3:5090',
    ]);
    expect(r.targets.every((t) => t.transport === 'udp')).toBe(true);
    // 10.0.0.1:5090 came twice (a.test and c.test): kept once, first place
    expect(r.errors.map((e) => e.query)).toEqual(
      expect.arrayContaining(['AAAA b.test', 'AAAA c.test', 'A _sip._udp.dmq.test', 'AAAA _sip._udp.dmq.test']),
    );
  });

  it('an explicit port skips SRV records with another port, and is used for the host records', async () => {
    const r = await expandNotificationAddress(resolver, '_sip._udp.dmq.test', 5090);
    expect(hp(r)).toEqual(['10.0.0.1:5090', '[2001:DB8:0:0:0:0:0:1]:5090', '10.0.0.3:5090']);
    const d = await expandNotificationAddress(resolver, 'dmq.test', 5060);
    expect(hp(d)).toEqual(['10.0.0.9:5060', '[2001:DB8:0:0:0:0:0:9]:5060']);
  });

  it('SRV results first, then the host A, then the host AAAA', async () => {
    const r = await expandNotificationAddress(resolver, 'dmq.test', null);
    expect(hp(r)).toEqual(['10.0.0.1:5070', '[2001:DB8:0:0:0:0:0:1]:5070', '10.0.0.9:5060', '[2001:DB8:0:0:0:0:0:9]:5060']);
  });

  it('a name without SRV gives its A then AAAA records', async () => {
    const r = await expandNotificationAddress(resolver, 'plain.test', 5090);
    expect(hp(r)).toEqual(['10.0.0.5:5090', '10.0.0.6:5090', '[0:0:0:0:0:FFFF:A00:5]:5090']);
    expect(r.errors).toEqual([expect.objectContaining({ query: 'SRV plain.test', code: 'nodata' })]);
  });

  it('IP literals give themselves, without DNS', async () => {
    const before = dns.queries.length;
    expect(hp(await expandNotificationAddress(resolver, '10.0.0.7', 5090))).toEqual(['10.0.0.7:5090']);
    expect(hp(await expandNotificationAddress(resolver, '[::1]', 5090))).toEqual(['[::1]:5090']);
    expect(hp(await expandNotificationAddress(resolver, '::1', null))).toEqual(['[::1]:5060']);
    expect(hp(await expandNotificationAddress(resolver, 'lit.test', null))).toEqual(['10.7.7.7:5090']);
    expect(dns.queries.length - before).toBe(3); // lit.test: SRV, then the host's A and AAAA
  });

  it('stops at 30 entries: the host A record does not fit after 20 SRV targets × 2', async () => {
    const r = await expandNotificationAddress(resolver, 'big.test', null);
    expect(r.targets.length).toBe(30);
    expect(hp(r).slice(0, 3)).toEqual(['10.1.0.1:5090', '10.1.0.2:5090', '10.1.1.1:5090']);
    expect(hp(r)[29]).toBe('10.1.14.2:5090');
    expect(hp(r)).not.toContain('10.2.0.1:5060');
  });

  it('the cap counts duplicates, as Kamailio does, then duplicates are removed', async () => {
    const r = await expandNotificationAddress(resolver, 'dup.test', null);
    expect(hp(r)).toEqual(['10.0.0.2:5090']);
  });

  it('an unknown name gives no targets and the failures as values', async () => {
    const r = await expandNotificationAddress(resolver, 'nowhere.test', 5090);
    expect(r.targets).toEqual([]);
    expect(r.errors.map((e) => [e.query, e.code])).toEqual([
      ['SRV nowhere.test', 'nxdomain'], ['A nowhere.test', 'nxdomain'], ['AAAA nowhere.test', 'nxdomain'],
    ]);
  });
});

describe('kamailioIPv6', () => {
  it.each([
    ['2001:db8::1', '2001:DB8:0:0:0:0:0:1'],
    ['::', '0:0:0:0:0:0:0:0'],
    ['fe80::a:b', 'FE80:0:0:0:0:0:A:B'],
    ['::ffff:10.0.0.5', '0:0:0:0:0:FFFF:A00:5'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['0001:0db8::', '1:DB8:0:0:0:0:0:0'],
  ])('%s → %s', (a, b) => expect(kamailioIPv6(a)).toBe(b));
});
