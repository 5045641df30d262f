// `npm run demo` (scripts/demo.ts) on alternative addresses and ports: its output lists three
// active nodes on each node and the registered users; SIGINT stops it with exit 0 and leaves no
// kdmq process behind.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocLoopbackIps, freeTcpPort } from '../support/loopback.ts';
import { pidAlive } from '../support/proc.ts';
import { waitFor } from '../support/wait.ts';
import { ROOT, spawnProc } from './helpers.ts';

/** the demo's `kdmq serve` children (tsx also runs an esbuild service child) */
function kdmqChildren(pid: number): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((c) => {
    try {
      return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('kdmq.mjs');
    } catch {
      return false;
    }
  });
}

describe('npm run demo', () => {
  it('starts three nodes, registers users, prints every node\'s view, stops on SIGINT', { timeout: 90_000 }, async () => {
    const ips = allocLoopbackIps(3);
    const rpcPorts = await Promise.all(ips.map((ip) => freeTcpPort(ip)));
    const p = spawnProc(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: ROOT,
      env: {
        KDMQ_DEMO_IPS: ips.join(','),
        KDMQ_DEMO_SIP_PORT: '5070',
        KDMQ_DEMO_DMQ_PORT: '5091',
        KDMQ_DEMO_RPC_HOST: ips[0],
        KDMQ_DEMO_RPC_PORTS: rpcPorts.join(','),
        KDMQ_DEMO_USERS: 'alice,bob',
      },
    });
    let kids: number[] = [];
    try {
      await waitFor(
        () => {
          if (p.exited()) throw new Error(`demo exited: ${p.err()}\n${p.out()}`);
          kids = kdmqChildren(p.pid);
          return p.out().includes('Ctrl-C stops it');
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the demo to print the cluster' },
      );
      const out = p.out();
      expect(out).toContain(`REGISTER alice@${ips[0]} → 200 OK`);
      const sections = out.split(/\n=== node \d: /).slice(1);
      expect(sections).toHaveLength(3);
      for (const s of sections) {
        const [list, dump] = s.split(' ul.dump\n');
        expect(list.match(/\tstatus: active\n/g)).toHaveLength(3);
        for (const ip of ips) expect(list).toContain(`\thost: ${ip}\n`);
        expect(dump).toMatch(/AoR: alice\n/);
        expect(dump).toMatch(/AoR: bob\n/);
      }
      expect(kids).toHaveLength(3);
      p.kill('SIGINT');
      const ex = await p.wait(10_000);
      expect(ex).toEqual({ code: 0, signal: null });
      expect(kids.filter(pidAlive)).toEqual([]);
    } finally {
      p.kill('SIGKILL');
      for (const k of kids) if (pidAlive(k)) process.kill(k, 'SIGKILL');
    }
  });
});
