// Figures: cost of one anti-entropy round at 100 000 bindings (specs/anti-entropy.md A5), measured
// in-process on two location stores through the real adapter and protocol steps (exchange():
// d → s → v → r/w → r): bytes and CPU ms of a round when the stores agree, and when 1 % of the
// bindings differ (each side holds 500 the other lacks), repairs applied included. The digest
// index is built once (first round) and then kept up to date by the stores' change feed: its
// build is a row of its own. No Kamailio counterpart (Kamailio has no anti-entropy).

import { UsrlocSource } from '../../src/antientropy/usrloc-source.ts';
import { exchange } from '../../src/antientropy/protocol.ts';
import { LocationStore } from '../../src/actors/location/store.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import type { Figure, Samples } from '../lib.ts';

const N = 100_000;
const BUCKETS = 1024;

function contact(i: number, nowSec: number, tag = ''): UsrlocContact {
  return {
    aor: `user${i}${tag}`, ruid: `uloc-6b0808a0-2d22-${i}${tag}`, c: `sip:user${i}@10.0.${(i >> 8) & 255}.${i & 255}:5060`, received: '', path: '',
    callid: `call-${i}${tag}@10.0.0.1`, user_agent: 'bench-ua/1.0', instance: '', expires: nowSec + 3600, cseq: 1, flags: 0, cflags: 0, q: -1,
    last_modified: nowSec, methods: 4294967295, reg_id: 0, server_id: 0,
  };
}

function cpuNowMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

function round(a: UsrlocSource, b: UsrlocSource): Samples {
  const c = exchange([a], [b], BUCKETS, cpuNowMs);
  return {
    digestBytes: c.digestBytes,
    subBytes: c.subBytes,
    versionBytes: c.versionBytes,
    recordBytes: c.recordBytes + c.wantBytes,
    totalBytes: c.digestBytes + c.subBytes + c.versionBytes + c.recordBytes + c.wantBytes,
    cpuMs: c.cpuMsA + c.cpuMsB,
    repaired: c.applied,
  };
}

export const antiEntropyRoundFigure: Figure = {
  id: 'ae-round-100k',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'anti-entropy round at 100 000 bindings (two kdmq stores, in-process)',
  runs: () => 3,
  note: () => `${BUCKETS} buckets × 32 leaves; "in sync": both stores equal; "1 % differs": 500 bindings only on each side. CPU = both sides, single thread, repairs applied included; the digest index is built once per node (first round) and then updated per change.`,
  rows: () => [
    { label: 'digest bytes per round per peer pair', unit: 'B', kdmq: 'sync.digestBytes', kamailioNote: 'no anti-entropy in Kamailio' },
    { label: 'CPU per round, stores in sync (both sides)', unit: 'ms', kdmq: 'sync.cpuMs', kamailioNote: 'no anti-entropy in Kamailio' },
    { label: 'digest index build, once per node (one side)', unit: 'ms', kdmq: 'buildMs' },
    { label: 'leaf-hash bytes, 1 % differs', unit: 'B', kdmq: 'diff.subBytes' },
    { label: 'versions bytes, 1 % differs', unit: 'B', kdmq: 'diff.versionBytes' },
    { label: 'repair bytes (records + wants), 1 % differs', unit: 'B', kdmq: 'diff.recordBytes' },
    { label: 'all bytes of the round, 1 % differs', unit: 'B', kdmq: 'diff.totalBytes' },
    { label: 'CPU per round, 1 % differs (both sides)', unit: 'ms', kdmq: 'diff.cpuMs' },
    { label: 'bindings repaired, 1 % differs', unit: '', kdmq: 'diff.repaired' },
    { label: 'stores equal after the round, 1 % differs (1 = yes)', unit: '', kdmq: 'diff.converged' },
  ],
  async run() {
    const clock = new VirtualClock(1_795_000_000_000);
    const now = Math.floor(clock.now() / 1000);
    // the sources are fed every store change, as installApp's registrar feed does
    let a!: UsrlocSource;
    let b!: UsrlocSource;
    const A = new LocationStore(clock, { onChange: (c) => a.touch(c.contact.aor) });
    const B = new LocationStore(clock, { onChange: (c) => b.touch(c.contact.aor) });
    a = new UsrlocSource({ store: A, announceDeletes: true });
    b = new UsrlocSource({ store: B, announceDeletes: true });
    for (let i = 0; i < N; i++) {
      const c = contact(i, now);
      A.applyReplicated(c, 'update');
      B.applyReplicated(c, 'update');
    }
    const t0 = cpuNowMs();
    a.index(BUCKETS);
    const buildMs = cpuNowMs() - t0;
    b.index(BUCKETS);
    const sync = round(a, b);
    for (let i = 0; i < 500; i++) {
      A.applyReplicated(contact(N + i, now, 'a'), 'update');
      B.applyReplicated(contact(N + i, now, 'b'), 'update');
    }
    const diff = round(a, b);
    diff.converged = round(a, b).subBytes === 0 ? 1 : 0;
    const out: Samples = { buildMs };
    for (const [k, v] of Object.entries(sync)) out[`sync.${k}`] = v;
    for (const [k, v] of Object.entries(diff)) out[`diff.${k}`] = v;
    A.stopTimers();
    B.stopTimers();
    return out;
  },
};
