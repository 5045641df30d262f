// Helpers for the operations tests: spawn `kdmq serve` processes (by PID, on fresh loopback IPs),
// JSON-RPC calls, and a small Prometheus text-format parser (promtool is not installed).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KDMQ = join(ROOT, 'bin', 'kdmq.mjs');

export interface Proc {
  child: ChildProcess;
  pid: number;
  out: () => string;
  err: () => string;
  exited: () => { code: number | null; signal: string | null } | null;
  wait: (ms: number) => Promise<{ code: number | null; signal: string | null }>;
  kill: (sig?: NodeJS.Signals) => void;
}

export function spawnProc(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ex: { code: number | null; signal: string | null } | null = null;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exitP = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => {
      ex = { code, signal };
      r(ex);
    }),
  );
  return {
    child,
    pid: child.pid!,
    out: () => out,
    err: () => err,
    exited: () => ex,
    wait: (ms) =>
      Promise.race([exitP, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`pid ${child.pid} still running after ${ms} ms`)), ms).unref())]),
    kill: (sig = 'SIGTERM') => {
      if (ex === null) {
        try {
          process.kill(child.pid!, sig);
        } catch {
          /* gone */
        }
      }
    },
  };
}

export interface ServeProc extends Proc {
  dir: string;
  rpcUrl: string;
  base: string;
  cleanup(): Promise<void>;
}

/** `kdmq serve --config <tmp>/kdmq.json [extra args]` */
export function serveProc(config: Record<string, unknown>, rpcListen: string, extraArgs: string[] = []): ServeProc {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-ops-'));
  const file = join(dir, 'kdmq.json');
  writeFileSync(file, JSON.stringify({ ...config, rpc: { listen: rpcListen } }));
  const p = spawnProc(process.execPath, [KDMQ, 'serve', '--config', file, ...extraArgs]);
  return {
    ...p,
    dir,
    base: `http://${rpcListen}`,
    rpcUrl: `http://${rpcListen}/RPC`,
    async cleanup() {
      if (!p.exited()) {
        p.kill('SIGTERM');
        try {
          await p.wait(5000);
        } catch {
          p.kill('SIGKILL');
          await p.wait(5000);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function rpcCall(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
    signal: AbortSignal.timeout(3000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
  return body.result;
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

// ---- Prometheus text format (0.0.4) ----

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

/** parse the exposition format strictly enough to catch malformed output; throws on a bad line */
export function parseProm(text: string): Map<string, PromFamily> {
  const fams = new Map<string, PromFamily>();
  const fam = (n: string) => {
    let f = fams.get(n);
    if (!f) fams.set(n, (f = { name: n, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  text.split('\n').forEach((line, i) => {
    const bad = (why: string) => new Error(`metrics line ${i + 1}: ${why}: ${line}`);
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a comment
      if (!nameRe.test(m[2])) throw bad('bad metric name');
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) throw bad('bad type');
        fam(m[2]).type = m[3];
      } else fam(m[2]).help = m[3];
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw bad('not a sample');
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let consumed = 0;
      for (let l = re.exec(m[3]); l; l = re.exec(m[3])) {
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
        consumed = re.lastIndex;
      }
      if (consumed !== m[3].length) throw bad('bad labels');
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : m[4] === 'NaN' ? NaN : Number(m[4]);
    if (Number.isNaN(v) && m[4] !== 'NaN') throw bad('bad value');
    const base = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    const f = fams.get(m[1]) ?? fams.get(base) ?? fam(m[1]);
    f.samples.push({ name: m[1], labels, value: v });
  });
  return fams;
}

/** one sample's value (labels must match exactly the given ones, as a subset) */
export function promValue(fams: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
