// The short fuzz campaign in CI (test/support/fuzz-campaign.ts): a live mixed cluster (two kdmq +
// one Kamailio 5.6.3), 60 snapshot users, 3 000 fuzzed datagrams and ~60 random JSON-RPC bodies,
// then: every node answers, Kamailio's DMQ did not freeze, no snapshot binding changed anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kamailioAvailable } from '../support/kamailio.ts';
import { checkCluster, registerSnapshotUsers, runCampaign, snapshot, startFuzzCluster, type FuzzCluster } from '../support/fuzz-campaign.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[fuzz campaign] skipped: ${avail.reason}`);

let c: FuzzCluster;

describe.skipIf(!avail.ok)('fuzz campaign (short)', () => {
  beforeAll(async () => {
    c = await startFuzzCluster();
    await registerSnapshotUsers(c, 60);
  }, 120_000);
  afterAll(async () => c?.stop());

  it('3 000 datagrams: every node answers, no Kamailio froze, snapshot bindings intact', async () => {
    const before = await snapshot(c);
    const r = await runCampaign(c, { datagrams: 3000, seed: Number(process.env.FUZZ_SEED ?? 20261126) });
    console.log(`[fuzz campaign] ${JSON.stringify(r)}`);
    const check = await checkCluster(c, before);
    expect(check.alive).toEqual(Object.fromEntries(Object.keys(check.alive).map((k) => [k, true])));
    expect(check.kamailioDmqAnswers).toBe(true);
    expect(check.snapshotBindings).toBe(60);
    expect(check.diffs).toEqual([]);
    expect(r.rpcErrors).toBe(0);
    expect(Object.keys(r.replies).length).toBeGreaterThan(1);
  }, 120_000);
});
