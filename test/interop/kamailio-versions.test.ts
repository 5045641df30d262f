// Interop matrix against every Kamailio an operator runs (issue #19): 5.6.3 (bookworm, the host's),
// 6.0.1 (trixie) and 6.1.5 (sid), each from scripts/kamailio-version.sh. Per version, one Kamailio and
// one kdmq: membership (Kamailio started first; after a crash, Kamailio restarted while kdmq runs),
// kdmq's detected version, usrloc both ways and back by sync after the restart, htable both ways and
// back by dmq_init_sync, and no parse error in Kamailio's log for what kdmq sent. Then a mixed cluster
// (5.6.3 + 6.0.1 + 6.1.5 + kdmq): which node's REGISTER reaches which node, Kamailio to Kamailio too.
// Results go to test/interop/results/kamailio-versions.json; scripts/compatibility-doc.ts renders
// docs/compatibility.md from it. A version is skipped, with the reason, only when its build is absent.
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioInstall, startKamailio, KAMAILIO_SUITES, type KamailioNode, type KamailioSuite } from '../support/kamailio.ts';
import { aors, check, emptyResults, KDMQ_EXTRA, KDMQ_SIP, logErrors, PARSE_ERROR, register, saveResults, statusTimeline, type Outcome } from '../support/kamailio-matrix.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { SipUa } from '../support/sip-ua.ts';
import { waitFor } from '../support/wait.ts';

const results = emptyResults();
const installs = Object.fromEntries(KAMAILIO_SUITES.map((s) => [s, kamailioInstall(s)]));
for (const s of KAMAILIO_SUITES) if (!installs[s].ok) console.warn(`[kamailio-versions] ${s} skipped: ${installs[s].reason}`);

async function kamTable(k: KamailioNode): Promise<Record<string, unknown>> {
  return Object.fromEntries((await k.htableDump('lab')).map((c) => [c.name, c.value]));
}
async function kdTable(p: KdmqProc): Promise<Record<string, unknown>> {
  const slots = (await p.rpc('htable.dump', ['lab'])) as Array<{ slot: Array<{ name: string; value: unknown }> }>;
  return Object.fromEntries(slots.flatMap((s) => s.slot.map((c) => [c.name, c.value])));
}
const sorted = (t: Record<string, unknown>) => JSON.stringify(Object.entries(t).sort());

afterAll(() => saveResults(results));

describe.each(KAMAILIO_SUITES.map((s) => [s]))('kdmq with Kamailio of %s', (suite: KamailioSuite) => {
  const ok = installs[suite].ok;
  it.skipIf(!ok)('membership, version, usrloc, htable both ways, crash + restart with sync, no parse error', { timeout: 90_000 }, async () => {
    const version = installs[suite].version!;
    const rec: Record<string, Outcome> = {};
    results.versions[version] = { suite, features: rec };
    const [a, b, u] = allocLoopbackIps(3);
    const kam = await startKamailio({ suite, ip: a, notificationAddresses: [`sip:${b}:5090`], pingInterval: 5, frTimerMs: 3000, children: 2 });
    let kd: KdmqProc | undefined;
    const ua = await SipUa.open(u);
    try {
      kd = await startKdmq({ ip: b, notificationAddresses: [`sip:${a}:5090`], pingInterval: 1, extra: { ...KDMQ_EXTRA, ...KDMQ_SIP } });
      const both = async () => {
        const k = await kam.listNodes();
        const d = await kd!.listNodes();
        return k.some((n) => n.host === b && n.status === 'active') && d.some((n) => n.host === a && n.status === 'active');
      };
      await check(rec, 'membership (Kamailio first)', async () => {
        await waitFor(both, { timeoutMs: 20_000, intervalMs: 200, what: `kdmq and Kamailio ${version} list each other active` });
      });
      await check(rec, 'version detected', async () => {
        const d = (await kd!.rpc('dmq.list_nodes')) as Array<{ host: string; kamailio_version: string }>;
        expect(d.find((n) => n.host === a)?.kamailio_version).toBe(version);
      });
      await check(rec, 'usrloc both ways', async () => {
        expect((await register(ua, `${a}:5060`, 'onkam')).status).toBe(200);
        expect((await register(ua, `${b}:5060`, 'onkdmq')).status).toBe(200);
        const want = JSON.stringify([`onkam sip:onkam@${u}:${ua.port}`, `onkdmq sip:onkdmq@${u}:${ua.port}`]);
        await waitFor(async () => JSON.stringify(await aors(kam)) === want && JSON.stringify(await aors(kd!)) === want,
          { timeoutMs: 10_000, intervalMs: 100, what: 'both AoRs on both nodes' })
          .catch(async (e: Error) => { throw new Error(`${e.message}: Kamailio ${JSON.stringify(await aors(kam))}, kdmq ${JSON.stringify(await aors(kd!))}`); });
      });
      const table = { color: 'blue', n: 42, city: 'Paris', visits: 7 };
      await check(rec, 'htable both ways', async () => {
        await kam.rpc('htable.sets', 'lab', 'color', 'blue');
        await kam.rpc('htable.seti', 'lab', 'n', '42');
        await kd!.rpc('htable.sets', ['lab', 'city', 'Paris']);
        await kd!.rpc('htable.seti', ['lab', 'visits', 7]);
        await waitFor(async () => sorted(await kamTable(kam)) === sorted(table) && sorted(await kdTable(kd!)) === sorted(table),
          { timeoutMs: 10_000, intervalMs: 100, what: 'both tables hold the four items' });
      });
      const before = await aors(kd);
      await check(rec, 'crash + restart (kdmq running): membership, usrloc and htable sync', async () => {
        await kam.kill();
        await kam.restart();
        await waitFor(async () => (await both()) && sorted(await kamTable(kam)) === sorted(table) && JSON.stringify(await aors(kam)) === JSON.stringify(before),
          { timeoutMs: 25_000, intervalMs: 200, what: `restarted Kamailio ${version} active with both AoRs and the table` });
      });
      await check(rec, 'Kamailio lists kdmq with its own status vocabulary', async () => {
        const k = (await kam.listNodes()).find((n) => n.host === b);
        expect(k?.status).toBe('active');
        if (k?.fail_count !== undefined) expect(k.fail_count).toBe(0);
        return k?.fail_count !== undefined ? '' : undefined;
      });
      await check(rec, 'kdmq leaves (clean stop): how Kamailio lists it after', async () => {
        await kd!.stop();
        // watched until it is dropped, 12 s at most: what each version shows right after the leave, and whether it then drops it
        const t = await statusTimeline(() => kam.listNodes(), b, (seen) => seen[seen.length - 1] === 'not listed', 12_000);
        const last = t.seen[t.seen.length - 1];
        expect(!t.seen.includes('active'), `Kamailio ${version} lists kdmq active after its leave: ${t.text}`).toBe(true);
        if (last === 'not listed') return { note: `drops kdmq: ${t.text}` };
        if (last === 'disabled') return { note: `lists kdmq disabled, keeps it: ${t.text}` };
        // kdmq is its notification address: a failed ping sets such a node back to pending, never deletes it
        return `disabled, then ${last} (kdmq is its notification address, never removed): ${t.text}`;
      });
      await check(rec, 'no parse error in Kamailio\'s log', async () => {
        const bad = logErrors(kam).filter((l) => PARSE_ERROR.test(l));
        expect(bad).toEqual([]);
      });
    } finally {
      await ua.close();
      await kd?.cleanup();
      await kam.cleanup();
    }
  });
});

describe('a mixed-version cluster: 5.6.3 + 6.0.1 + 6.1.5 + kdmq', () => {
  const ok = KAMAILIO_SUITES.every((s) => installs[s].ok);
  it.skipIf(!ok)('which REGISTER reaches which node, what each Kamailio logs, and one Kamailio killed', { timeout: 120_000 }, async () => {
    const ips = allocLoopbackIps(5);
    const kdIp = ips[3];
    const ua = await SipUa.open(ips[4]);
    const kams: KamailioNode[] = [];
    let kd: KdmqProc | undefined;
    try {
      for (const [i, s] of KAMAILIO_SUITES.entries()) {
        kams.push(await startKamailio({ suite: s, ip: ips[i], notificationAddresses: [`sip:${kdIp}:5090`], pingInterval: 5, frTimerMs: 3000, children: 2 }));
      }
      kd = await startKdmq({ ip: kdIp, notificationAddresses: kams.map((k) => k.dmqUri), pingInterval: 1, extra: { ...KDMQ_EXTRA, ...KDMQ_SIP } });
      const members: Array<{ name: string; ip: string; node: KamailioNode | KdmqProc }> = [
        ...kams.map((k) => ({ name: k.version, ip: k.ip, node: k as KamailioNode | KdmqProc })), { name: 'kdmq', ip: kdIp, node: kd }];
      await waitFor(async () => (await kd!.listNodes()).filter((n) => !n.local && n.status === 'active').length === 3, { timeoutMs: 20_000, intervalMs: 200, what: 'kdmq lists the three Kamailio active' });
      // give the Kamailio nodes two pings to learn each other through kdmq's list
      // (a snapshot after this deadline: what is still not active then is what the matrix records)
      await waitFor(async () => (await Promise.all(kams.map((k) => k.listNodes()))).every((l) => l.filter((n) => !n.local && n.status === 'active').length >= 3),
        { timeoutMs: 15_000, intervalMs: 250, what: 'every Kamailio lists three other nodes active' }).catch(() => undefined);
      for (const m of members) expect((await register(ua, `${m.ip}:5060`, `on${m.name.replace(/\./g, '')}`)).status).toBe(200);
      const has = async (n: KamailioNode | KdmqProc, user: string) => (await aors(n)).some((l) => l.startsWith(`${user} `));
      // every origin's AoR on every other node (or not, after a deadline): the matrix
      await waitFor(async () => {
        for (const o of members) for (const t of members) if (o !== t && !(await has(t.node, `on${o.name.replace(/\./g, '')}`))) return false;
        return true;
      }, { timeoutMs: 12_000, intervalMs: 250, what: 'every AoR everywhere' }).catch(() => undefined);
      for (const o of members) for (const t of members) {
        if (o === t) continue;
        const got = await has(t.node, `on${o.name.replace(/\./g, '')}`);
        const status = 'listNodes' in t.node && 'ulDump' in t.node ? (await t.node.listNodes()).find((n) => n.host === o.ip)?.status ?? 'not listed' : '';
        results.mixed[`${o.name} → ${t.name}`] = { result: got ? 'works' : 'fails', note: status ? `${t.name} lists ${o.name} as ${status}` : '' };
      }
      for (const k of kams) {
        const errs = [...new Set(logErrors(k).filter((l) => PARSE_ERROR.test(l)).map((l) => l.replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, 'IP')))];
        for (const e of errs) results.defects.push(`Kamailio ${k.version} in a mixed cluster logs: ${e.slice(0, 200)}`);
      }
      // 6.x's dmq_usrloc adds "xavps" to every replicated contact (read in 6.0.1's usrloc_sync.c), which
      // 5.6.3 does not know: it logs an error per contact, and stores the contact all the same
      for (const k of kams.filter((x) => x.version.startsWith('5.6.'))) {
        if (!logErrors(k).some((l) => /unrecognized field/.test(l))) continue;
        for (const o of kams.filter((x) => !x.version.startsWith('5.6.'))) {
          const r = results.mixed[`${o.version} → ${k.version}`];
          if (r?.result === 'works') results.mixed[`${o.version} → ${k.version}`] = { result: 'differs', note: `${r.note}; ${k.version} logs "unrecognized field in json object" for each contact (6.x sends "xavps")` };
        }
      }
      // kdmq itself reaches and is reached by every version
      for (const k of kams) {
        expect(results.mixed[`${k.version} → kdmq`]?.result).toBe('works');
        expect(results.mixed[`kdmq → ${k.version}`]?.result).toBe('works');
      }
      await killOne(kams[1]!, members, ua);
    } finally {
      await ua.close();
      await kd?.cleanup();
      for (const k of kams) await k.cleanup();
    }
  });
});

type Member = { name: string; ip: string; node: KamailioNode | KdmqProc };
/**
 * Kills one Kamailio of the mixed cluster: how each remaining node lists it over 15 s (kdmq must list it
 * disabled, then drop it: dmq.fail_remove), then a REGISTER on each remaining node must reach every other.
 */
async function killOne(dead: KamailioNode, members: Member[], ua: SipUa): Promise<void> {
  const rec: Record<string, Outcome> = (results.mixedKill ??= {});
  const rest = members.filter((m) => m.node !== dead);
  await dead.kill();
  const lines = await Promise.all(rest.map(async (m) => ({ m, t: await statusTimeline(() => m.node.listNodes(), dead.ip, () => false, 15_000) })));
  for (const { m, t } of lines) {
    const gone = t.seen[t.seen.length - 1] === 'not listed';
    const name = `${m.name} lists the killed ${dead.version}`;
    if (m.name === 'kdmq') {
      await check(rec, name, async () => {
        expect(t.seen.includes('disabled') && gone, `kdmq: disabled, then removed; saw ${t.text}`).toBe(true);
        return { note: t.text };
      });
    } else {
      rec[name] = { result: gone || t.seen.includes('disabled') ? 'works' : 'differs', note: t.text };
      if (!gone && !t.seen.includes('disabled')) results.defects.push(`Kamailio ${m.name}: a killed ${dead.version} node stays listed ${t.seen.join('/')} for 15 s (ping_interval 5, fr_timer 3 s)`);
    }
  }
  const users = rest.map((m) => `after${m.name.replace(/\./g, '')}`);
  for (const [i, m] of rest.entries()) expect((await register(ua, `${m.ip}:5060`, users[i]!)).status).toBe(200);
  const has = async (n: KamailioNode | KdmqProc) => { const a = await aors(n); return users.map((u) => a.some((l) => l.startsWith(`${u} `))); };
  await waitFor(async () => (await Promise.all(rest.map((m) => has(m.node)))).every((r) => r.every(Boolean)),
    { timeoutMs: 12_000, intervalMs: 250, what: 'every post-kill AoR on every remaining node' }).catch(() => undefined);
  for (const t of rest) {
    const got = await has(t.node);
    for (const [i, o] of rest.entries()) {
      if (o === t) continue;
      rec[`REGISTER after the kill: ${o.name} → ${t.name}`] = { result: got[i] ? 'works' : 'fails', note: '' };
    }
  }
  for (const o of rest) for (const t of rest) if (o !== t && (o.name === 'kdmq' || t.name === 'kdmq')) expect(rec[`REGISTER after the kill: ${o.name} → ${t.name}`]?.result).toBe('works');
}
