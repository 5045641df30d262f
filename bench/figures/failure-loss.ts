// Figure failure-loss: no flapping under 5 % loss. Three kdmq nodes with the fast failure config
// (ping_interval 1, sip.t1 50 ms, sip.kdmq_timeout 800 ms) talk DMQ through a lossy relay in the
// bench process (bench/support/lossy-relay.ts: every datagram between two nodes, both ways,
// dropped with probability 5 %; no tc/netem on lo, which would touch every process on the
// machine). Once every node lists the other two active, each node's dmq.list_nodes is polled every
// 200 ms for the observation time; a flap is a peer seen anything but active (or missing) after
// being active. Target: 0 flaps on every run. The kill → disabled/removed times without loss are
// failure-fast's rows. Kamailio is not run: its dmq server_address must be one of its own sockets,
// so a relay cannot stand in front of it.

import { allocLoopbackIps, freeTcpPort, freeUdpPort } from '../../test/support/kamailio.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { startKdmqNode, type KdmqProcess, type ListedNode } from '../support/kdmq-proc.ts';
import { startLossyRelay } from '../support/lossy-relay.ts';

const LOSS = 0.05;
const POLL_MS = 200;

async function observe(nodes: KdmqProcess[], peers: Array<{ ip: string; port: number }>, seconds: number): Promise<{ flaps: number; notActivePolls: number; polls: number; errors: number; example?: string }> {
  const last = new Map<string, string>();
  let flaps = 0, notActivePolls = 0, polls = 0, errors = 0;
  let example: string | undefined;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const tick = performance.now();
    await Promise.all(nodes.map(async (n, i) => {
      let list: ListedNode[];
      try {
        list = await n.listNodes();
      } catch {
        errors++;
        return;
      }
      polls++;
      peers.forEach((p, j) => {
        if (j === i) return;
        const status = list.find((x) => !x.local && x.host === p.ip && x.port === p.port)?.status ?? 'missing';
        const key = `${i}>${j}`;
        if (status !== 'active') {
          notActivePolls++;
          if ((last.get(key) ?? 'active') === 'active') {
            flaps++;
            example ??= `node ${i + 1} saw node ${j + 1} ${status} at ${((performance.now() - t0) / 1000).toFixed(1)} s`;
          }
        }
        last.set(key, status);
      });
    }));
    await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (performance.now() - tick))));
  }
  return { flaps, notActivePolls, polls, errors, ...(example ? { example } : {}) };
}

/** one run: `loss` = the relay's drop probability (exported for validation at other losses) */
export async function runLoss(ctx: RunContext, seconds: number, loss = LOSS): Promise<Samples> {
  const real = allocLoopbackIps(3);
  const ports = await Promise.all(real.map(async (ip) => ({ sip: await freeUdpPort(ip), dmq: await freeUdpPort(ip), rpc: await freeTcpPort(ip) })));
  const relay = await startLossyRelay(allocLoopbackIps(3), real.map((ip, i) => ({ realIp: ip, realPort: ports[i].dmq })), loss, 7919 + ctx.run);
  const nodes: KdmqProcess[] = [];
  try {
    const v = real.map((_, i) => relay.addr(i));
    // all three at once (one after the other, the first pinged the last before it was up, and
    // the time-outs of those pings read as flaps at the start of the observation)
    const started = await Promise.allSettled(real.map((ip, i) => startKdmqNode({
      ip, sipPort: ports[i].sip, dmqPort: ports[i].dmq, rpcPort: ports[i].rpc, pingInterval: 1, sip: { t1: 50, kdmq_timeout: 800 },
      serverAddress: `sip:${v[i].ip}:${v[i].port}`, peers: v.filter((_, j) => j !== i).map((x) => `sip:${x.ip}:${x.port}`),
    })));
    for (const x of started) if (x.status === 'fulfilled') nodes.push(x.value);
    for (const x of started) if (x.status === 'rejected') throw x.reason;
    const tForm = performance.now();
    // formed = every node lists the other two active in every poll for 3 s (kdmq_timeout + one
    // ping interval: every ping sent before all three were up has ended by then)
    let since: number | undefined;
    await waitFor(async () => {
      const lists = await Promise.all(nodes.map((n) => n.listNodes()));
      const ok = lists.every((l, i) => v.every((p, j) => i === j || l.find((x) => !x.local && x.host === p.ip && x.port === p.port)?.status === 'active'));
      since = ok ? (since ?? performance.now()) : undefined;
      return since !== undefined && performance.now() - since >= 3000;
    }, { timeoutMs: 40_000, intervalMs: 200, what: 'every node lists the other two active through the lossy relay, 3 s on end' });
    ctx.log(`formed through the relay in ${((performance.now() - tForm) / 1000).toFixed(1)} s; observing ${seconds} s`);
    const s0 = relay.stats();
    const o = await observe(nodes, v, seconds);
    const s1 = relay.stats();
    const relayed = s1.relayed - s0.relayed, dropped = s1.dropped - s0.dropped, responses = s1.responses - s0.responses;
    // the nodes' answers must come back through the relay too: without them every ping ends in a
    // time-out and the figure measures only the other side's requests (the relay's old bug)
    if (responses < (relayed - responses) / 2) throw new Error(`the relay passed ${relayed - responses} requests but only ${responses} responses: the nodes' answers do not come back through it`);
    ctx.log(`${o.flaps} flaps, ${o.notActivePolls} not-active sightings in ${o.polls} polls (${o.errors} poll errors); relay: ${relayed} datagrams passed (${responses} responses), ${dropped} dropped (${((100 * dropped) / Math.max(1, relayed + dropped)).toFixed(1)} %)${o.example ? `; first: ${o.example}` : ''}`);
    return { flaps: o.flaps, notActivePolls: o.notActivePolls, lossPct: (100 * dropped) / Math.max(1, relayed + dropped), datagrams: relayed + dropped, seconds };
  } finally {
    for (const n of nodes) await n.stop().catch(() => n.kill());
    await relay.close();
  }
}

export const failureLossFigure: Figure = {
  id: 'failure-loss',
  title: 'no flapping under 5 % loss (kdmq, fast failure config, lossy relay between the nodes)',
  runs: () => 3,
  // idle processes timed by their own ping timers, polled every 200 ms: the runs at once
  concurrentRuns: true,
  note: (quick) => `3 kdmq nodes, ping_interval 1 s, sip.t1 50 ms, sip.kdmq_timeout 800 ms; every DMQ datagram between them dropped with probability ${LOSS * 100} % by a relay in the bench process; observed ${quick ? 20 : 60} s after formation`,
  rows: () => [
    {
      label: `failure-loss: flaps (a peer seen not active) under ${LOSS * 100} % loss`, unit: 'flaps', kdmq: 'flaps', digits: 0, target: { cmp: '<', value: 1 },
      kamailioNote: 'not run: Kamailio\'s server_address must be its own socket',
      work: (runs) => runs.map((r, i) => `run ${i + 1}: ${r.datagrams} DMQ datagrams through the relay in ${r.seconds} s, ${(r.lossPct ?? 0).toFixed(1)} % dropped`).join('; '),
    },
    { label: 'failure-loss: not-active sightings (node × peer × poll)', unit: '', kdmq: 'notActivePolls', digits: 0 },
    { label: 'failure-loss: datagrams dropped by the relay', unit: '%', kdmq: 'lossPct', digits: 1 },
  ],
  run: (ctx) => runLoss(ctx, ctx.quick ? 20 : 60),
};
