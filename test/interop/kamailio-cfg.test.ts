// `kdmq serve --kamailio-cfg` joins real Kamailio: a lab-style node config (#!define NODE_IP,
// DMQ_SERVER, PEER_A/B, then include_file of the lab's own kamailio.cfg template, copied
// verbatim) on a fresh loopback IP is read by kdmq; a real Kamailio 5.6.3 (test/support/
// kamailio.ts harness, the lab's settings) runs on another. They must list each other active,
// and an htable write on the kdmq node must reach Kamailio's `lab` table. Skipped, with the
// reason printed, when Kamailio or the lab configs are absent.
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort, kamailioAvailable, startKamailio, type KamailioNode } from '../support/kamailio.ts';
import { waitFor } from '../support/wait.ts';
import { KDMQ, rpcCall, spawnProc, type Proc } from '../ops/helpers.ts';

const LAB_TEMPLATE = '/work/shared/lab/kamailio/configs/kamailio.cfg';
const avail = kamailioAvailable();
const reason = !avail.ok ? avail.reason : !existsSync(LAB_TEMPLATE) ? `${LAB_TEMPLATE} is absent` : 'kamailio and the lab template present';
const run = avail.ok && existsSync(LAB_TEMPLATE);
if (!run) console.warn(`[kamailio-cfg interop] skipped: ${reason}`);

describe.skipIf(!run)(`kdmq serve --kamailio-cfg with a real Kamailio (${reason})`, () => {
  let kam: KamailioNode | undefined;
  let kdmq: Proc | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-kcfg-interop-'));
  afterAll(async () => {
    if (kdmq && !kdmq.exited()) {
      kdmq.kill('SIGTERM');
      await kdmq.wait(5000).catch(() => kdmq!.kill('SIGKILL'));
    }
    await kam?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the node read from a lab-style config forms a cluster with Kamailio and replicates', { timeout: 90_000 }, async () => {
    const [ipK, ipD] = allocLoopbackIps(2);
    kam = await startKamailio({ ip: ipK, notificationAddresses: [`sip:${ipD}:5090`], children: 2, pingInterval: 10 });
    copyFileSync(LAB_TEMPLATE, join(dir, 'kamailio.cfg'));
    writeFileSync(
      join(dir, 'node.cfg'),
      [
        '#!KAMAILIO',
        `#!define NODE_IP ${ipD}`,
        `#!define DMQ_SERVER "sip:${ipD}:5090"`,
        `#!define PEER_A "sip:${ipK}:5090"`,
        `#!define PEER_B "sip:${ipK}:5090"`,
        `#!define CTL_SOCK "unix:${join(dir, 'ctl')}"`,
        'include_file "kamailio.cfg"',
        '',
      ].join('\n'),
    );
    const rpcPort = await freeTcpPort(ipD);
    const rpcUrl = `http://${ipD}:${rpcPort}/RPC`;
    kdmq = spawnProc(process.execPath, [KDMQ, 'serve', '--kamailio-cfg', join(dir, 'node.cfg'), '--define', 'CHILDREN=2', '--set', `rpc.listen=${ipD}:${rpcPort}`]);
    await waitFor(
      async () => {
        if (kdmq!.exited()) throw new Error(`kdmq exited: ${kdmq!.err()}\n${kdmq!.out()}`);
        const mine = (await rpcCall(rpcUrl, 'dmq.list_nodes')) as Array<{ host: string; status: string }>;
        const theirs = await kam!.listNodes();
        return (
          mine.some((n) => n.host === ipK && n.status === 'active') &&
          theirs.some((n) => n.host === ipD && n.status === 'active') &&
          theirs.length === 2
        );
      },
      { timeoutMs: 40_000, intervalMs: 200, what: 'kdmq and Kamailio list each other active' },
    );
    const warn = kdmq.out().split('\n').filter((l) => l.includes('kamailio cfg: ignoring'));
    expect(warn).toHaveLength(1);
    await rpcCall(rpcUrl, 'htable.sets', ['lab', 'from-kdmq', 'hello']);
    await waitFor(async () => (await kam!.htableDump('lab')).some((i) => i.name === 'from-kdmq' && String(i.value) === 'hello'), {
      timeoutMs: 10_000,
      what: 'the htable item on Kamailio',
    });
  });
});
