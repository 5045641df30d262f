// Shared pieces of the Kamailio version matrix (issue #19): test/interop/kamailio-versions.test.ts and
// test/interop/kamailio-versions-failure.test.ts both record outcomes into
// test/interop/results/kamailio-versions.json (merged per feature, so each file keeps the other's rows),
// which scripts/compatibility-doc.ts renders into docs/compatibility.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { KamailioNode } from './kamailio.ts';
import type { KdmqProc } from './kdmq-process.ts';
import type { SipUa } from './sip-ua.ts';
import { normKamailio, normKdmq } from './ul-compare.ts';
import { waitFor } from './wait.ts';

export type Outcome = { result: 'works' | 'differs' | 'fails'; note: string };
export interface MatrixResults {
  versions: Record<string, { suite: string; features: Record<string, Outcome> }>;
  mixed: Record<string, Outcome>;
  /** the mixed cluster after one Kamailio is killed: how each remaining node lists it, where a REGISTER then goes */
  mixedKill?: Record<string, Outcome>;
  defects: string[];
}
export const RESULTS = new URL('../interop/results/kamailio-versions.json', import.meta.url).pathname;
export const KDMQ_EXTRA = { registrar: { default_expires: 300, max_expires: 3600 }, htable: { tables: { lab: { size: 8, autoexpire: 0, dmqreplicate: true } } } };
export const KDMQ_SIP = { sip: { t1: 100, t2: 1000, kdmq_timeout: 2000 } };
/** what a Kamailio logs when a DMQ body it was sent does not parse (dmq, dmq_usrloc, htable) */
export const PARSE_ERROR = /invalid status|unrecognized field|error parsing|cannot parse|bad socket|failed to parse|invalid json|error extracting node/i;

export function emptyResults(): MatrixResults {
  return { versions: {}, mixed: {}, mixedKill: {}, defects: [] };
}

/** merge this run's outcomes into the results file: a feature or pair this run checked replaces the stored one */
export function saveResults(r: MatrixResults): void {
  const old: MatrixResults = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as MatrixResults) : emptyResults();
  for (const [v, x] of Object.entries(r.versions)) {
    old.versions[v] = { suite: x.suite, features: { ...(old.versions[v]?.features ?? {}), ...x.features } };
  }
  Object.assign(old.mixed, r.mixed);
  old.mixedKill = { ...(old.mixedKill ?? {}), ...(r.mixedKill ?? {}) };
  old.defects = [...new Set([...old.defects, ...r.defects])];
  writeFileSync(RESULTS, JSON.stringify(old, null, 2) + '\n');
}

/** a node's bindings as "user contact" lines, sorted (exact contents, not counts) */
export async function aors(n: KamailioNode | KdmqProc): Promise<string[]> {
  const d = 'ulDump' in n ? normKamailio(await n.ulDump(), Date.now()) : normKdmq(await n.rpc('ul.dump'), Date.now());
  return [...d.values()].map((c) => `${c.AoR} ${c.Address}`.replace(/^sip:|@kdmq\.test(?= )/g, '')).sort();
}

export function logErrors(k: KamailioNode): string[] {
  return readFileSync(k.logFile, 'utf8').split('\n').filter((l) => /ERROR|CRITICAL/.test(l)).map((l) => l.replace(/^.*?(ERROR|CRITICAL)/, '$1'));
}

/** a check's result: a string is a difference; { note } works and records what was seen */
export async function check(rec: Record<string, Outcome>, name: string, fn: () => Promise<string | { note: string } | void>): Promise<void> {
  try {
    const r = await fn();
    rec[name] = typeof r === 'string' && r ? { result: 'differs', note: r } : { result: 'works', note: typeof r === 'object' ? r.note : '' };
  } catch (e) {
    rec[name] = { result: 'fails', note: (e as Error).message.split('\n')[0] };
    throw e;
  }
}

export const register = (ua: SipUa, target: string, user: string) =>
  ua.register({ target, user, callId: `${user}-${Date.now()}`, cseq: 1, contacts: [`<sip:${user}@${ua.ip}:${ua.port}>`], expires: 300 });

/** "user sip:user@ip:port" lines a node must hold after the UA registered these users */
export const want = (ua: SipUa, users: string[]) => users.map((u) => `${u} sip:${u}@${ua.ip}:${ua.port}`).sort();

/** waits until the node holds exactly these lines; the error names what it holds */
export async function waitAors(n: KamailioNode | KdmqProc, lines: string[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(async () => JSON.stringify(await aors(n)) === JSON.stringify(lines), { timeoutMs, intervalMs: 100, what })
    .catch(async (e: Error) => { throw new Error(`${e.message}: holds ${JSON.stringify(await aors(n))}`); });
}

/**
 * How `lister` lists the node at `host` over time: polls until `done` says the timeline is complete or
 * the deadline passes; returns the distinct statuses in order with the seconds each first showed
 * ("not listed" when absent), e.g. "active@0.0s → disabled@2.1s → not listed@4.3s".
 */
export async function statusTimeline(list: () => Promise<Array<{ host: string; status: string }>>, host: string,
  done: (seen: string[]) => boolean, timeoutMs: number): Promise<{ seen: string[]; text: string }> {
  const t0 = Date.now();
  const seen: string[] = [];
  const parts: string[] = [];
  await waitFor(async () => {
    const s = (await list()).find((n) => n.host === host)?.status ?? 'not listed';
    if (seen[seen.length - 1] !== s) { seen.push(s); parts.push(`${s}@${((Date.now() - t0) / 1000).toFixed(1)}s`); }
    return done(seen);
  }, { timeoutMs, intervalMs: 100, what: `the status of ${host}` }).catch(() => undefined);
  return { seen, text: `${parts.join(' → ')} (watched ${((Date.now() - t0) / 1000).toFixed(0)} s)` };
}
