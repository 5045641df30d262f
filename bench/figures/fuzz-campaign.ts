// Fuzz campaign figure (full mode only): 10⁶ fuzzed datagrams and random JSON-RPC bodies against a
// live mixed cluster (two kdmq + one Kamailio 5.6.3; test/support/fuzz-campaign.ts), after 80
// snapshot users, while a well-formed UA makes acknowledged changes (bench/support/fuzz-
// replication.ts). Reports datagrams/s, replies by status, node liveness, whether every node's
// exact contents equal the acked set (snapshot + acked users; fz- users node with node), and every
// drop and shed counter of every node (bench/support/fuzz-counters.ts). A run takes about a minute.

import type { Figure, RowSpec, RunContext, Samples } from '../lib.ts';
import { allocLoopbackIps, kamailioAvailable } from '../../test/support/kamailio.ts';
import { checkCluster, registerSnapshotUsers, runCampaign, snapshot, startFuzzCluster, type FuzzCluster } from '../../test/support/fuzz-campaign.ts';
import { ackedLoad, diffAcked, diffContents, readContents, type Acked, type Contents } from '../support/fuzz-replication.ts';
import { fuzzDrops, KAM_DROPS, KDMQ_DROPS } from '../support/fuzz-counters.ts';
import type { NormDump } from '../../test/support/ul-compare.ts';

const N = 1_000_000;
const SNAP = 80;
const STATUSES = ['200', '400', '403', '404', '413', '500', '503', '513'];
const isAcked = (a: string) => a.startsWith('ack-') || a.startsWith('snap-');
const isFz = (a: string) => a.startsWith('fz-');
const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '_');

/** the acked set: the snapshot (as every node held it before the campaign) and the acked load */
function ackedSet(before: NormDump, load: Acked): Acked {
  const out: Acked = new Map(load);
  for (const x of before.values()) {
    const aor = String(x.AoR);
    if (!out.has(aor)) out.set(aor, new Map());
    out.get(aor)!.set(String(x.Address), { present: true, by: 'before' });
  }
  return out;
}

/** read every node until the acked AoRs agree on all three (replication settled) or 15 s pass */
async function settledContents(c: FuzzCluster, aors: string[]): Promise<Contents[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = await readContents(c, aors);
    const same = all.every((x) => diffContents(all[1], x, isAcked).aors === 0);
    if (same || Date.now() > deadline) return all;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function replicationSamples(c: FuzzCluster, acked: Acked, log: (m: string) => void): Promise<Samples> {
  const aors = [...new Set([...acked.keys(), ...Array.from({ length: SNAP }, (_, i) => `snap-${String(i).padStart(4, '0')}`), ...Array.from({ length: 50 }, (_, i) => `fz-${i}`)])];
  const [kam, a, b] = await settledContents(c, aors);
  // kdmq's verdict: what kdmq nodes acked (and the snapshot), on every node; what Kamailio acked beside
  const kd = ['kdmq', 'before'] as const;
  const d = {
    'kdmq-acked on Kamailio': diffAcked(acked, kam, [...kd], isAcked), 'kdmq-acked on kdmq a': diffAcked(acked, a, [...kd], isAcked), 'kdmq-acked on kdmq b': diffAcked(acked, b, [...kd], isAcked),
    'Kamailio-acked on Kamailio': diffAcked(acked, kam, ['kamailio'], isAcked), 'Kamailio-acked on kdmq a': diffAcked(acked, a, ['kamailio'], isAcked), 'Kamailio-acked on kdmq b': diffAcked(acked, b, ['kamailio'], isAcked),
  };
  const fzAb = diffContents(a, b, isFz);
  const fzKam = diffContents(a, kam, isFz);
  for (const [n, x] of Object.entries({ ...d, 'fz- kdmq a vs b': fzAb, 'fz- kdmq a vs Kamailio': fzKam })) {
    if (x.aors > 0) log(`fuzz replication ${n}: ${x.aors} AoRs differ, ${x.missing} missing, ${x.extra} extra, e.g. ${x.examples.join('; ')}`);
  }
  const count = (x: Contents, keep: (a: string) => boolean) => [...x].filter(([k]) => keep(k)).reduce((s, [, v]) => s + v.size, 0);
  const n = (x: { missing: number; extra: number }) => x.missing + x.extra;
  const states = [...acked.values()].flatMap((m) => [...m.values()]);
  return {
    ackedKdmq: states.filter((x) => x.by !== 'kamailio').length, ackedKam: states.filter((x) => x.by === 'kamailio').length,
    'diff.kdmq': Math.max(n(d['kdmq-acked on kdmq a']), n(d['kdmq-acked on kdmq b'])), 'diff.kam': n(d['kdmq-acked on Kamailio']),
    'diffK.kdmq': Math.max(n(d['Kamailio-acked on kdmq a']), n(d['Kamailio-acked on kdmq b'])), 'diffK.kam': n(d['Kamailio-acked on Kamailio']),
    'fz.kdmq': fzAb.missing + fzAb.extra, 'fz.kam': fzKam.missing + fzKam.extra,
    'fzContacts.kdmq': count(a, isFz), 'fzContacts.kam': count(kam, isFz),
  };
}

function dropRows(): RowSpec[] {
  const kd = [...Object.keys(KDMQ_DROPS), 'kernel UDP drops'].map((n) => ({ label: `kdmq (both nodes): ${n}`, unit: '', kdmq: `drop.kdmq.${slug(n)}`, kamailioNote: '—', digits: 0 }));
  const kam = [...KAM_DROPS, 'kernel UDP drops'].map((n) => ({ label: `Kamailio: ${n}`, unit: '', kdmq: `drop.kam.${slug(n)}`, kamailioNote: '(Kamailio\'s counter)', digits: 0 }));
  return [...kd, ...kam];
}

export const fuzzCampaignFigure: Figure = {
  id: 'fuzz-campaign',
  title: `fuzz campaign: ${N.toLocaleString('en')} datagrams at a live mixed cluster (2 kdmq + 1 Kamailio)`,
  skipQuick: 'minutes of traffic: full mode only',
  runs: () => 3,
  available: () => {
    const a = kamailioAvailable();
    return a.ok ? undefined : a.reason;
  },
  note: () =>
    'replies: final responses the fuzz socket got back (many datagrams are unanswerable garbage, or go to Kamailio); intact = 1 when every node answers, Kamailio\'s DMQ answers kamcmd and no snapshot binding changed; ' +
    'acked set = the 80 snapshot users + the ack- users a well-formed UA registered and changed during the campaign (one at a time, each on another node than its last change, acked by a 200), compared contact by contact with what each node holds after the campaign (contacts expiring within 20 s left out); fz- users have no acked set (the fuzz changes them): nodes compared with each other; drop counters are cumulative since the cluster started, every node',
  rows: () => [
    { label: 'datagrams sent per second', unit: '/s', kdmq: 'rate' },
    ...STATUSES.map((s) => ({ label: `replies ${s}`, unit: '', kdmq: `replies.${s}` })),
    { label: 'JSON-RPC calls answered', unit: '', kdmq: 'rpcAnswers' },
    { label: 'Kamailio shared memory peak (of 64 MB)', unit: 'MB', kdmq: 'kamShmPeak' },
    { label: 'all nodes alive, Kamailio DMQ answering', unit: '', kdmq: 'alive', target: { cmp: '>=', value: 1 } },
    { label: 'snapshot bindings intact (80)', unit: '', kdmq: 'intact', target: { cmp: '>=', value: 1 } },
    {
      label: 'acked contact states (snapshot + acked by kdmq | acked by Kamailio)', unit: '', kdmq: 'ackedKdmq', kamailio: 'ackedKam', digits: 0,
      work: (runs) => runs.map((r, i) => `run ${i + 1}: ${r.ackRegisters} acked-UA REGISTERs (${r.ackRefused} not answered 200, retried on the next node)`).join('; '),
    },
    { label: 'contacts acked by kdmq (+ snapshot) differing from the acked set (missing + extra; kdmq: worse node | on Kamailio)', unit: '', kdmq: 'diff.kdmq', kamailio: 'diff.kam', target: { cmp: '<', value: 1 }, digits: 0 },
    { label: 'contacts acked by Kamailio differing from the acked set (kdmq: worse node | on Kamailio)', unit: '', kdmq: 'diffK.kdmq', kamailio: 'diffK.kam', digits: 0 },
    { label: 'fz- contacts differing between nodes (kdmq a vs b | kdmq a vs Kamailio)', unit: '', kdmq: 'fz.kdmq', kamailio: 'fz.kam', target: { cmp: '<', value: 1 }, digits: 0 },
    { label: 'fz- contacts held after the campaign (kdmq a | Kamailio)', unit: '', kdmq: 'fzContacts.kdmq', kamailio: 'fzContacts.kam', digits: 0 },
    ...dropRows(),
  ],
  run: (ctx) => fuzzRun(ctx, N),
};

/** one run of the figure with `datagrams` fuzzed datagrams (exported for a shorter validation run) */
export async function fuzzRun(ctx: RunContext, datagrams: number): Promise<Samples> {
  const c = await startFuzzCluster();
  const [uaIp] = allocLoopbackIps(1);
  try {
    await registerSnapshotUsers(c, SNAP);
    const before = await snapshot(c);
    const campaign = runCampaign(c, { datagrams, seed: 1_000_003 + ctx.run, onProgress: (n) => n % 100_000 === 0 && ctx.log(`fuzz: ${n} datagrams`) });
    const load = ackedLoad(c, uaIp, campaign.catch(() => undefined), 1000, 30);
    const [r, l] = await Promise.all([campaign, load]);
    const check = await checkCluster(c, before);
    const out: Samples = { rate: r.datagramsPerSecond, rpcAnswers: r.rpcAnswers, ackRegisters: l.registers, ackRefused: l.refused };
    for (const s of STATUSES) out[`replies.${s}`] = r.replies[s] ?? 0;
    if (check.kamailioShm?.max_used !== undefined) out.kamShmPeak = Math.round(check.kamailioShm.max_used / 1e5) / 10;
    out.alive = Object.values(check.alive).every(Boolean) && check.kamailioDmqAnswers ? 1 : 0;
    out.intact = check.diffs.length === 0 && check.snapshotBindings === SNAP ? 1 : 0;
    if (check.diffs.length > 0) ctx.log(`fuzz: ${check.diffs.length} differences, first: ${check.diffs[0]}`);
    Object.assign(out, await replicationSamples(c, ackedSet(before[1], l.acked), ctx.log));
    const drops = await fuzzDrops(c);
    ctx.detail('drops', drops);
    ctx.log(`fuzz drop/shed counters: ${JSON.stringify(drops)}`);
    for (const [node, m] of Object.entries(drops)) {
      const side = node.startsWith('kdmq') ? 'kdmq' : 'kam';
      for (const [n, v] of Object.entries(m)) out[`drop.${side}.${slug(n)}`] = (out[`drop.${side}.${slug(n)}`] ?? 0) + v;
    }
    return out;
  } finally {
    await c.stop();
  }
}
