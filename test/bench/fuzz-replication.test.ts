// The fuzz campaign's acked-set comparison (bench/support/fuzz-replication.ts diffAcked): a node's
// contents against the acked contact states of one system's 200s, exact sets (missing, removed but
// there, never registered), and the kernel UDP drop reader's address format.
import { describe, expect, it } from 'vitest';
import { diffAcked, type Acked, type Contents } from '../../bench/support/fuzz-replication.ts';
import { udpDrops } from '../../bench/support/udp-drops.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type By = 'kdmq' | 'kamailio' | 'before';
const st = (present: boolean, by: By) => ({ present, by });
const acked: Acked = new Map();
acked.set('ack-0000', new Map([['sip:a@x:1', st(true, 'kdmq')], ['sip:a@x:2', st(false, 'kdmq')]]));
acked.set('ack-0001', new Map([['sip:b@x:1', st(true, 'kamailio')]]));
acked.set('snap-0000', new Map([['sip:s@x:1', st(true, 'before')]]));
const keep = (a: string) => a.startsWith('ack-') || a.startsWith('snap-');

describe('diffAcked', () => {
  it('is empty when a node holds exactly the acked contacts', () => {
    const got: Contents = new Map([['ack-0000', new Set(['sip:a@x:1'])], ['ack-0001', new Set(['sip:b@x:1'])], ['snap-0000', new Set(['sip:s@x:1'])]]);
    expect(diffAcked(acked, got, ['kdmq', 'before'], keep)).toEqual({ aors: 0, missing: 0, extra: 0, examples: [] });
  });

  it('counts missing, removed-but-there and never-registered contacts, judging only the chosen acker', () => {
    const got: Contents = new Map([['ack-0000', new Set(['sip:a@x:2', 'sip:a@x:9'])], ['ack-0777', new Set(['sip:z@x:1'])], ['fz-1', new Set(['sip:f@x:1'])]]);
    const d = diffAcked(acked, got, ['kdmq', 'before'], keep);
    // a@x:1 and s@x:1 missing; a@x:2 removed but there; a@x:9 never registered; ack-0777 never registered; ack-0001 (Kamailio's) not judged
    expect([d.aors, d.missing, d.extra]).toEqual([3, 2, 3]);
    expect(diffAcked(acked, got, ['kamailio'], keep).missing).toBe(1);
  });
});

describe('udpDrops', () => {
  it('sums the drops column of the sockets bound to ip:port', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'udp-')), 'udp');
    writeFileSync(f, [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      ' 1: 0300147F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 7',
      ' 2: 0400147F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 5',
    ].join('\n'));
    expect(udpDrops('127.20.0.3', 5060, f)).toBe(7);
    expect(udpDrops('127.20.0.9', 5060, f)).toBe(0);
  });
});
