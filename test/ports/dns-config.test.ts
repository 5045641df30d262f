// resolv.conf, hosts-file and server-address parsing (src/ports/dns-config.ts), and
// systemResolverServers on temp files (never the machine's own /etc/resolv.conf contents).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostsFile, parseServerAddress, readResolvConf, systemResolverServers } from '../../src/ports/dns-resolver.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readResolvConf', () => {
  it('takes nameserver lines in order, skipping comments, junk and other options', () => {
    const text = [
      '# generated', 'search example.com', 'nameserver 10.0.0.53', '  nameserver   2001:db8::53  # v6',
      ';nameserver 10.9.9.9', 'nameserver not-an-ip', 'nameserver fe80::1%eth0', 'options timeout:1 attempts:3', 'nameserver 127.0.0.53',
    ].join('\n');
    expect(readResolvConf(text)).toEqual(['10.0.0.53', '2001:db8::53', 'fe80::1%eth0', '127.0.0.53']);
  });
  it('systemResolverServers reads a file, defaulting to 127.0.0.1', async () => {
    const f = join(dir, 'resolv.conf');
    writeFileSync(f, 'nameserver 10.0.0.53\n');
    expect(await systemResolverServers(f)).toEqual(['10.0.0.53']);
    writeFileSync(f, 'search x\n');
    expect(await systemResolverServers(f)).toEqual(['127.0.0.1']);
    expect(await systemResolverServers(join(dir, 'missing'))).toEqual(['127.0.0.1']);
  });
});

describe('parseHostsFile', () => {
  it('maps names and aliases to A and AAAA lists', () => {
    const t = parseHostsFile('127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.0.0.1 Kam1.example.com kam1 # c\n10.0.0.2 kam1\nbad line\n#10.0.0.3 x\n');
    expect(t.get('localhost')).toEqual({ A: ['127.0.0.1'], AAAA: ['::1'] });
    expect(t.get('kam1.example.com')).toEqual({ A: ['10.0.0.1'], AAAA: [] });
    expect(t.get('kam1')).toEqual({ A: ['10.0.0.1', '10.0.0.2'], AAAA: [] });
    expect(t.has('x')).toBe(false);
    expect(t.has('line')).toBe(false);
  });
});

describe('parseServerAddress', () => {
  it.each([
    ['10.0.0.53', { host: '10.0.0.53', port: 53 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['dns.example.com', null],
    ['10.0.0.1:0', null],
    ['10.0.0.1:70000', null],
    ['', null],
  ])('%s', (s, want) => expect(parseServerAddress(s)).toEqual(want));
});
