// Figure: REGISTER rate held by one node, kdmq vs Kamailio 5.6.3 (registrar + usrloc in memory, no
// DMQ: the harness's dmq:false; kdmq with DMQ on but no peers) in the same run, order alternating.
// Method of kamailio-lab.md §6.4 (d): one sipp on its own loopback IP sends rate × N s REGISTERs
// of new users per step (Expires 3600, 4 s response timeout), the rate stepped up on one node
// whose location table keeps the earlier steps' contacts. A step is held when failed + unfinished
// < 0.1 % of the step's REGISTERs AND sipp's achieved call rate ≥ 95 % of the target. The ladder
// stops at the first step not held; the result is the highest held rate (0 = not even the first).
// Also recorded: CPU µs per REGISTER of the node at its highest held step (from /proc/PID/stat;
// Kamailio = main process + children). kdmq runs with limits.register_rate 0 and
// limits.max_pending_transactions 2 000 000 (see kdmqRegistrarNode).

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../../test/support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../../test/support/kdmq-process.ts';
import { descendants } from '../../test/support/proc.ts';
import { parseSippStat, startSipp } from '../../test/support/sipp.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';

export const RATE_STEPS = [2000, 4000, 6000, 8000, 10_000, 12_000];
const MAX_LOSS = 0.001;
const MIN_ACHIEVED = 0.95;

export interface StepResult {
  target: number;
  count: number;
  created: number;
  successful: number;
  failed: number;
  unfinished: number;
  /** sipp's CallRate(C): calls created / elapsed */
  achieved: number;
  elapsedMs: number;
  cpuS: number;
  contacts: number;
  held: boolean;
  /** first line of sipp's error log when calls failed */
  firstError: string;
}

/** A system under test: one registrar node reachable at `target`. */
export interface RegistrarNode {
  name: string;
  target: string;
  /** CPU seconds (user + system) of the node's processes so far */
  cpuSeconds(): number;
  contacts(): Promise<number>;
  stop(): Promise<void>;
}

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
      // load, and the default cap of 100 000 live server transactions (answered ones live 32 s for
      // retransmissions) would refuse above ≈ 3100/s; Kamailio has neither, so both are lifted
      limits: { register_rate: 0, max_pending_transactions: 2_000_000 },
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

/** One step: rate × seconds REGISTERs of new users from one sipp. */
export async function registerStep(
  n: RegistrarNode,
  o: { sippIp: string; rate: number; seconds: number; prefix: string; before: number },
): Promise<StepResult> {
  const count = o.rate * o.seconds;
  const cpu0 = n.cpuSeconds();
  const r = await startSipp({
    target: n.target, localIp: o.sippIp, users: count, userPrefix: o.prefix, rate: o.rate, expires: 3600,
    responseTimeoutMs: 4000, timeoutMs: o.seconds * 1000 * 2 + 10_000, keepWorkDir: true,
  });
  let achieved = 0;
  try {
    achieved = parseSippStat(readFileSync(`${r.workDir}/stat.csv`, 'utf8'))['CallRate(C)'] ?? 0;
  } catch {
    achieved = r.created / (r.elapsedMs / 1000);
  } finally {
    rmSync(r.workDir, { recursive: true, force: true });
  }
  // the node has answered everything it will answer: its table settles at before + successful
  const want = o.before + r.successful;
  let contacts = await n.contacts();
  try {
    contacts = await waitFor(async () => {
      const c = await n.contacts();
      return c >= want ? c : undefined;
    }, { timeoutMs: 5000, intervalMs: 100, what: `${n.name} holding ${want} contacts` });
  } catch {
    contacts = await n.contacts();
  }
  const cpuS = n.cpuSeconds() - cpu0;
  const unfinished = Math.max(0, count - r.successful - r.failed);
  const held = (r.failed + unfinished) / count < MAX_LOSS && achieved >= MIN_ACHIEVED * o.rate;
  const firstError = r.failed > 0 ? (r.errors.split('\n').find((l) => l.includes('Call-Id')) ?? r.errors.split('\n')[1] ?? '').slice(0, 300) : '';
  return { target: o.rate, count, created: r.created, successful: r.successful, failed: r.failed, unfinished, achieved, elapsedMs: r.elapsedMs, cpuS, contacts, held, firstError };
}

export interface LadderResult {
  held: number;
  /** CPU µs per successful REGISTER at the highest held step (null when none held) */
  cpuUsPerReg: number | null;
  steps: StepResult[];
}

/** The rate ladder on one node (its table keeps every step's contacts); stops at the first failed step. */
export async function ladder(n: RegistrarNode, o: { steps: number[]; seconds: number; tag: string; log: (m: string) => void }): Promise<LadderResult> {
  const [sippIp] = allocLoopbackIps(1);
  const steps: StepResult[] = [];
  let held = 0;
  let cpuUsPerReg: number | null = null;
  let before = await n.contacts();
  for (const rate of o.steps) {
    const s = await registerStep(n, { sippIp, rate, seconds: o.seconds, prefix: `${o.tag}r${rate}u`, before });
    steps.push(s);
    before = s.contacts;
    o.log(
      `${n.name} ${rate}/s: ${s.held ? 'held' : 'NOT held'} — ${s.successful}/${s.count} ok, ${s.failed} failed, ${s.unfinished} unfinished, ` +
        `achieved ${s.achieved.toFixed(0)}/s, sipp ${(s.elapsedMs / 1000).toFixed(1)} s, node CPU ${s.cpuS.toFixed(1)} s ` +
        `(${s.successful ? ((s.cpuS * 1e6) / s.successful).toFixed(0) : '—'} µs/REGISTER), ${s.contacts} contacts`,
    );
    if (s.firstError) o.log(`${n.name} ${rate}/s: first sipp error: ${s.firstError}`);
    if (!s.held) break;
    held = rate;
    cpuUsPerReg = s.successful ? (s.cpuS * 1e6) / s.successful : null;
  }
  return { held, cpuUsPerReg, steps };
}

async function runOne(which: 'kdmq' | 'kam', ctx: RunContext, seconds: number): Promise<Samples> {
  const [ip] = allocLoopbackIps(1);
  const tag = `${which}${ctx.run}`;
  // Kamailio keeps up to Σ rate × seconds contacts in shm (≈ 1.2 M at 12 000/s × 20 s steps)
  const n = which === 'kdmq' ? await kdmqRegistrarNode(ip) : await kamailioRegistrarNode(ip, 2048);
  try {
    const r = await ladder(n, { steps: RATE_STEPS, seconds, tag, log: ctx.log });
    return { [`${which}.held`]: r.held, [`${which}.cpuUs`]: r.cpuUsPerReg };
  } finally {
    await n.stop();
  }
}

export const registrarRateFigure: Figure = {
  id: 'register-rate',
  title: 'REGISTER rate held by one node (sipp, distinct users, stepped rate, no replication)',
  runs: () => 3,
  rows: (quick) => [
    {
      label: `REGISTER rate held, 1 node (${RATE_STEPS.map((r) => r / 1000).join('/')} k/s × ${quick ? 5 : 20} s)`,
      unit: 'REGISTER/s',
      kdmq: 'kdmq.held',
      kamailio: 'kam.held',
      kamailioNote: avail().kam ? undefined : 'Kamailio not installed',
      // the issue: kdmq ≥ Kamailio; the lab's Kamailio held 8000/s this way (§6.4 nodmq)
      target: { cmp: '>=', value: 8000 },
    },
    { label: 'node CPU per REGISTER at the highest held rate', unit: 'µs', kdmq: 'kdmq.cpuUs', kamailio: 'kam.cpuUs' },
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
