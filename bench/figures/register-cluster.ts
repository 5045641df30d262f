// Figure: REGISTER rate held by one node of a 3-node cluster that replicates every binding to its
// 2 peers over DMQ (usrloc channel), kdmq vs Kamailio 5.6.3 in the same run, order alternating.
// A step is held only when replication held too: after it, both peers hold exactly the step's AoRs
// the receiving node holds, one per 200 (bench/support/cluster-nodes.ts; every node's drop/shed
// counters beside). Same ladder as register-rate (bench/support/ladder.ts: sipp rate steps of new
// users, held = < 0.1 % failed + unfinished and ≥ 95 % of the target rate achieved, bracketed from
// the rate held in the previous run, steps added above the list until one fails), on the first
// node of a cluster of three (each node lists the other two). Also: CPU per REGISTER of the
// receiving node and of each peer at the held step, and the KDMQs the receiver sent for it.

import type { Figure, RunContext, Samples } from '../lib.ts';
import { allocLoopbackIps, kamCluster, kdmqCluster } from '../support/cluster-nodes.ts';
import { figureLadder, ladderNote, ladderSamples, ladderWork } from '../support/figure-ladder.ts';
import type { RegistrarNode } from '../support/ladder.ts';
import { alternating, avail } from './registrar-rate.ts';

const STEPS = [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000];
/** steps are added above the list (+2 000/s) up to this rate, so every ladder ends on a failed step */
const MAX = 24_000;
/** Where the first run's ladders start: on 2026-12-07 Kamailio held 2 000/s, kdmq 5 000/s. */
const SEED = 2000;

async function runOne(which: 'kdmq' | 'kam', ctx: RunContext, seconds: number): Promise<Samples> {
  // a fresh cluster on fresh addresses for each ladder start; first.stop() stops all three nodes
  const open = async (): Promise<RegistrarNode> => {
    const ips = allocLoopbackIps(3);
    return (which === 'kdmq' ? await kdmqCluster(ips) : await kamCluster(ips)).first;
  };
  const r = await figureLadder(open, ctx, { figure: 'register-cluster', name: which, steps: STEPS, seconds, seed: SEED, tag: `c${which}${ctx.run}`, max: MAX });
  return ladderSamples(which, r);
}

const SETTINGS =
  'three nodes, each listing the other two, ping_interval 10; kdmq: anti-entropy off, limits.register_rate 0, registrar expires 3600; ' +
  'Kamailio: dmq + dmq_usrloc, 4 children, shm 2 GB, pkg 64 MB; every REGISTER a new AoR with one contact (Expires 3600), so each is one change for each of the 2 peers';

export const registerClusterFigure: Figure = {
  id: 'register-cluster',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one node of a 3-node cluster replicating to 2 peers',
  runs: () => 3,
  note: () => `${ladderNote(STEPS, MAX)}; a step is held only when both peers hold exactly the acked AoRs; drop/shed counters of every node in the log and JSON (cumulative since the cluster started)`,
  rows: (quick) => [
    {
      label: `REGISTER rate held, 3-node cluster, replication verified (× ${quick ? 5 : 20} s steps)`,
      unit: 'REGISTER/s',
      kdmq: 'kdmq.held',
      kamailio: 'kam.held',
      kamailioNote: avail().kam ? undefined : 'Kamailio not installed',
      // issue #15's table: ≥ 2× Kamailio on every run (the lab's Kamailio: about 3 500/s)
      target: { cmp: '>=', value: 2, ratio: true },
      work: ladderWork([['kdmq', 'kdmq'], ['kam', 'Kamailio']], `${SETTINGS}. The held step`),
    },
    {
      label: 'CPU per REGISTER, receiving node of the cluster, at the held rate',
      unit: 'µs', kdmq: 'kdmq.cpuUs.receiver', kamailio: 'kam.cpuUs.receiver',
      target: { cmp: '<=', value: 0.5, ratio: true },
      work: 'utime + stime from /proc/PID/stat over the held step (Kamailio: main process + every child), divided by the REGISTERs answered 200; the receiver parses, stores, answers and sends one change per peer',
    },
    { label: 'CPU per REGISTER, peer 1 (applies the replicated changes)', unit: 'µs', kdmq: 'kdmq.cpuUs.peer1', kamailio: 'kam.cpuUs.peer1' },
    { label: 'CPU per REGISTER, peer 2', unit: 'µs', kdmq: 'kdmq.cpuUs.peer2', kamailio: 'kam.cpuUs.peer2' },
    { label: 'cluster ladder ended on a failed step (1 = yes, 0 = still held at the maximum)', unit: '', kdmq: 'kdmq.endFailed', kamailio: 'kam.endFailed', digits: 0 },
  ],
  available: () => (avail().sipp ? undefined : 'sipp not installed'),
  run: (ctx) => alternating(ctx, (w) => runOne(w, ctx, ctx.quick ? 5 : 20)),
};
