// Figure: memory per binding of the location store.
// kdmq: bench/registrar-heap.ts as a child process (node --expose-gc): N bindings created through
// Registrar.handleRegister from parsed REGISTERs; (heapUsed after − before) / N and the same for
// RSS, after full GCs; at 100 000 and (full mode) 1 000 000 bindings.
// Kamailio 5.6.3 (registrar + usrloc in memory, no DMQ): summing its processes' RSS is misleading
// (every process maps the same shared memory, where usrloc keeps its contacts), so the counterpart
// is the growth of shared memory in use, `kamcmd core.shmmem` "used" (= stats shmem:used_size),
// from before to after sipp registers 100 000 distinct users (Expires 3600), divided by the
// contacts held; also reported: the growth of the summed PSS (proportional set size, which counts
// each shared page once) of the main process and its children. Not comparable bit for bit: kdmq's
// figure is the store's JS heap; Kamailio's is usrloc's shm records (+ allocator overhead).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allocLoopbackIps } from '../../test/support/kamailio.ts';
import { descendants } from '../../test/support/proc.ts';
import { startSipp } from '../../test/support/sipp.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { avail, kamailioRegistrarNode } from './registrar-rate.ts';

const HEAP_SCRIPT = fileURLToPath(new URL('../registrar-heap.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const KAM_USERS = 100_000;
// well under the ≈ 10 000/s Kamailio holds on one node (register-rate): 12.5 s per fill
const KAM_RATE = 8000;

interface HeapOut {
  bindings: number;
  heapBytesPerBinding: number;
  rssBytesPerBinding: number;
  registerPerSecond: number;
}

/** bench/registrar-heap.ts N in its own node process (--expose-gc) */
export function kdmqHeap(n: number): Promise<HeapOut> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', HEAP_SCRIPT, String(n)],
      { cwd: REPO, timeout: 600_000, killSignal: 'SIGKILL', maxBuffer: 1 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`registrar-heap ${n}: ${err.message}\n${stderr.slice(0, 2000)}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const r = JSON.parse(line) as HeapOut;
          if (r.bindings !== n) return reject(new Error(`registrar-heap ${n}: ${r.bindings} bindings`));
          resolve(r);
        } catch {
          reject(new Error(`registrar-heap ${n}: unexpected output ${line.slice(0, 500)}`));
        }
      },
    );
  });
}

function pssKb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return kb;
}

/** kamcmd core.shmmem → { used, real_used } bytes */
function parseShmmem(text: string): { used: number; realUsed: number } {
  const used = /\bused:\s*(\d+)/.exec(text);
  const real = /real_used:\s*(\d+)/.exec(text);
  if (!used || !real) throw new Error(`cannot parse core.shmmem: ${text.slice(0, 300)}`);
  return { used: Number(used[1]), realUsed: Number(real[1]) };
}

export async function kamailioShmPerBinding(log: (m: string) => void): Promise<{ shmUsed: number; shmRealUsed: number; pss: number; contacts: number }> {
  const [ip, sippIp] = allocLoopbackIps(2);
  const n = await kamailioRegistrarNode(ip, 512);
  try {
    const pids = () => [n.node.pid, ...descendants(n.node.pid)];
    const shm0 = parseShmmem(await n.node.rpc('core.shmmem'));
    const pss0 = pssKb(pids());
    const r = await startSipp({ target: n.target, localIp: sippIp, users: KAM_USERS, userPrefix: 'mem', rate: KAM_RATE, expires: 3600, responseTimeoutMs: 4000 });
    log(`Kamailio: sipp ${r.successful}/${KAM_USERS} ok, ${r.failed} failed in ${(r.elapsedMs / 1000).toFixed(1)} s`);
    const contacts = await waitFor(async () => {
      const c = await n.contacts();
      return c >= r.successful ? c : undefined;
    }, { timeoutMs: 10_000, what: `Kamailio holding ${r.successful} contacts` });
    if (contacts < KAM_USERS * 0.9) throw new Error(`Kamailio holds only ${contacts} of ${KAM_USERS} contacts`);
    const shm1 = parseShmmem(await n.node.rpc('core.shmmem'));
    const pss1 = pssKb(pids());
    log(`Kamailio: shm used ${shm0.used} → ${shm1.used} B, real_used ${shm0.realUsed} → ${shm1.realUsed} B, PSS ${pss0} → ${pss1} kB, ${contacts} contacts`);
    return {
      shmUsed: (shm1.used - shm0.used) / contacts,
      shmRealUsed: (shm1.realUsed - shm0.realUsed) / contacts,
      pss: ((pss1 - pss0) * 1024) / contacts,
      contacts,
    };
  } finally {
    await n.stop();
  }
}

export const registrarMemoryFigure: Figure = {
  id: 'register-memory',
  title: 'memory per binding (kdmq: store heap and RSS; Kamailio: shm used and PSS growth)',
  runs: () => 3,
  rows: (quick) => [
    {
      label: 'heap per binding at 100 000 bindings', unit: 'B', kdmq: 'kdmq.heap100k', kamailio: 'kam.shm100k',
      kamailioNote: avail().kam ? 'shm used (core.shmmem)' : 'Kamailio not installed', target: { cmp: '<', value: 1024 },
      work:
        'kdmq: N bindings made through the registrar from parsed REGISTERs (one AoR, one contact each) in its own node --expose-gc process, heap growth after full GCs; ' +
        'Kamailio: sipp registers 100 000 users (one contact each, Expires 3600) at 8 000/s, growth of shm used over the contacts it then holds (registrar + usrloc in memory, no DMQ)',
    },
    {
      label: 'heap per binding at 100 000 bindings, vs shm real_used', unit: 'B', kdmq: 'kdmq.heap100k', kamailio: 'kam.shmReal100k',
      kamailioNote: avail().kam ? 'shm real_used: + allocator overhead' : 'Kamailio not installed',
    },
    {
      label: 'RSS per binding at 100 000 bindings', unit: 'B', kdmq: 'kdmq.rss100k', kamailio: 'kam.pss100k',
      kamailioNote: avail().kam ? 'PSS of all processes' : 'Kamailio not installed',
    },
    ...(quick
      ? []
      : [
          // issue #15's table: ≤ 400 B at 1 000 000 (Kamailio's shm: 431 B per contact at 100 000)
          { label: 'heap per binding at 1 000 000 bindings', unit: 'B', kdmq: 'kdmq.heap1M', kamailioNote: 'not measured', target: { cmp: '<=' as const, value: 400 } },
          { label: 'RSS per binding at 1 000 000 bindings', unit: 'B', kdmq: 'kdmq.rss1M', kamailioNote: 'not measured' },
        ]),
  ],
  async run(ctx: RunContext): Promise<Samples> {
    const out: Samples = {};
    const a = await kdmqHeap(100_000);
    Object.assign(out, { 'kdmq.heap100k': a.heapBytesPerBinding, 'kdmq.rss100k': a.rssBytesPerBinding });
    ctx.log(`kdmq 100k: heap ${a.heapBytesPerBinding} B, RSS ${a.rssBytesPerBinding} B per binding, ${a.registerPerSecond} REGISTER/s in-process`);
    if (!ctx.quick) {
      const b = await kdmqHeap(1_000_000);
      Object.assign(out, { 'kdmq.heap1M': b.heapBytesPerBinding, 'kdmq.rss1M': b.rssBytesPerBinding });
      ctx.log(`kdmq 1M: heap ${b.heapBytesPerBinding} B, RSS ${b.rssBytesPerBinding} B per binding`);
    }
    // Kamailio: 100 000 REGISTERs take ≈ 12.5 s at 8000/s; in --quick mode only in the first run
    if (avail().kam && avail().sipp && (!ctx.quick || ctx.run === 0)) {
      const k = await kamailioShmPerBinding(ctx.log);
      Object.assign(out, { 'kam.shm100k': k.shmUsed, 'kam.shmReal100k': k.shmRealUsed, 'kam.pss100k': k.pss });
      ctx.log(`Kamailio 100k: shm used ${k.shmUsed.toFixed(0)} B (real_used ${k.shmRealUsed.toFixed(0)} B), PSS ${k.pss.toFixed(0)} B per contact`);
    }
    return out;
  },
};
