// Per-node dialect (src/actors/membership/node-dialect.ts, issue #19): versions from Kamailio's
// Server/User-Agent, the dmq.kamailio_versions override, statuses written and read per version,
// and what a line without status means; checked through the real merge and body of ListMerge.
import { describe, expect, it } from 'vitest';
import { NodeVersions, dialectOf, kamailioVersionOf, readStatus, wireStatus } from '../../../src/actors/membership/node-dialect.ts';
import { parseNodeLine, isSafeNodeListBody } from '../../../src/actors/membership/node-list-body.ts';
import { NodeList } from '../../../src/actors/membership/node-list.ts';
import { ListMerge } from '../../../src/actors/membership/node-list-merge.ts';
import { formatLine } from '../../../src/actors/membership/node-lines.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';

describe('node dialect', () => {
  it('reads the version Kamailio writes in Server and User-Agent, nothing else', () => {
    expect(kamailioVersionOf('kamailio (5.6.3 (x86_64/linux))')).toBe('5.6.3');
    expect(kamailioVersionOf('kamailio (6.1.5 (x86_64/Linux))')).toBe('6.1.5');
    expect(kamailioVersionOf('kdmq/0.1.0')).toBeNull();
    expect(kamailioVersionOf(undefined)).toBeNull();
    expect([dialectOf('5.6.3'), dialectOf('6.0.1'), dialectOf('6.1.5'), dialectOf('7.0'), dialectOf(null)]).toEqual(['5.6', '5.6', '6.1', '6.1', '5.6']);
  });

  it('writes each version only the statuses it knows, reads every version\'s', () => {
    expect(['active', 'disabled', 'timeout', 'pending'].map((s) => wireStatus(s as never, '6.1'))).toEqual(['active', 'disabled', 'not_active', 'not_active']);
    expect(['active', 'disabled', 'timeout', 'pending'].map((s) => wireStatus(s as never, '5.6'))).toEqual(['active', 'disabled', 'timeout', 'pending']);
    expect(readStatus('not_active')).toBe('timeout');
    expect(readStatus('bogus')).toBeNull();
    const l = parseNodeLine('sip:127.0.0.9:5090;status=not_active');
    expect(l.ok && l.value.status).toBe('timeout');
    expect(formatLine({ host: '127.0.0.9', port: '5090', transport: null }, 'timeout', false, '6.1')).toBe('sip:127.0.0.9:5090;status=not_active');
    expect(isSafeNodeListBody('sip:127.0.0.9:5090;status=not_active\r\n')).toBe(false); // not for a 5.6.3 node
  });

  it('overrides (URI or host) win over what a node said', () => {
    const v = new NodeVersions();
    v.learn('127.0.0.2:5090', 'kamailio (5.6.3 (x86_64/linux))');
    v.learn('127.0.0.3:5090', 'kamailio (6.1.5 (x86_64/Linux))');
    expect([v.versionOf('127.0.0.2:5090'), v.dialect('127.0.0.3:5090')]).toEqual(['5.6.3', '6.1']);
    v.setOverrides({ 'sip:127.0.0.2:5090': '6.1.5', '127.0.0.3': '6.0.1' });
    expect([v.versionOf('127.0.0.2:5090'), v.versionOf('127.0.0.3:5090'), v.versionOf('127.0.0.4:5090')]).toEqual(['6.1.5', '6.0.1', null]);
  });

  it('a line without status: active from a 6.1 node, pending from a 5.6 node (the real merge)', () => {
    const clock = new VirtualClock();
    const mk = () => {
      const list = new NodeList({ host: '127.0.0.1', port: '5090', transport: null }, clock, true);
      return { list, merge: new ListMerge({ list, clock, counters: { badNodeLines: 0 } }) };
    };
    const a = mk();
    a.list.versions.learn('127.0.0.3:5090', 'kamailio (6.1.5 (x86_64/Linux))');
    a.merge.merge('sip:127.0.0.3:5090;status=active\r\nsip:127.0.0.7:5090\r\n', { host: '127.0.0.3', port: '5090', transport: null });
    const b = mk();
    b.list.versions.learn('127.0.0.2:5090', 'kamailio (5.6.3 (x86_64/linux))');
    b.merge.merge('sip:127.0.0.2:5090;status=active\r\nsip:127.0.0.7:5090\r\n', { host: '127.0.0.2', port: '5090', transport: null });
    expect(a.list.statusOfKey('127.0.0.7:5090')).toBe('active');
    expect(b.list.statusOfKey('127.0.0.7:5090')).toBe('pending');
    // and the body each version is sent carries only statuses it knows
    for (const d of ['5.6', '6.1'] as const) {
      const body = a.merge.body('disabled', d);
      expect(body.split('\r\n').filter(Boolean).every((l) => /;status=(active|disabled)$/.test(l))).toBe(true);
    }
  });
});

describe('dmq.kamailio_versions (config)', () => {
  it('is a real key: a map of node URI or host to a version; a bad version names the key', async () => {
    const { validateConfig } = await import('../../../src/config/load.ts');
    const good = validateConfig({ dmq: { kamailio_versions: { 'sip:127.0.0.2:5090': '6.1.5', '127.0.0.3': '5.6' } } });
    expect(good.ok && good.config.dmq.kamailio_versions).toEqual({ 'sip:127.0.0.2:5090': '6.1.5', '127.0.0.3': '5.6' });
    const bad = validateConfig({ dmq: { kamailio_versions: { '127.0.0.3': 'six' } } });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('dmq.kamailio_versions.127.0.0.3') });
    expect(validateConfig({ dmq: { kamailio_versions: ['6.1'] } }).ok).toBe(false);
  });
});
