// Replay: rebuild one node with the one factory (createNode) on a VirtualClock from
// the trace header (config, seeds, start time), deliver the recorded inbound datagrams at their
// recorded virtual times (timers in between fire as virtual time passes), capture what the node
// sends, and compare it with the recorded outputs (compare.ts).

import { createNode, type KdmqNode } from '../actors/node/create-node.ts';
import type { App } from '../actors/node/install-app.ts';
import { validateConfig } from '../config/load.ts';
import type { KdmqConfig } from '../config/types.ts';
import { SeededRandom, type Random } from '../ports/random.ts';
import { VirtualClock } from '../ports/virtual-clock.ts';
import { parseEp, unb64, type Trace, type TraceRecord } from './format.ts';
import { ReplayResolver, ReplayTransport, type Sent } from './replay-ports.ts';

export interface ReplayInput {
  t: number;
  local: string;
  remote: string;
  data: Uint8Array;
}

export interface ReplaySetup {
  config: KdmqConfig;
  start: number;
  end: number;
  seeds: { node: string; app: string };
  inputs: ReplayInput[];
  dns: Array<Extract<TraceRecord, { r: 'dns' }>>;
  binds: Array<Extract<TraceRecord, { r: 'bind' }>>;
  /** the --as hook: may rewrite an inbound datagram (or hold it) and sees every send */
  /** --as on a capture that began after the node had joined: mark these peers active first */
  warmPeers?: string[];
  mapper?: { inbound(i: ReplayInput, deliver: (d: Uint8Array) => void): void; attach(t: ReplayTransport, clock: VirtualClock, deliver: (i: ReplayInput) => void): void };
}

export interface ReplayRun {
  node: KdmqNode;
  app: App;
  clock: VirtualClock;
  sent: Sent[];
  dnsMissing: string[];
}

export type SetupResult = { ok: true; setup: ReplaySetup } | { ok: false; error: string };

/** a node trace (recorded by kdmq) → what replay needs */
export function setupFromNodeTrace(trace: Trace): SetupResult {
  const h = trace.header;
  if (h.kind !== 'node' || !h.node) return { ok: false, error: 'this is a cluster trace: replay one of its nodes with --as sip:IP:PORT' };
  // the header holds an already validated config; re-validate, but accept a schema default the
  // validator itself rejects (sip.kdmq_timeout: 0 = 64*T1 is the default yet below its min of 1)
  const cfg = validateConfig({ ...h.node.config, sip: { ...(h.node.config.sip as object), kdmq_timeout: (h.node.config.sip as { kdmq_timeout?: number })?.kdmq_timeout || undefined } });
  if (!cfg.ok) return { ok: false, error: `trace header config: ${cfg.error}` };
  cfg.config.sip.kdmq_timeout = (h.node.config.sip as { kdmq_timeout?: number })?.kdmq_timeout ?? cfg.config.sip.kdmq_timeout;
  const inputs: ReplayInput[] = [];
  let end = h.start;
  for (const r of trace.records) {
    end = Math.max(end, r.t);
    if (r.r === 'in') inputs.push({ t: r.t, local: r.local, remote: r.remote, data: unb64(r.data) });
  }
  const endRec = trace.records.find((r) => r.r === 'end');
  return {
    ok: true,
    setup: {
      config: cfg.config,
      start: h.start,
      end: endRec ? endRec.t : end,
      seeds: h.node.seed,
      inputs,
      dns: trace.records.filter((r): r is Extract<TraceRecord, { r: 'dns' }> => r.r === 'dns'),
      binds: trace.records.filter((r): r is Extract<TraceRecord, { r: 'bind' }> => r.r === 'bind'),
    },
  };
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

/**
 * The node's random as the trace header recorded it: its own stream from seed.node, and its
 * applications' (fork('app'), what createNode gives them) from seed.app. Recordings made since the
 * one factory have seed.app = seed.node + '/app'; older ones (kdmq check's World gave the apps a
 * sibling stream of the cluster's random) name another seed, and replay keeps it.
 */
export function recordedRandom(seeds: { node: string; app: string }): Random {
  const node = new SeededRandom(seeds.node);
  return {
    seed: node.seed,
    next: () => node.next(),
    int: (n) => node.int(n),
    hex: (bytes) => node.hex(bytes),
    fork: (label) => (label === 'app' ? new SeededRandom(seeds.app) : node.fork(label)),
  };
}

export async function runReplay(s: ReplaySetup): Promise<ReplayRun> {
  const clock = new VirtualClock(s.start);
  const transport = new ReplayTransport(clock, s.binds);
  const resolver = new ReplayResolver(clock, s.dns);
  const node = await createNode(s.config, { clock, random: recordedRandom(s.seeds), resolver, transport });
  const app = node.app;
  for (const w of s.warmPeers ?? []) {
    const m = /^sip:(.+):(\d+)$/.exec(w);
    const id = m ? { host: m[1], port: m[2], transport: null } : null;
    if (id && !node.list.ensure(id, 'active', { kdmq: true })) node.list.send(id, { type: 'node.replied', at: clock.now() });
  }
  await flushMicrotasks();
  const deliver = (i: ReplayInput) => transport.deliver(parseEp(i.local)!, parseEp(i.remote)!, i.data);
  s.mapper?.attach(transport, clock, deliver);
  const runTo = async (t: number) => {
    for (;;) {
      const due = clock.nextDue();
      if (due === undefined || due > t) break;
      clock.step();
      await flushMicrotasks();
    }
    clock.runUntil(t);
  };
  for (const i of s.inputs) {
    await runTo(i.t);
    if (s.mapper) s.mapper.inbound(i, (d) => deliver({ ...i, data: d }));
    else deliver(i);
    await flushMicrotasks();
  }
  await runTo(s.end);
  await flushMicrotasks();
  return { node, app, clock, sent: transport.sent, dnsMissing: resolver.missing };
}

export async function stopReplay(r: ReplayRun): Promise<void> {
  r.node.root.stop();
  r.node.list.stopAll();
}
