// Figure: REGISTER rate held by one node, kdmq vs Kamailio 5.6.3 (registrar + usrloc in memory, no
// DMQ: the harness's dmq:false; kdmq with DMQ on but no peers) in the same run, order alternating.
// Method of kamailio-lab.md §6.4 (d): one sipp on its own loopback IP sends rate × N s REGISTERs
// of new users per step (Expires 3600, 4 s response timeout) to one node whose location table
// keeps the earlier steps' contacts. A step is held when failed + unfinished < 0.1 % of the step's
// REGISTERs AND sipp's achieved call rate ≥ 95 % of the target. The ladder (bench/support/
// ladder.ts) brackets the held rate: it starts at the rate the same system held in the previous
// run (first run: SEED), steps up until a step is not held, or walks down (a fresh node per
// lower step) when the first is not.
// Also recorded: CPU µs per REGISTER of the node at its highest held step (from /proc/PID/stat;
// Kamailio = main process + children). kdmq runs with limits.register_rate 0 (see kdmqRegistrarNode).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../../test/support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../../test/support/kdmq-process.ts';
import { descendants } from '../../test/support/proc.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { figureLadder, ladderNote, ladderSamples, ladderWork } from '../support/figure-ladder.ts';
import type { RegistrarNode } from '../support/ladder.ts';

// the ladder lives in bench/support/ladder.ts; re-exported for scripts that import it from here
export { ladder, registerStep, type LadderResult, type RegistrarNode, type StepResult } from '../support/ladder.ts';

export const RATE_STEPS = [2000, 4000, 6000, 8000, 10_000, 12_000, 14_000, 16_000];
/** steps are added above RATE_STEPS (+2 000/s) up to this rate, so every ladder ends on a failed step */
export const RATE_MAX = 40_000;
/** Where the first run's ladders start: on 2026-12-07 both systems held 8 000/s (kdmq 8–10 k, Kamailio 6–8 k). */
const SEED = 8000;

export function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch {
      /* gone */
    }
  }
  return ticks / 100; // CLK_TCK
}

function statValue(text: string, name: string): number {
  const m = new RegExp(`${name} = (\\d+)`).exec(text);
  if (!m) throw new Error(`${name} missing: ${text.slice(0, 300)}`);
  return Number(m[1]);
}

export async function kdmqRegistrarNode(ip: string, extra: Record<string, unknown> = {}): Promise<RegistrarNode & { proc: KdmqProc }> {
  const proc = await startKdmq({
    ip,
    notificationAddresses: [],
    pingInterval: 60,
    logLevel: 'warn',
    extra: {
      registrar: { default_expires: 3600, min_expires: 60, max_expires: 3600 },
      // one sipp = one source IP: the per-IP REGISTER token bucket (default 200/s) would refuse the
      // load; Kamailio has no such limit, so it is lifted
      limits: { register_rate: 0 },
      dns: { servers: ['127.0.0.1:9'] },
      ...extra,
    },
  });
  return {
    name: 'kdmq',
    proc,
    target: `${ip}:${proc.sipPort}`,
    cpuSeconds: () => cpuOf([proc.pid]),
    contacts: async () => statValue(((await proc.rpc('stats.get_statistics', ['usrloc:location_contacts'])) as string[]).join('\n'), 'usrloc:location_contacts'),
    stop: () => proc.cleanup(),
  };
}

export async function kamailioRegistrarNode(ip: string, shmMb: number): Promise<RegistrarNode & { node: KamailioNode }> {
  const node = await startKamailio({ ip, notificationAddresses: [], dmq: false, children: 4, shmMb, pkgMb: 16, registrarDefaultExpires: 3600 });
  return {
    name: 'Kamailio',
    node,
    target: `${ip}:${node.sipPort}`,
    cpuSeconds: () => cpuOf([node.pid, ...descendants(node.pid)]),
    contacts: () => node.contactCount(),
    stop: () => node.cleanup(),
  };
}

async function runOne(which: 'kdmq' | 'kam', ctx: RunContext, seconds: number): Promise<Samples> {
  const tag = `${which}${ctx.run}`;
  // a fresh node on a fresh address for each ladder start; Kamailio keeps every contact in shm
  const open = async (): Promise<RegistrarNode> => {
    const [ip] = allocLoopbackIps(1);
    return which === 'kdmq' ? await kdmqRegistrarNode(ip) : await kamailioRegistrarNode(ip, 2048);
  };
  const r = await figureLadder(open, ctx, { figure: 'register-rate', name: which, steps: RATE_STEPS, seconds, seed: SEED, tag, max: RATE_MAX });
  return ladderSamples(which, r);
}

const SETTINGS =
  'one node, every REGISTER a new AoR with one contact (Expires 3600, 4 s response timeout), the table keeping every earlier step\'s contacts; ' +
  'kdmq: DMQ on with no peers, limits.register_rate 0; Kamailio: registrar + usrloc in memory, no DMQ, 4 children, shm 2 GB';

export const registrarRateFigure: Figure = {
  id: 'register-rate',
  title: 'REGISTER rate held by one node (sipp, distinct users, stepped rate, no replication)',
  runs: () => 3,
  note: () => ladderNote(RATE_STEPS, RATE_MAX),
  rows: (quick) => [
    {
      label: `REGISTER rate held, 1 node (bracketed, × ${quick ? 5 : 20} s steps)`,
      unit: 'REGISTER/s',
      kdmq: 'kdmq.held',
      kamailio: 'kam.held',
      kamailioNote: avail().kam ? undefined : 'Kamailio not installed',
      // the issue: kdmq ≥ Kamailio; the lab's Kamailio held 8000/s this way (§6.4 nodmq)
      target: { cmp: '>=', value: 8000 },
      work: ladderWork([['kdmq', 'kdmq'], ['kam', 'Kamailio']], `${SETTINGS}. The held step`),
    },
    {
      label: 'node CPU per REGISTER at the highest held rate', unit: 'µs', kdmq: 'kdmq.cpuUs', kamailio: 'kam.cpuUs',
      // issue #15's table: ≤ 0.4× Kamailio's, every run
      target: { cmp: '<=', value: 0.4, ratio: true },
      work: 'utime + stime from /proc/PID/stat over the held step (Kamailio: main process + every child), divided by the REGISTERs answered 200',
    },
    { label: 'one-node ladder ended on a failed step (1 = yes, 0 = still held at the maximum)', unit: '', kdmq: 'kdmq.endFailed', kamailio: 'kam.endFailed', digits: 0 },
  ],
  available: () => (avail().sipp ? undefined : 'sipp not installed'),
  run: (ctx) => alternating(ctx, (w) => runOne(w, ctx, ctx.quick ? 5 : 20)),
};

/** kdmq and Kamailio (when installed) one after the other, the order alternating between runs */
export async function alternating(ctx: RunContext, one: (which: 'kdmq' | 'kam') => Promise<Samples>): Promise<Samples> {
  const order: Array<'kdmq' | 'kam'> = avail().kam ? (ctx.run % 2 === 0 ? ['kdmq', 'kam'] : ['kam', 'kdmq']) : ['kdmq'];
  const out: Samples = {};
  for (const w of order) Object.assign(out, await one(w));
  return out;
}

let availCache: { sipp: boolean; kam: boolean } | undefined;
/** sipp and Kamailio installed? (synchronous: Figure.available and rows are) */
export function avail(): { sipp: boolean; kam: boolean } {
  if (!availCache) {
    let out = '';
    try {
      out = execFileSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? ''); // sipp -v exits non-zero
    }
    availCache = { sipp: /SIPp/.test(out), kam: kamailioAvailable().ok };
  }
  return availCache;
}
