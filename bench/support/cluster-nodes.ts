// The 3-node clusters of the register-cluster figure as ladder systems (RegistrarNode): three
// `kdmq serve` processes, or three Kamailio 5.6.3 nodes with dmq + dmq_usrloc, every node listing
// the other two. After each step every node's exact set of the step's AoRs is read from the node
// itself (kdmq: ul.dump brief over its JSON-RPC; Kamailio: ul.dump brief over the jsonrpcs FIFO,
// which has no size limit: bench/support/kam-fifo.ts) and compared with the receiver's, which must
// hold one per 200 sipp counted. Also per node: CPU seconds (/proc/PID/stat utime + stime; Kamailio
// = main process + children), and the receiver's work counters (KDMQs and changes it sent) and
// drop/shed counters.

import { allocLoopbackIps, startKamailio, type KamailioNode } from '../../test/support/kamailio.ts';
import { parseStats } from '../../test/support/kamcmd-parse.ts';
import { startKdmq, type KdmqProc } from '../../test/support/kdmq-process.ts';
import { descendants } from '../../test/support/proc.ts';
import { udpDrops } from './udp-drops.ts';
import { waitFor } from '../../test/support/wait.ts';
import { cpuOf } from '../figures/registrar-rate.ts';
import { kamFifoMany } from './kam-fifo.ts';
import type { RegistrarNode, Replicated } from './ladder.ts';

export { allocLoopbackIps };

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

/**
 * The step's verdict on replication: every node's exact set of AoRs with the step's prefix, each
 * peer's against the receiver's, and the receiver holding one per 200 sipp counted (so the sets
 * are the acknowledged set: every REGISTER is a new AoR with one contact)
 */
export function compareSets(names: string[], sets: Array<Set<string>>, acked: number, counters: Record<string, number>): Replicated {
  const [recv, ...peers] = sets;
  const held: Record<string, number> = {};
  const missing: Record<string, number> = {};
  const extra: Record<string, number> = {};
  let example: string | undefined;
  names.forEach((n, i) => (held[n] = sets[i].size));
  peers.forEach((p, i) => {
    const name = names[i + 1];
    const miss = [...recv].filter((a) => !p.has(a));
    const more = [...p].filter((a) => !recv.has(a));
    missing[name] = miss.length;
    extra[name] = more.length;
    if (!example && (miss.length > 0 || more.length > 0)) example = `${name} missing e.g. ${miss.slice(0, 3).join(',')} extra e.g. ${more.slice(0, 3).join(',')}`;
  });
  const ok = recv.size === acked && Object.values(missing).every((x) => x === 0) && Object.values(extra).every((x) => x === 0);
  if (!example && recv.size !== acked) example = `receiver holds ${recv.size} of the step's AoRs, sipp counted ${acked} answered 200`;
  return { ok, held, missing, extra, counters, ...(example ? { example } : {}) };
}

const prefixed = (aors: Iterable<string>, prefix: string) => new Set([...aors].filter((a) => a.startsWith(prefix)));

async function kdmqAors(q: KdmqProc, prefix: string): Promise<Set<string>> {
  const r = (await q.rpc('ul.dump', ['brief'])) as { Domains: Array<{ Domain: { AoRs: Array<{ AoR: string }> } }> };
  return prefixed(r.Domains.flatMap((d) => d.Domain.AoRs.map((a) => a.AoR)), prefix);
}

/**
 * A Kamailio node's set of the step's AoRs: `ul.lookup location AoR` for every AoR the step sent,
 * pipelined over the jsonrpcs FIFO (60 000 in 4.5 s here), not ul.dump: usrloc builds a dump's
 * reply in time quadratic in the AoRs (42 s for 110 000 alone; 3 nodes at once over HTTP ended in
 * "TypeError: terminated" on 2026-12-07), and BINRPC's reply is too small for it. An AoR of the step
 * the node holds but the receiver does not is in this universe too; one outside it would change
 * the node's AoR total, which is compared as well (kamTotals).
 */
async function kamAors(k: KamailioNode, users: string[]): Promise<Set<string>> {
  const answers = await kamFifoMany(`${k.workDir}/kamailio_rpc.fifo`, users.map((u) => ({ method: 'ul.lookup', params: ['location', u] })), { timeoutMs: 300_000 });
  const out = new Set<string>();
  answers.forEach((a, i) => {
    if (a.result) out.add(users[i]);
    else if (!/not found/i.test(a.error?.message ?? '')) throw new Error(`ul.lookup ${users[i]} on ${k.ip}: ${JSON.stringify(a.error)}`);
  });
  return out;
}

/** every Kamailio node's AoR total (usrloc:location_users): must equal the receiver's */
async function kamTotals(all: KamailioNode[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of all) {
    const s = parseStats(await k.rpc('stats.get_statistics', 'location_users'));
    out[`${k.ip} location_users`] = s['usrloc:location_users'] ?? s.location_users ?? -1;
  }
  return out;
}

async function metricsText(q: KdmqProc): Promise<string> {
  return (await fetch(`http://${q.ip}:${q.rpcPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}
const sumOf = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);

/** one kdmq node's drop and shed counters (/metrics, and the kernel's UDP drops of its sockets) */
async function kdmqCounters(q: KdmqProc): Promise<Record<string, number>> {
  const text = await metricsText(q);
  return {
    replicated_dropped: sumOf(text, /^kdmq_peer_queue_dropped_total\{[^}]*channel="(usrloc|htable)"/),
    shed_replication: sumOf(text, /^kdmq_limit_refusals_total\{limit="replication_(lag|backlog)"\}/),
    shed_other: sumOf(text, /^kdmq_limit_refusals_total\{limit="(pending_transactions|register_rate|bindings)"\}/),
    kdmq_timed_out: sumOf(text, /^kdmq_requests_timed_out_total/),
    udp_drops: udpDrops(q.ip, q.sipPort) + udpDrops(q.ip, q.dmqPort),
  };
}

/** one Kamailio node's drop counters: core's dropped requests/replies and the kernel's UDP drops */
async function kamCounters(k: KamailioNode): Promise<Record<string, number>> {
  const s = parseStats(await k.rpc('stats.get_statistics', 'core:'));
  return { drop_requests: s['core:drop_requests'] ?? 0, drop_replies: s['core:drop_replies'] ?? 0, udp_drops: udpDrops(k.ip, k.sipPort) + udpDrops(k.ip, k.dmqPort) };
}

/** every node's counters, keyed "IP counter" */
async function allCounters<T extends { ip: string }>(all: T[], read: (q: T) => Promise<Record<string, number>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of all) for (const [k, v] of Object.entries(await read(q))) out[`${q.ip} ${k}`] = v;
  return out;
}

/** receiver's work: KDMQ requests it sent on the usrloc channel and the changes they carried */
async function kdmqWork(q: KdmqProc): Promise<Record<string, number>> {
  const text = await metricsText(q);
  return {
    kdmq_sent: sumOf(text, /^kdmq_requests_sent_total\{channel="usrloc"\}/),
    changes_sent: sumOf(text, /^kdmq_replication_changes_total\{what="sent"\}/),
  };
}

/** receiver's work: Kamailio counts no KDMQ sent; the replies it received are the peers' answers to them (plus a ping's every 10 s) */
async function kamWork(k: KamailioNode): Promise<Record<string, number>> {
  const s = parseStats(await k.rpc('stats.get_statistics', 'core:'));
  return { replies_received: s['core:rcv_replies'] ?? 0, requests_received: s['core:rcv_requests'] ?? 0 };
}

export async function kdmqCluster(ips: string[]): Promise<{ first: RegistrarNode; all: KdmqProc[] }> {
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
      cpuByNode: () => Object.fromEntries(all.map((q, i) => [i === 0 ? 'receiver' : `peer${i}`, cpuOf([q.pid])])),
      work: () => kdmqWork(p),
      contacts: () => count(p),
      replicated: async (prefix, acked) => {
        const names = all.map((q) => q.ip);
        return compareSets(names, await waitSettled(() => Promise.all(all.map((q) => kdmqAors(q, prefix)))), acked, await allCounters(all, kdmqCounters));
      },
      stop: async () => {
        await Promise.all(all.map((q) => q.cleanup()));
      },
    },
  };
}

/** read every node's set until two reads 500 ms apart agree (replication settled) or 10 s pass */
async function waitSettled(read: () => Promise<Array<Set<string>>>): Promise<Array<Set<string>>> {
  let last = await read();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (last.every((s) => s.size === last[0].size)) return last;
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

export async function kamCluster(ips: string[]): Promise<{ first: RegistrarNode; all: KamailioNode[] }> {
  const all = await Promise.all(ips.map(async (ip) => startKamailio({
    ip, notificationAddresses: ips.filter((x) => x !== ip).map((x) => `sip:${x}:5090`), pingInterval: 10, children: 4, shmMb: 2048, pkgMb: 64,
    registrarDefaultExpires: 3600, jsonrpcFifo: true,
  })));
  await formed(all, 'Kamailio');
  const k = all[0];
  return {
    all,
    first: {
      name: 'Kamailio',
      target: `${k.ip}:${k.sipPort}`,
      cpuSeconds: () => cpuOf([k.pid, ...descendants(k.pid)]),
      cpuByNode: () => Object.fromEntries(all.map((q, i) => [i === 0 ? 'receiver' : `peer${i}`, cpuOf([q.pid, ...descendants(q.pid)])])),
      work: () => kamWork(k),
      contacts: () => k.contactCount(),
      // Kamailio has no drop or shed counter for replication (what a peer misses shows in its set);
      // its core drop counters and the kernel's UDP drops are read from every node
      replicated: async (_prefix, acked, users) => {
        const sets = await waitSettled(() => Promise.all(all.map((q) => kamAors(q, users))));
        const totals = await kamTotals(all);
        const r = compareSets(all.map((q) => q.ip), sets, acked, { ...(await allCounters(all, kamCounters)), ...totals });
        const t = Object.values(totals);
        return t.every((x) => x === t[0]) ? r : { ...r, ok: false, example: `${r.example ? `${r.example}; ` : ''}AoR totals differ: ${JSON.stringify(totals)}` };
      },
      stop: async () => {
        await Promise.all(all.map((q) => q.cleanup()));
      },
    },
  };
}

