// The REGISTER rate ladder shared by register-rate, register-cluster and register-rate-dbmode.
// One step = rate × seconds REGISTERs of new users (Expires 3600, 4 s response timeout) to one
// node, whose location table keeps every earlier step's contacts, sent by ⌈rate / 4 000⌉ sipp
// processes each on its own loopback IP (one sipp tops out near 16 000/s here: the load generator
// must not be the limit). A step is HELD when failed + unfinished < 0.1 % of its REGISTERs, the
// rate achieved ≥ 95 % of the target (calls created / the step's seconds, not counting sipp's wait
// for the last answers or time-outs), AND, for a cluster, replication held: after the step every
// peer holds exactly the set of this step's AoRs the receiving node holds, and that node holds one
// per 200 sipp counted (RegistrarNode.replicated).
//
// Bracketing (so a run needs 2–3 steps, not the whole list): the ladder starts at `start` (the
// rate this system held in the previous run of the figure, or a seed for the first run) on a fresh
// node, after a short unjudged warm-up at the lowest rate. A held first step steps up on the same
// node until a step is not held; past the top of the list, steps are added (the list's last
// increment) up to `max`, so every ladder ends on a failed step unless it still holds at `max`
// (LadderResult.ceiling; the figure's note says so). A first step that is not held walks down, each
// lower step on a fresh node again, until one is held (or the list ends: 0). The result is the
// highest held rate with the step above it tried and not held. Every step tried (with its warm-up)
// is returned for the run's JSON detail, with the CPU of every node of the system and its work
// counters (RegistrarNode.cpuByNode / work).

import { rmSync } from 'node:fs';
import { allocLoopbackIps } from '../../test/support/kamailio.ts';
import { startSipp } from '../../test/support/sipp.ts';
import { waitFor } from '../../test/support/wait.ts';

export const MAX_LOSS = 0.001;
export const MIN_ACHIEVED = 0.95;

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
  /** contacts in the node's table before and after the step */
  contactsBefore: number;
  contacts: number;
  held: boolean;
  /** first line of sipp's error log when calls failed */
  firstError: string;
  /** sipp processes that sent the step */
  sipps: number;
  /** cluster only: what every node holds of the step's AoRs, and the drop/shed counters */
  replication?: Replicated;
  /** sipp's retransmitted REGISTERs (part of the datagrams the node got) */
  retransmissions: number;
  /** CPU seconds of the step per node of the system (receiver first; RegistrarNode.cpuByNode) */
  cpuByNode?: Record<string, number>;
  /** growth of the node's work counters over the step (RegistrarNode.work: KDMQs sent, …) */
  work?: Record<string, number>;
}

/** a cluster's verdict on one step: every node's set of the step's AoRs against the receiver's */
export interface Replicated {
  ok: boolean;
  /** AoRs of the step held, per node (receiver first) */
  held: Record<string, number>;
  /** missing on a peer / extra on a peer, per peer (counts; the first few named in `example`) */
  missing: Record<string, number>;
  extra: Record<string, number>;
  /** drop and shed counters read from the receiver (kdmq: peer queue drops, replication refusals) */
  counters: Record<string, number>;
  example?: string;
}

/** A system under test: one registrar node reachable at `target`. */
export interface RegistrarNode {
  name: string;
  target: string;
  /** CPU seconds (user + system) of the node's processes so far */
  cpuSeconds(): number;
  contacts(): Promise<number>;
  stop(): Promise<void>;
  /**
   * a cluster: compare every node's set of the step's AoRs (those starting with `prefix`; `users` =
   * every AoR the step sent a REGISTER for) after each step
   */
  replicated?(prefix: string, acked: number, users: string[]): Promise<Replicated>;
  /** CPU seconds so far of every node of the system (receiver first), keyed by a name */
  cpuByNode?(): Record<string, number>;
  /** counters of the work the system did so far (e.g. KDMQs the receiver sent); the step reports their growth */
  work?(): Promise<Record<string, number>>;
  /** digest password of every user: sipp answers the 401 with credentials (register-auth) */
  password?: string;
  /** called with the step's users before sipp starts (e.g. their subscriber rows; not timed) */
  provision?(users: string[]): Promise<void>;
}

const minus = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));

/** one sipp sends at most this rate; more sipps share a step */
const PER_SIPP = 4000;

/** One step: rate × seconds REGISTERs of new users from one sipp. */
export async function registerStep(
  n: RegistrarNode,
  o: { sippIps: string[]; rate: number; seconds: number; prefix: string; before: number },
): Promise<StepResult> {
  const count = o.rate * o.seconds;
  const k = Math.min(o.sippIps.length, Math.max(1, Math.ceil(o.rate / PER_SIPP)));
  const each = Math.floor(count / k);
  const users = Array.from({ length: k }, (_, j) => Array.from({ length: j === k - 1 ? count - each * (k - 1) : each }, (_, i) => `${o.prefix}s${j}x${i + 1}`));
  await n.provision?.(users.flat());
  const cpu0 = n.cpuSeconds();
  const byNode0 = n.cpuByNode?.();
  const work0 = await n.work?.();
  const rs = await Promise.all(users.map((u, j) => startSipp({
    target: n.target, localIp: o.sippIps[j], users: u, password: n.password,
    rate: o.rate / k, expires: 3600, responseTimeoutMs: 4000, timeoutMs: o.seconds * 1000 * 2 + 10_000, keepWorkDir: true,
  })));
  for (const x of rs) rmSync(x.workDir, { recursive: true, force: true });
  const r = {
    created: rs.reduce((a, x) => a + x.created, 0), successful: rs.reduce((a, x) => a + x.successful, 0),
    failed: rs.reduce((a, x) => a + x.failed, 0), elapsedMs: Math.max(...rs.map((x) => x.elapsedMs)),
    errors: rs.map((x) => x.errors).join('\n'), retransmissions: rs.reduce((a, x) => a + x.retransmissions, 0),
  };
  // calls created over the step's own time: sipp's CallRate(C) divides by its whole run, including
  // the final wait for late answers and time-outs (4 s), so a few late time-outs read as a slow rate
  const sendingS = Math.max(o.seconds, (r.elapsedMs - 4000 - 1000) / 1000);
  const achieved = r.created / sendingS;
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
  const cpuByNode = byNode0 ? minus(n.cpuByNode!(), byNode0) : undefined;
  const unfinished = Math.max(0, count - r.successful - r.failed);
  const replication = n.replicated ? await n.replicated(o.prefix, r.successful, rs.flatMap((x) => x.users)) : undefined;
  const work = work0 ? minus(await n.work!(), work0) : undefined;
  const held = (r.failed + unfinished) / count < MAX_LOSS && achieved >= MIN_ACHIEVED * o.rate && (replication?.ok ?? true);
  const firstError = r.failed > 0 ? (r.errors.split('\n').find((l) => l.includes('Call-Id')) ?? r.errors.split('\n')[1] ?? '').slice(0, 300) : '';
  return {
    target: o.rate, count, created: r.created, successful: r.successful, failed: r.failed, unfinished, achieved,
    elapsedMs: r.elapsedMs, cpuS, contactsBefore: o.before, contacts, held, firstError, sipps: k, ...(replication ? { replication } : {}),
    retransmissions: r.retransmissions, ...(cpuByNode ? { cpuByNode } : {}), ...(work ? { work } : {}),
  };
}

export interface LadderResult {
  held: number;
  /** CPU µs per successful REGISTER at the highest held step (null when none held) */
  cpuUsPerReg: number | null;
  /** the same per node of the system (receiver first), when the node reports cpuByNode */
  cpuUsPerRegByNode?: Record<string, number>;
  /** the highest held step itself (its work, datagrams, replication), when one held */
  top?: StepResult;
  /** true when the ladder still held at `max` (no failed step above the held rate) */
  ceiling: boolean;
  /** the first rate tried */
  start: number;
  /** every step tried, in the order tried; `fresh` = first step on a newly started node */
  steps: Array<StepResult & { fresh: boolean; warmup?: StepResult }>;
}

export interface LadderOptions {
  /** ascending rates */
  steps: number[];
  seconds: number;
  tag: string;
  log: (m: string) => void;
  /** first rate tried (rounded down to a rate of `steps`); default the lowest */
  start?: number;
  /** seconds of the warm-up at the lowest rate, when a fresh node starts above it (default 3) */
  warmupSeconds?: number;
  /** steps are added above the list's top (its last increment) up to this rate (default: the top) */
  max?: number;
}

/** the rates of `steps` and, past its top, its last increment repeated up to `max` */
export function extendSteps(steps: number[], max: number | undefined): number[] {
  const out = [...steps];
  const inc = steps.length > 1 ? steps[steps.length - 1] - steps[steps.length - 2] : steps[0];
  if (max !== undefined && inc > 0) while (out[out.length - 1] + inc <= max) out.push(out[out.length - 1] + inc);
  return out;
}

function describe(name: string, s: StepResult, what: string): string {
  const per = s.successful ? ((s.cpuS * 1e6) / s.successful).toFixed(0) : '—';
  const nodes = s.cpuByNode && s.successful ? `, per node ${Object.entries(s.cpuByNode).map(([k, v]) => `${k} ${((v * 1e6) / s.successful).toFixed(0)}`).join(' ')} µs/REGISTER` : '';
  const work = s.work ? `, work ${JSON.stringify(s.work)}` : '';
  const rep = s.replication;
  const repText = rep
    ? `; replication ${rep.ok ? 'held' : 'NOT held'}: held ${JSON.stringify(rep.held)}, missing ${JSON.stringify(rep.missing)}, extra ${JSON.stringify(rep.extra)}, counters ${JSON.stringify(rep.counters)}${rep.example ? ` (${rep.example})` : ''}`
    : '';
  return (
    `${name} ${s.target}/s: ${what} — ${s.successful}/${s.count} ok, ${s.failed} failed, ${s.unfinished} unfinished, ` +
    `achieved ${s.achieved.toFixed(0)}/s by ${s.sipps} sipp, sipp ${(s.elapsedMs / 1000).toFixed(1)} s, node CPU ${s.cpuS.toFixed(1)} s ` +
    `(${per} µs/REGISTER${nodes}), ${s.retransmissions} retransmissions${work}, contacts ${s.contactsBefore} → ${s.contacts}${repText}`
  );
}

/** Index of the highest rate ≤ start (0 when start is below every rate). */
export function startIndex(steps: number[], start: number | undefined): number {
  let i = 0;
  for (let j = 0; j < steps.length; j++) if (start !== undefined && steps[j] <= start) i = j;
  return i;
}

/**
 * The walk of the ladder, apart from sipp: try steps[i]; held → step up until a step is not held
 * (or the list ends); not held → step down until one is held (or the list ends). Every step is
 * tried at most once. `fresh` is true for the first step and for every step walking down: each of
 * those gets a newly started node, so a step is never measured right after a failed one on a node
 * still catching up, nor with a table swollen by the failed steps above it. Returns the highest
 * held rate (0 when none).
 */
export async function bracket(steps: number[], i: number, tryStep: (rate: number, fresh: boolean) => Promise<boolean>): Promise<number> {
  let dir: 1 | -1 | 0 = 0;
  let held = 0;
  for (;;) {
    if (await tryStep(steps[i], dir !== 1)) {
      held = steps[i];
      // walking down, the first held step is the answer (the one above was not held)
      if (dir === -1 || i === steps.length - 1) return held;
      dir = 1;
      i++;
    } else {
      // walking up, the step below was held; a first step not held walks down
      if (dir === 1 || i === 0) return held;
      dir = -1;
      i--;
    }
  }
}

/**
 * The bracketing rate ladder. `open` starts a fresh node (stopped by the ladder); its table keeps
 * the contacts of the warm-up and of every step tried on it.
 */
export async function ladder(open: () => Promise<RegistrarNode>, o: LadderOptions): Promise<LadderResult> {
  const steps = extendSteps(o.steps, o.max);
  const sippIps = allocLoopbackIps(Math.max(8, Math.ceil(steps[steps.length - 1] / PER_SIPP)));
  const i = startIndex(steps, o.start);
  const result: LadderResult = { held: 0, cpuUsPerReg: null, start: steps[i], steps: [], ceiling: false };
  let n: RegistrarNode | undefined;
  let name = 'node';
  let before = 0;
  try {
    result.held = await bracket(steps, i, async (rate, fresh) => {
      let warmup: StepResult | undefined;
      if (fresh || !n) {
        if (n) await n.stop();
        n = undefined;
        n = await open();
        name = n.name;
        before = await n.contacts();
        if (rate > steps[0]) {
          // a cold node (JIT, allocator, hash tables) is not asked for a high rate in its first second
          warmup = await registerStep(n, { sippIps, rate: steps[0], seconds: o.warmupSeconds ?? 3, prefix: `${o.tag}w${rate}u`, before });
          before = warmup.contacts;
          o.log(describe(name, warmup, 'warm-up of a fresh node, not judged'));
        }
      }
      const s = await registerStep(n, { sippIps, rate, seconds: o.seconds, prefix: `${o.tag}r${rate}u`, before });
      result.steps.push({ ...s, fresh, ...(warmup ? { warmup } : {}) });
      before = s.contacts;
      o.log(describe(name, s, s.held ? 'held' : 'NOT held'));
      if (s.firstError) o.log(`${name} ${rate}/s: first sipp error: ${s.firstError}`);
      return s.held;
    });
  } finally {
    await n?.stop();
  }
  const top = result.steps.find((s) => s.held && s.target === result.held);
  result.cpuUsPerReg = top && top.successful ? (top.cpuS * 1e6) / top.successful : null;
  if (top) result.top = top;
  if (top?.cpuByNode && top.successful) result.cpuUsPerRegByNode = Object.fromEntries(Object.entries(top.cpuByNode).map(([k, v]) => [k, (v * 1e6) / top.successful]));
  result.ceiling = result.held === steps[steps.length - 1];
  o.log(`${name}: held ${result.held}/s${result.ceiling ? ' = the ladder\'s maximum, still held' : ''} (tried ${result.steps.map((s) => `${s.fresh ? '|' : ''}${s.target}${s.held ? '✓' : '✗'}`).join(' ')}; | = fresh node)`);
  return result;
}
