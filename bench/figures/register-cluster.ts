// Figure: REGISTER rate held by one node of a 3-node cluster that replicates every binding to its
// 2 peers over DMQ (usrloc channel), kdmq vs Kamailio 5.6.3 in the same run, order alternating.
// Same ladder as register-rate (bench/support/ladder.ts: sipp rate steps of new users, held =
// < 0.1 % failed + unfinished and ≥ 95 % of the target rate achieved, bracketed from the rate held
// in the previous run), on the first node of a cluster of three (each node lists the other two);
// lab figure for Kamailio: about 3 500/s.

import { allocLoopbackIps, startKamailio, type KamailioNode } from '../../test/support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../../test/support/kdmq-process.ts';
import { descendants } from '../../test/support/proc.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { figureLadder, type RegistrarNode } from '../support/ladder.ts';
import { alternating, avail, cpuOf } from './registrar-rate.ts';

const STEPS = [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000];
/** Where the first run's ladders start: in the full run of 2026-11-26 afternoon Kamailio held 5 000/s, kdmq 8 000/s (then the top step). */
const SEED = 5000;

/** wait until every member lists all three nodes active; on time-out stop them all and throw */
async function formed(all: Array<{ listNodes(): Promise<Array<{ status: string }>>; cleanup(): Promise<void> }>, name: string): Promise<void> {
  await waitFor(async () => {
    for (const m of all) if ((await m.listNodes()).filter((n) => n.status === 'active').length < 3) return undefined;
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200, what: `${name} cluster of 3 formed` }).catch(async (e) => {
    await Promise.all(all.map((q) => q.cleanup()));
    throw e;
  });
}

async function kdmqCluster(ips: string[]): Promise<{ first: RegistrarNode; all: KdmqProc[] }> {
  const all = await Promise.all(
    ips.map((ip) =>
      startKdmq({
        ip,
        notificationAddresses: ips.filter((x) => x !== ip).map((x) => `sip:${x}:5090`),
        pingInterval: 10,
        logLevel: 'warn',
        extra: {
          registrar: { default_expires: 3600, min_expires: 60, max_expires: 3600 },
          limits: { register_rate: 0 },
          antientropy: { interval: 0 },
          dns: { servers: ['127.0.0.1:9'] },
        },
      }),
    ),
  );
  await formed(all, 'kdmq');
  const p = all[0];
  const count = async (q: KdmqProc) => {
    const lines = (await q.rpc('stats.get_statistics', ['usrloc:location_contacts'])) as string[];
    return Number(/= (\d+)/.exec(lines.join('\n'))?.[1] ?? 0);
  };
  return {
    all,
    first: {
      name: 'kdmq',
      target: `${p.ip}:${p.sipPort}`,
      cpuSeconds: () => cpuOf([p.pid]),
      contacts: () => count(p),
      stop: async () => {
        await Promise.all(all.map((q) => q.cleanup()));
      },
    },
  };
}

async function kamCluster(ips: string[]): Promise<{ first: RegistrarNode; all: KamailioNode[] }> {
  const all = await Promise.all(
    ips.map((ip) => startKamailio({ ip, notificationAddresses: ips.filter((x) => x !== ip).map((x) => `sip:${x}:5090`), pingInterval: 10, children: 4, shmMb: 2048, pkgMb: 16, registrarDefaultExpires: 3600 })),
  );
  await formed(all, 'Kamailio');
  const k = all[0];
  return {
    all,
    first: {
      name: 'Kamailio',
      target: `${k.ip}:${k.sipPort}`,
      cpuSeconds: () => cpuOf([k.pid, ...descendants(k.pid)]),
      contacts: () => k.contactCount(),
      stop: async () => {
        await Promise.all(all.map((q) => q.cleanup()));
      },
    },
  };
}

async function runOne(which: 'kdmq' | 'kam', ctx: RunContext, seconds: number): Promise<Samples> {
  // a fresh cluster on fresh addresses for each ladder start; first.stop() stops all three nodes
  const open = async (): Promise<RegistrarNode> => {
    const ips = allocLoopbackIps(3);
    return (which === 'kdmq' ? await kdmqCluster(ips) : await kamCluster(ips)).first;
  };
  const r = await figureLadder(open, ctx, { figure: 'register-cluster', name: which, steps: STEPS, seconds, seed: SEED, tag: `c${which}${ctx.run}` });
  return { [`${which}.held`]: r.held, [`${which}.cpuUs`]: r.cpuUsPerReg };
}

export const registerClusterFigure: Figure = {
  id: 'register-cluster',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one node of a 3-node cluster replicating to 2 peers',
  runs: () => 3,
  note: () => `a held rate equal to the top step (${STEPS[STEPS.length - 1]}/s) means at least that: the ladder has no step above it`,
  rows: (quick) => [
    {
      label: `REGISTER rate held, 3-node cluster (${STEPS.map((r) => r / 1000).join('/')} k/s bracketed, × ${quick ? 5 : 20} s)`,
      unit: 'REGISTER/s',
      kdmq: 'kdmq.held',
      kamailio: 'kam.held',
      kamailioNote: avail().kam ? undefined : 'Kamailio not installed',
      // the issue: cluster REGISTER rate ≥ Kamailio's (lab: about 3 500/s)
      target: { cmp: '>=', value: 3500 },
    },
    { label: 'node CPU per REGISTER at the highest held rate (cluster)', unit: 'µs', kdmq: 'kdmq.cpuUs', kamailio: 'kam.cpuUs' },
  ],
  available: () => (avail().sipp ? undefined : 'sipp not installed'),
  run: (ctx) => alternating(ctx, (w) => runOne(w, ctx, ctx.quick ? 5 : 20)),
};
