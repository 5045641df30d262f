// Fuzz campaign figure (full mode only): 10⁶ fuzzed datagrams and random JSON-RPC bodies against a
// live mixed cluster (two kdmq + one Kamailio 5.6.3; test/support/fuzz-campaign.ts), after 80
// snapshot users. Reports datagrams/s, replies by status, node liveness and whether every
// snapshot binding is intact on every node (1 = yes). One run: it takes minutes.

import type { Figure, Samples } from '../lib.ts';
import { kamailioAvailable } from '../../test/support/kamailio.ts';
import { checkCluster, registerSnapshotUsers, runCampaign, snapshot, startFuzzCluster } from '../../test/support/fuzz-campaign.ts';

const N = 1_000_000;
const STATUSES = ['200', '400', '403', '404', '413', '500', '503', '513'];

export const fuzzCampaignFigure: Figure = {
  id: 'fuzz-campaign',
  title: `fuzz campaign: ${N.toLocaleString('en')} datagrams at a live mixed cluster (2 kdmq + 1 Kamailio)`,
  skipQuick: 'minutes of traffic: full mode only',
  runs: () => 3, // the framework takes the median of at least 3 runs (about 1 min each here)
  available: () => {
    const a = kamailioAvailable();
    return a.ok ? undefined : a.reason;
  },
  note: () => 'replies: final responses the fuzz socket got back (many datagrams are unanswerable garbage, or go to Kamailio); intact = 1 when every node answers, Kamailio\'s DMQ answers kamcmd and no snapshot binding changed',
  rows: () => [
    { label: 'datagrams sent per second', unit: '/s', kdmq: 'rate' },
    ...STATUSES.map((s) => ({ label: `replies ${s}`, unit: '', kdmq: `replies.${s}` })),
    { label: 'JSON-RPC calls answered', unit: '', kdmq: 'rpcAnswers' },
    { label: 'replication KDMQ dropped by kdmq flow control (both nodes)', unit: '', kdmq: 'dropped' },
    { label: 'Kamailio shared memory peak (of 64 MB)', unit: 'MB', kdmq: 'kamShmPeak' },
    { label: 'all nodes alive, Kamailio DMQ answering', unit: '', kdmq: 'alive', target: { cmp: '>=', value: 1 } },
    { label: 'snapshot bindings intact (80)', unit: '', kdmq: 'intact', target: { cmp: '>=', value: 1 } },
  ],
  async run(ctx) {
    const c = await startFuzzCluster();
    try {
      await registerSnapshotUsers(c, 80);
      const before = await snapshot(c);
      const r = await runCampaign(c, { datagrams: N, seed: 1_000_003 + ctx.run, onProgress: (n) => n % 100_000 === 0 && ctx.log(`fuzz: ${n} datagrams`) });
      const check = await checkCluster(c, before);
      const out: Samples = { rate: r.datagramsPerSecond, rpcAnswers: r.rpcAnswers };
      for (const s of STATUSES) out[`replies.${s}`] = r.replies[s] ?? 0;
      out.dropped = Object.values(check.kdmqMetrics ?? {}).flatMap((m) => Object.entries(m)).filter(([k]) => k.startsWith('kdmq_peer_queue_dropped_total') && !k.includes('notification_peer')).reduce((a, [, v]) => a + v, 0);
      if (check.kamailioShm?.max_used !== undefined) out.kamShmPeak = Math.round(check.kamailioShm.max_used / 1e5) / 10;
      out.alive = Object.values(check.alive).every(Boolean) && check.kamailioDmqAnswers ? 1 : 0;
      out.intact = check.diffs.length === 0 && check.snapshotBindings === 80 ? 1 : 0;
      if (check.diffs.length > 0) ctx.log(`fuzz: ${check.diffs.length} differences, first: ${check.diffs[0]}`);
      return out;
    } finally {
      await c.stop();
    }
  },
};
