// htable replication against real Kamailio 5.6.3 (protocol reference §6): htable.sets, seti and
// delete on either side reach the other, and a restarted node (kdmq or Kamailio) gets the table
// back by dmq_init_sync. One kdmq and one Kamailio node on fresh loopback IPs, started and
// stopped by PID. Skipped, with the reason printed, when Kamailio 5.6 is not installed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { startKdmq, type KdmqProc } from '../support/kdmq-process.ts';
import { waitFor } from '../support/wait.ts';

const avail = kamailioAvailable();
if (!avail.ok) console.warn(`[htable interop] Kamailio tests skipped: ${avail.reason}`);

type Table = Record<string, string | number>;

async function kdmqTable(p: KdmqProc): Promise<Table> {
  const slots = (await p.rpc('htable.dump', ['lab'])) as Array<{ slot: Array<{ name: string; value: string | number }> }>;
  const out: Table = {};
  for (const s of slots) for (const c of s.slot) out[c.name] = c.value;
  return out;
}

async function kamTable(k: KamailioNode): Promise<Table> {
  const out: Table = {};
  for (const c of await k.htableDump('lab')) out[c.name] = c.value;
  return out;
}

const same = (a: Table, b: Table) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

describe.skipIf(!avail.ok)('htable replication with Kamailio 5.6.3', () => {
  let kam: KamailioNode;
  let kd: KdmqProc;

  beforeAll(async () => {
    const [a, b] = allocLoopbackIps(2);
    kam = await startKamailio({ ip: a, notificationAddresses: [`sip:${b}:5090`], pingInterval: 5, frTimerMs: 5000, children: 2 });
    kd = await startKdmq({
      ip: b,
      notificationAddresses: [`sip:${a}:5090`],
      pingInterval: 1,
      extra: { sip: { t1: 100, t2: 1000, kdmq_timeout: 2000 }, htable: { tables: { lab: { size: 8, autoexpire: 0, dmqreplicate: true } } } },
    });
    await waitFor(
      async () => {
        const k = await kam.listNodes();
        const d = await kd.listNodes();
        return k.some((n) => n.host === b && n.status === 'active') && d.some((n) => n.host === a && n.status === 'active');
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'kdmq and Kamailio list each other active' },
    );
  }, 60_000);

  afterAll(async () => {
    await kd?.cleanup();
    await kam?.cleanup();
  });

  it('sets, seti and delete on Kamailio reach kdmq; on kdmq reach Kamailio', async () => {
    await kam.rpc('htable.sets', 'lab', 'color', 'blue');
    await kam.rpc('htable.seti', 'lab', 'counter', '42');
    await kd.rpc('htable.sets', ['lab', 'city', 'Paris']);
    await kd.rpc('htable.seti', ['lab', 'visits', 7]);
    const want: Table = { color: 'blue', counter: 42, city: 'Paris', visits: 7 };
    await waitFor(async () => same(await kdmqTable(kd), want) && same(await kamTable(kam), want), {
      timeoutMs: 10_000, intervalMs: 100, what: 'both tables hold the four items',
    });
    await kam.rpc('htable.delete', 'lab', 'city');
    await kd.rpc('htable.delete', ['lab', 'color']);
    await kd.rpc('htable.seti', ['lab', 'counter', 43]);
    const after: Table = { counter: 43, visits: 7 };
    await waitFor(async () => same(await kdmqTable(kd), after) && same(await kamTable(kam), after), {
      timeoutMs: 10_000, intervalMs: 100, what: 'deletes and the update reached both sides',
    });
  }, 40_000);

  it('a restarted kdmq gets the table back from Kamailio, and a restarted Kamailio from kdmq', async () => {
    const want = await kamTable(kam);
    expect(Object.keys(want).length).toBeGreaterThan(0);
    await kd.restart();
    await waitFor(async () => same(await kdmqTable(kd), want), { timeoutMs: 20_000, intervalMs: 200, what: 'kdmq synced the table after restart' });
    await kam.kill();
    await kam.restart();
    await waitFor(async () => same(await kamTable(kam), want), { timeoutMs: 30_000, intervalMs: 250, what: 'Kamailio synced the table from kdmq after restart' });
  }, 90_000);
});
