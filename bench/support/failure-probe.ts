// The failure-detection measurement shared by kdmq and Kamailio clusters: wait until every
// survivor lists the victim active, wait a random part of a ping interval (so the kill falls at a
// random phase of the ping timer), SIGKILL the victim, then poll dmq.list_nodes on every survivor
// every `pollMs` and record when each one first shows the victim not active, disabled, and gone.

import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../../test/support/wait.ts';
import type { ListedNode } from './kdmq-proc.ts';

export interface ProbeMember {
  name: string;
  host: string;
  dmqPort: number;
  listNodes(): Promise<ListedNode[]>;
  /** How many failed requests to `hostPort` this node has logged so far (Kamailio's log). */
  failuresLogged?(hostPort: string): number;
}

export interface ProbeCluster {
  members: ProbeMember[];
  /** crash-kill member i (and its children), resolves when gone */
  kill(i: number): Promise<void>;
}

export interface SurvivorView {
  /** seconds after the kill; null = not seen within the wait */
  notActive: number | null;
  notActiveStatus: string | null;
  disabled: number | null;
  removed: number | null;
  /** times a poll saw the victim active again right after a poll that saw it not active */
  backToActive: number;
  /** first poll after which the node's log shows a failed request to the victim */
  failureLogged: number | null;
  polls: number;
  pollErrors: number;
}

export interface ProbeResult {
  survivors: SurvivorView[];
  /** earliest survivor for each event (null = no survivor saw it) */
  first: { notActive: number | null; disabled: number | null; removed: number | null; failureLogged: number | null };
  waitedS: number;
}

const find = (list: ListedNode[], m: ProbeMember) => list.find((n) => !n.local && n.host === m.host && n.port === m.dmqPort);

export async function probeFailure(
  c: ProbeCluster,
  opts: { victim: number; pingIntervalS: number; formTimeoutMs: number; waitMs: number; pollMs: number; log(m: string): void },
): Promise<ProbeResult> {
  const victim = c.members[opts.victim];
  const surv = c.members.filter((_, i) => i !== opts.victim);
  const tForm = performance.now();
  await waitFor(
    async () => {
      const lists = await Promise.all(c.members.map((m) => m.listNodes()));
      return lists.every((l, i) => c.members.every((o, j) => i === j || find(l, o)?.status === 'active'));
    },
    { timeoutMs: opts.formTimeoutMs, intervalMs: 200, what: 'every node lists every other node active' },
  );
  const phase = Math.random() * opts.pingIntervalS * 1000;
  opts.log(`formed in ${((performance.now() - tForm) / 1000).toFixed(1)} s; kill ${victim.name} in ${(phase / 1000).toFixed(1)} s`);
  await delay(phase);

  const vKey = `${victim.host}:${victim.dmqPort}`;
  const logged0 = surv.map((m) => m.failuresLogged?.(vKey) ?? 0);
  const t0 = performance.now();
  await c.kill(opts.victim);
  const last: string[] = surv.map(() => 'active');
  const views: SurvivorView[] = surv.map(() => ({ notActive: null, notActiveStatus: null, disabled: null, removed: null, backToActive: 0, failureLogged: null, polls: 0, pollErrors: 0 }));
  const deadline = t0 + opts.waitMs;
  while (performance.now() < deadline && !views.every((v) => v.removed !== null)) {
    const tick = performance.now();
    await Promise.all(
      surv.map(async (m, i) => {
        const v = views[i];
        if (v.removed !== null) return;
        if (v.failureLogged === null && m.failuresLogged && m.failuresLogged(vKey) > logged0[i]) v.failureLogged = (performance.now() - t0) / 1000;
        let list: ListedNode[];
        try {
          list = await m.listNodes();
        } catch {
          v.pollErrors++;
          return;
        }
        // the state was read somewhere between tick and now: take the later (conservative) end
        const at = (performance.now() - t0) / 1000;
        v.polls++;
        const e = find(list, victim);
        if (!e) {
          v.removed = at;
          if (v.notActive === null) [v.notActive, v.notActiveStatus] = [at, 'removed'];
          return;
        }
        if (e.status !== 'active' && v.notActive === null) [v.notActive, v.notActiveStatus] = [at, e.status];
        if (e.status === 'active' && last[i] !== 'active') v.backToActive++;
        last[i] = e.status;
        if (e.status === 'disabled' && v.disabled === null) v.disabled = at;
      }),
    );
    await delay(Math.max(0, opts.pollMs - (performance.now() - tick)));
  }
  const min = (k: 'notActive' | 'disabled' | 'removed' | 'failureLogged') => {
    const xs = views.map((v) => v[k] ?? (k === 'disabled' ? v.removed : null)).filter((x): x is number => x !== null);
    return xs.length ? Math.min(...xs) : null;
  };
  const r = { survivors: views, first: { notActive: min('notActive'), disabled: min('disabled'), removed: min('removed'), failureLogged: min('failureLogged') }, waitedS: (performance.now() - t0) / 1000 };
  opts.log(
    surv
      .map((m, i) => {
        const v = views[i];
        return `${m.name}: not-active ${fmt(v.notActive)} (${v.notActiveStatus ?? '-'}), disabled ${fmt(v.disabled)}, removed ${fmt(v.removed)}, failure logged ${fmt(v.failureLogged)}, back-to-active ${v.backToActive}, polls ${v.polls}`;
      })
      .join(' | '),
  );
  return r;
}

const fmt = (x: number | null) => (x === null ? 'never' : `${x.toFixed(2)} s`);
