// The fuzz campaign against a live mixed cluster (two `kdmq serve` + one Kamailio 5.6.3 on fresh
// loopback IPs): register N users first, snapshot every node's ul.dump, drive the datagrams of
// fuzz-gen.ts (and random JSON-RPC bodies to the kdmq nodes) from a socket outside the node list,
// then check that every node answers, the Kamailio's DMQ did not freeze (kamcmd dmq.list_nodes)
// and the snapshot bindings are unchanged on every node. Used by test/interop/fuzz.test.ts,
// scripts/fuzz.ts and bench/figures/fuzz-campaign.ts.
import { createSocket, type Socket } from 'node:dgram';
import { allocLoopbackIps, startKamailio, type KamailioNode, type UlAor } from './kamailio.ts';
import { parseUlDump } from './kamcmd-parse.ts';
import { deepMerge, startKdmq, type KdmqProc } from './kdmq-process.ts';
import { SipUa } from './sip-ua.ts';
import { diffDumps, normKamailio, normKdmq, type NormDump } from './ul-compare.ts';
import { waitFor } from './wait.ts';
import { casePool, mutate, prng, rpcBody, type Case } from './fuzz-gen.ts';
import fc from 'fast-check';

export interface FuzzCluster {
  kdmq: KdmqProc[];
  kam: KamailioNode;
  fuzzIp: string;
  /** how many snap-… users registerSnapshotUsers registered */
  snapUsers?: number;
  stop(): Promise<void>;
}

export interface CampaignResult {
  datagrams: number;
  rpcCalls: number;
  seconds: number;
  datagramsPerSecond: number;
  /** final replies received by status code; "req" = requests the nodes sent to the fuzz socket */
  replies: Record<string, number>;
  rpcErrors: number;
  rpcAnswers: number;
}

export interface CheckResult {
  alive: Record<string, boolean>;
  kamailioDmqAnswers: boolean;
  snapshotBindings: number;
  /** one line per difference of a snapshot binding, per node */
  diffs: string[];
  /** the end of Kamailio's log when it did not survive */
  kamailioLog?: string;
  /** per kdmq node: flow-control, node-list and limit counters from /metrics (non-zero samples) */
  kdmqMetrics?: Record<string, Record<string, number>>;
  /** Kamailio's `kamcmd core.shmmem` (bytes: total, used, max_used, …) when it answers */
  kamailioShm?: Record<string, number>;
}

const WATCHED = /^(kdmq_peer_queue_dropped_total|kdmq_node_list_refused_total|kdmq_limit_refusals_total|kdmq_requests_sent_total|kdmq_requests_timed_out_total|kdmq_nodes|kdmq_kdmq_in_flight|kdmq_kdmq_queued|kdmq_rejected_senders_total)\b/;

/** the watched samples of one kdmq node's /metrics, "name{labels}" → value (zeros left out) */
export async function kdmqMetrics(k: KdmqProc): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const text = await fetch(k.rpcUrl.replace(/\/RPC$/, '/metrics'), { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => '');
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m && WATCHED.test(m[1]) && Number(m[2]) !== 0) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function kamailioShm(kam: KamailioNode): Promise<Record<string, number> | undefined> {
  const r = await kam.kamcmd('core.shmmem');
  if (r.code !== 0 || r.timedOut) return undefined;
  const out: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^\s*(\w+):\s*(\d+)\s*$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export interface FuzzClusterOptions {
  /** deep-merged into both kdmq configs (e.g. { limits: { peer_in_flight: 10000 } } for a baseline) */
  kdmqExtra?: Record<string, unknown>;
  /** Kamailio shared memory in MB (default 64) */
  shmMb?: number;
}

export async function startFuzzCluster(o: FuzzClusterOptions = {}): Promise<FuzzCluster> {
  const [ipK, ipA, ipB, fuzzIp] = allocLoopbackIps(4);
  const extra = deepMerge({ registrar: { default_expires: 3600 }, htable: { tables: { lab: { size: 8, dmqreplicate: true }, fz: { size: 4, dmqreplicate: true } } } }, o.kdmqExtra ?? {});
  const kam = await startKamailio({ ip: ipK, notificationAddresses: [`sip:${ipA}:5090`], pingInterval: 5, registrarDefaultExpires: 3600, shmMb: o.shmMb });
  const a = await startKdmq({ ip: ipA, notificationAddresses: [`sip:${ipK}:5090`], extra, logLevel: 'warn' });
  const b = await startKdmq({ ip: ipB, notificationAddresses: [`sip:${ipA}:5090`], extra, logLevel: 'warn' });
  const cluster: FuzzCluster = { kdmq: [a, b], kam, fuzzIp, stop: async () => { for (const n of [a, b, kam]) await n.cleanup(); } };
  await waitFor(async () => {
    const lists = [await kam.listNodes(), await a.listNodes(), await b.listNodes()];
    return lists.every((l) => l.filter((n) => !n.local && n.status === 'active').length === 2);
  }, { timeoutMs: 40_000, intervalMs: 250, what: 'fuzz cluster full mesh' });
  return cluster;
}

/** register `n` users `snap-…` (half on Kamailio, half on kdmq) and wait until every node has them all */
export async function registerSnapshotUsers(c: FuzzCluster, n: number): Promise<void> {
  c.snapUsers = n;
  const ua = await SipUa.open(c.fuzzIp);
  try {
    for (let i = 0; i < n; i++) {
      const target = i % 3 === 0 ? `${c.kam.ip}:5060` : `${c.kdmq[i % 2].ip}:5060`;
      const u = `snap-${String(i).padStart(4, '0')}`;
      const r = await ua.register({ target, user: u, callId: `snap-cid-${i}`, cseq: 1, contacts: [`<sip:${u}@127.0.0.8:${5000 + (i % 1000)}>`], expires: 3600 });
      if (r.status !== 200) throw new Error(`REGISTER ${u} on ${target}: ${r.status}`);
    }
  } finally {
    await ua.close();
  }
  await waitFor(async () => (await snapshot(c)).every((d) => d.size === n), { timeoutMs: 30_000, intervalMs: 250, what: `${n} snapshot bindings on every node` });
}

/** the snap-… bindings of every node: [kam, kdmq a, kdmq b] */
export async function snapshot(c: FuzzCluster): Promise<NormDump[]> {
  const only = (d: NormDump) => new Map([...d].filter(([k]) => k.startsWith('snap-')));
  const at = Date.now();
  const kdmq = await Promise.all(c.kdmq.map(async (k) => only(normKdmq(await k.rpc('ul.dump'), at))));
  return [only(await kamailioSnap(c)), ...kdmq];
}

/**
 * Kamailio's snap-… bindings with absolute expiries. Kamailio reports remaining seconds, so each
 * answer is anchored at the wall time it arrived: one ul.dump, or (when it is too big for kamcmd:
 * "reply too big" after many fuzzed bindings) one ul.lookup per snap user, 8 at a time, each
 * anchored at its own answer. (Anchoring 80 concurrent kamcmd answers at the time the first was
 * asked shifted every expiry by the seconds they took on a busy machine: 2026-11-26's "Expires
 * 3 s earlier" differences.)
 */
async function kamailioSnap(c: FuzzCluster): Promise<NormDump> {
  try {
    const dump = await c.kam.ulDump();
    return normKamailio(dump, Date.now());
  } catch (e) {
    if (!/reply too big/.test(String(e))) throw e;
  }
  const users = Array.from({ length: c.snapUsers ?? 0 }, (_, i) => `snap-${String(i).padStart(4, '0')}`);
  const out: NormDump = new Map();
  for (let i = 0; i < users.length; i += 8) {
    const rs = await Promise.all(users.slice(i, i + 8).map(async (u) => ({ r: await c.kam.kamcmd('ul.lookup', 'location', u), at: Date.now() })));
    for (const { r, at } of rs) {
      if (r.code !== 0 || r.timedOut || !r.stdout.trimStart().startsWith('{')) continue; // not found
      const body = r.stdout.trim().split('\n').slice(1).join('\n'); // without the opening "{"
      const aors: UlAor[] = parseUlDump(`Domains: {\nDomain: {\nDomain: location\nAoRs: {\nInfo: {\n${body}\n}\n}\n}\n`);
      for (const [k, v] of normKamailio(aors, at)) out.set(k, v);
    }
  }
  return out;
}

export interface CampaignOptions {
  datagrams: number;
  seed: number;
  /** datagrams per burst before yielding to the event loop (default 64) */
  burst?: number;
  /** one JSON-RPC call per this many datagrams (default 50) */
  rpcEvery?: number;
  onProgress?: (sent: number) => void;
}

export async function runCampaign(c: FuzzCluster, o: CampaignOptions): Promise<CampaignResult> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, c.fuzzIp, () => r()));
  const src = `${c.fuzzIp}:${sock.address().port}`;
  const replies: Record<string, number> = {};
  sock.on('message', (m) => {
    const s = /^SIP\/2\.0 (\d{3})/.exec(m.subarray(0, 16).toString('latin1'));
    const k = s ? s[1] : 'req';
    replies[k] = (replies[k] ?? 0) + 1;
  });
  const pool: Case[] = casePool(o.seed, 2000);
  const rpcs = fc.sample(rpcBody, { seed: o.seed, numRuns: 500 });
  const rnd = prng(o.seed);
  const dests = {
    'kdmq-sip': c.kdmq.map((k) => ({ ip: k.ip, port: k.sipPort })),
    'kdmq-dmq': c.kdmq.map((k) => ({ ip: k.ip, port: k.dmqPort })),
    'kamailio-sip': [{ ip: c.kam.ip, port: c.kam.sipPort }],
  };
  const burst = o.burst ?? 64;
  const rpcEvery = o.rpcEvery ?? 50;
  let rpcCalls = 0, rpcErrors = 0, rpcAnswers = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = Date.now();
  for (let i = 0; i < o.datagrams; i++) {
    const cs = pool[Math.floor(rnd() * pool.length)];
    const d = dests[cs.target][Math.floor(rnd() * dests[cs.target].length)];
    const text = cs.render(`${d.ip}:${d.port}`, src, i);
    const bytes = cs.mutable ? mutate(text, rnd) : Buffer.from(text, 'latin1');
    sock.send(bytes.length > 0 ? bytes : Buffer.from('\r\n'), d.port, d.ip);
    if (i % rpcEvery === 0 && inflight.size < 8) {
      const k = c.kdmq[rpcCalls % c.kdmq.length];
      rpcCalls++;
      const p = fetch(k.rpcUrl, { method: 'POST', body: rpcs[rpcCalls % rpcs.length], signal: AbortSignal.timeout(5000) })
        .then(async (r) => { await r.text(); rpcAnswers++; }, () => { rpcErrors++; })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    if (i % burst === burst - 1) {
      await new Promise((r) => setImmediate(r));
      o.onProgress?.(i + 1);
    }
  }
  await Promise.all(inflight);
  const seconds = (Date.now() - t0) / 1000;
  // late replies: wait until the count stops moving (bounded)
  let last = -1;
  await waitFor(() => { const n = Object.values(replies).reduce((x, y) => x + y, 0); const still = n === last; last = n; return still; }, { timeoutMs: 5000, intervalMs: 300, what: 'replies settle' }).catch(() => undefined);
  sock.close();
  return { datagrams: o.datagrams, rpcCalls, seconds, datagramsPerSecond: Math.round(o.datagrams / seconds), replies, rpcErrors, rpcAnswers };
}

export async function checkCluster(c: FuzzCluster, before: NormDump[]): Promise<CheckResult> {
  const alive: Record<string, boolean> = {};
  for (const k of c.kdmq) alive[`kdmq ${k.ip}`] = k.alive() && Array.isArray(await k.rpc('dmq.list_nodes').catch(() => null));
  const dmq = await c.kam.kamcmd('dmq.list_nodes');
  const metrics: Record<string, Record<string, number>> = {};
  for (const k of c.kdmq) metrics[`kdmq ${k.ip}`] = await kdmqMetrics(k);
  alive[`kamailio ${c.kam.ip}`] = c.kam.alive();
  const names = ['kamailio', ...c.kdmq.map((k) => `kdmq ${k.ip}`)];
  if (!c.kam.alive()) {
    // compare the kdmq nodes only, and say why Kamailio is gone
    const at = Date.now();
    const after = await Promise.all(c.kdmq.map(async (k) => new Map([...normKdmq(await k.rpc('ul.dump'), at)].filter(([key]) => key.startsWith('snap-')))));
    const diffs = after.flatMap((d, i) => diffDumps(`${names[i + 1]} before`, before[i + 1], `${names[i + 1]} after`, d, 2));
    return { alive, kamailioDmqAnswers: false, snapshotBindings: before[0].size, diffs, kamailioLog: c.kam.logTail(60), kdmqMetrics: metrics };
  }
  const after = await snapshot(c);
  const diffs = after.flatMap((d, i) => diffDumps(`${names[i]} before`, before[i], `${names[i]} after`, d, 2));
  return { alive, kamailioDmqAnswers: dmq.code === 0 && !dmq.timedOut, snapshotBindings: before[0].size, diffs, kdmqMetrics: metrics, kamailioShm: await kamailioShm(c.kam) };
}
