// Interop matrix, the other start order and kdmq's own failure (issue #19), per Kamailio version
// (5.6.3, 6.0.1, 6.1.5 from scripts/kamailio-version.sh): kdmq started first and Kamailio joining it
// (Kamailio's startup usrloc sync must bring exactly the bindings kdmq held), then a SIGKILL of kdmq
// while Kamailio runs (how each version lists it, over time) and kdmq's restart (membership again, and
// Kamailio's bindings back by sync, one of them registered while kdmq was down so only a sync can bring
// it). Outcomes merge into test/interop/results/kamailio-versions.json (scripts/compatibility-doc.ts
// renders docs/compatibility.md). A version is skipped, with the reason, only when its build is absent.
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioInstall, startKamailio, KAMAILIO_SUITES, type KamailioNode, type KamailioSuite } from '../support/kamailio.ts';
import { aors, check, emptyResults, KDMQ_EXTRA, KDMQ_SIP, logErrors, PARSE_ERROR, register, saveResults, statusTimeline, waitAors, want, type Outcome } from '../support/kamailio-matrix.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { SipUa } from '../support/sip-ua.ts';
import { waitFor } from '../support/wait.ts';

const results = emptyResults();
const installs = Object.fromEntries(KAMAILIO_SUITES.map((s) => [s, kamailioInstall(s)]));
for (const s of KAMAILIO_SUITES) if (!installs[s].ok) console.warn(`[kamailio-versions-failure] ${s} skipped: ${installs[s].reason}`);

afterAll(() => saveResults(results));

/** both list each other active */
const bothActive = (kam: KamailioNode, kd: KdmqProc) => async () =>
  (await kam.listNodes()).some((n) => n.host === kd.ip && n.status === 'active') && (await kd.listNodes()).some((n) => n.host === kam.ip && n.status === 'active');

describe.each(KAMAILIO_SUITES.map((s) => [s]))('kdmq first, then its kill and restart, with Kamailio of %s', (suite: KamailioSuite) => {
  it.skipIf(!installs[suite].ok)('Kamailio joins kdmq with a startup sync; kdmq killed and restarted gets Kamailio\'s bindings by sync', { timeout: 90_000 }, async () => {
    const version = installs[suite].version!;
    const rec: Record<string, Outcome> = {};
    results.versions[version] = { suite, features: rec };
    const [a, b, u] = allocLoopbackIps(3);
    const ua = await SipUa.open(u);
    let kam: KamailioNode | undefined;
    const kd = await startKdmq({ ip: b, notificationAddresses: [`sip:${a}:5090`], pingInterval: 1, extra: { ...KDMQ_EXTRA, ...KDMQ_SIP } });
    try {
      for (const user of ['first1', 'first2']) expect((await register(ua, `${b}:5060`, user)).status).toBe(200);
      await waitAors(kd, want(ua, ['first1', 'first2']), 5000, 'kdmq holds its two bindings');
      kam = await startKamailio({ suite, ip: a, notificationAddresses: [`sip:${b}:5090`], pingInterval: 5, frTimerMs: 3000, children: 2 });
      const k = kam;
      await check(rec, 'membership (kdmq first, Kamailio joins)', async () => {
        await waitFor(bothActive(k, kd), { timeoutMs: 20_000, intervalMs: 200, what: `Kamailio ${version} joins kdmq: both list each other active` });
      });
      await check(rec, 'Kamailio\'s startup usrloc sync from kdmq (bindings kdmq held)', async () => {
        await waitAors(k, want(ua, ['first1', 'first2']), 10_000, `Kamailio ${version} holds exactly kdmq's two bindings`);
      });
      expect((await register(ua, `${a}:5060`, 'onkam')).status).toBe(200);
      await waitAors(kd, want(ua, ['first1', 'first2', 'onkam']), 10_000, 'kdmq holds the binding made on Kamailio');
      await check(rec, 'kill of kdmq (Kamailio running): how Kamailio lists it', async () => {
        await kd.kill();
        const t = await statusTimeline(() => k.listNodes(), b, (seen) => seen[seen.length - 1] === 'not listed', 15_000);
        const last = t.seen[t.seen.length - 1];
        if (last === 'active') {
          results.defects.push(`Kamailio ${version}: a killed node (kdmq) stays listed active for 15 s (ping_interval 5, fr_timer 3 s): ${t.text}`);
          return `still lists kdmq active: ${t.text}`;
        }
        if (last === 'disabled' || last === 'not listed') return { note: t.text };
        // Kamailio never removes a node that is one of its notification addresses (5.6.3's
        // notification_peer.c: "not deleting notification peer", the node set back to pending)
        const said = logErrors(k).find((l) => /not deleting notification peer/.test(l));
        results.defects.push(`Kamailio ${version}: a killed node that is one of its notification addresses is never disabled nor removed, listed ${last} (${t.text})${said ? `; logs "${said.replace(/\[sip:[^\]]*\]/, '[URI]').slice(0, 120)}" every ping` : ''}`);
        return `never disabled nor removed (kdmq is its notification address): ${t.text}`;
      });
      // registered while kdmq is down: only Kamailio's answer to kdmq's sync can bring it back
      expect((await register(ua, `${a}:5060`, 'whiledown')).status).toBe(200);
      await check(rec, 'kdmq restart: membership again and Kamailio\'s bindings by sync', async () => {
        await kd.restart();
        const t0 = Date.now();
        await waitFor(bothActive(k, kd), { timeoutMs: 20_000, intervalMs: 200, what: `Kamailio ${version} and the restarted kdmq list each other active` });
        const activeAfter = ((Date.now() - t0) / 1000).toFixed(1);
        const all = want(ua, ['first1', 'first2', 'onkam', 'whiledown']);
        await waitAors(kd, all, 10_000, 'the restarted kdmq holds all four bindings (one registered while it was down)');
        expect(await aors(k)).toEqual(all);
        return { note: `both active again ${activeAfter} s after the restart` };
      });
      await check(rec, 'no parse error in Kamailio\'s log (kdmq first, kill, restart)', async () => {
        expect(logErrors(k).filter((l) => PARSE_ERROR.test(l))).toEqual([]);
      });
    } finally {
      await ua.close();
      await kd.cleanup();
      await kam?.cleanup();
    }
  });
});
