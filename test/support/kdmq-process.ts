// Harness for real `kdmq serve` processes on loopback (the counterpart of kamailio.ts): writes a
// YAML config to a fresh temp dir, spawns `node bin/kdmq.mjs serve --config …` from the repo root,
// waits until dmq.list_nodes answers over its JSON-RPC, and offers listNodes()/rpc(), graceful
// stop (SIGTERM, bounded wait, then SIGKILL), crash kill (SIGKILL), restart and the log text.
// Every process is started and stopped by its PID.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freeTcpPort, udpPortInUse } from './loopback.ts';
import { killTree, pidAlive, pidStartTime } from './proc.ts';
import { WaitAbortError, waitFor } from './wait.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One entry of kdmq's dmq.list_nodes (Kamailio's shape; port is a string). */
export interface KdmqListedNode {
  host: string;
  port: string;
  proto: string;
  resolved_ip: string;
  status: string;
  last_notification: number;
  local: number;
}

export interface StartKdmqOptions {
  ip: string;
  /** SIP port (default 5060) */
  sipPort?: number;
  /** DMQ port (default 5090); server_address is sip:<ip>:<dmqPort> */
  dmqPort?: number;
  /** JSON-RPC TCP port on ip (default: a free one) */
  rpcPort?: number;
  notificationAddresses: string[];
  /** dmq.ping_interval in seconds (default 1) */
  pingInterval?: number;
  /** deep-merged into the generated config (e.g. { sip: { kdmq_timeout: 2000 }, dns: { servers: [...] } }) */
  extra?: Record<string, unknown>;
  /** log file (default: kdmq.log in the temp dir) */
  logFile?: string;
  /** deadline for dmq.list_nodes to answer (default 20 000 ms) */
  startTimeoutMs?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** DMQ over udp (default), tcp or tls: the dmq listen and server_address `;transport=` (SIP stays udp) */
  dmqTransport?: 'udp' | 'tcp' | 'tls';
}

export interface KdmqProc {
  readonly pid: number;
  readonly ip: string;
  readonly sipPort: number;
  readonly dmqPort: number;
  readonly rpcPort: number;
  readonly dmqUri: string;
  readonly rpcUrl: string;
  readonly workDir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** JSON-RPC call; returns `result`, throws on `error` or a 5 s time-out */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  listNodes(): Promise<KdmqListedNode[]>;
  alive(): boolean;
  /** SIGTERM, wait for exit (deadline), SIGKILL if it passes */
  stop(timeoutMs?: number): Promise<void>;
  /** crash: SIGKILL, resolves when the PID is gone */
  kill(): Promise<void>;
  /** stop if running, then start again with the same config (new PID) */
  restart(): Promise<KdmqProc>;
  /** the whole log */
  logs(): string;
  /** how the last run ended, e.g. "exited (code 0, signal null)"; undefined while running */
  lastExit(): string | undefined;
  /** stop and delete the temp dir */
  cleanup(): Promise<void>;
}

const live = new Map<number, number | undefined>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid, start] of live) killTree(pid, false, start);
  });
}

/** PIDs of kdmq processes this harness started that are still running (for afterAll checks). */
export function liveKdmqPids(): number[] {
  return [...live.keys()].filter(pidAlive);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines - 1).join('\n');
}

export async function startKdmq(opts: StartKdmqOptions): Promise<KdmqProc> {
  if (!/^127\.\d+\.\d+\.\d+$/.test(opts.ip)) throw new Error(`not a loopback IPv4 literal: ${opts.ip}`);
  const sipPort = opts.sipPort ?? 5060;
  const dmqPort = opts.dmqPort ?? 5090;
  const rpcPort = opts.rpcPort ?? (await freeTcpPort(opts.ip));
  const dmqProto = opts.dmqTransport ?? 'udp';
  const dmqUri = `sip:${opts.ip}:${dmqPort}${dmqProto === 'udp' ? '' : `;transport=${dmqProto}`}`;
  const workDir = mkdtempSync(join(tmpdir(), 'kdmq-proc-'));
  const configFile = join(workDir, 'kdmq.yaml');
  const logFile = opts.logFile ?? join(workDir, 'kdmq.log');
  const base: Record<string, unknown> = {
    listen: [`udp:${opts.ip}:${sipPort}`, `${dmqProto}:${opts.ip}:${dmqPort}`],
    dmq: {
      server_address: dmqUri,
      notification_address: opts.notificationAddresses,
      ping_interval: opts.pingInterval ?? 1,
    },
    rpc: { listen: `${opts.ip}:${rpcPort}` },
  };
  const config = deepMerge(base, opts.extra ?? {});
  writeFileSync(configFile, stringify(config));
  installExitHook();

  const rpcUrl = `http://${opts.ip}:${rpcPort}/RPC`;
  let pid = 0;
  let startTime: number | undefined;
  let exited: string | undefined;

  const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    if (body.error) throw new Error(`${method} on ${opts.ip}: ${body.error.code} ${body.error.message}`);
    return body.result;
  };

  const logs = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  };

  // gone from /proc, then the child's 'exit' event (which can come a little later) for lastExit()
  const waitExit = async (timeoutMs: number, what: string) => {
    await waitFor(() => !pidAlive(pid), { timeoutMs, intervalMs: 20, what });
    await waitFor(() => exited !== undefined, { timeoutMs: 5000, intervalMs: 10, what: `exit event of kdmq ${pid}` }).catch(() => undefined);
  };

  const crash = async (): Promise<void> => {
    if (!pid || !pidAlive(pid) || pidStartTime(pid) !== startTime) {
      live.delete(pid);
      return;
    }
    killTree(pid, false, startTime);
    await waitExit(10_000, `kdmq ${pid} gone after SIGKILL`);
    live.delete(pid);
  };

  const spawnNode = async (): Promise<void> => {
    const taken = [sipPort, dmqPort].filter((p) => udpPortInUse(opts.ip, p));
    if (taken.length) throw new Error(`UDP ${opts.ip}:${taken.join(',')} already in use`);
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `=== ${new Date().toISOString()} start kdmq serve --config ${configFile}\n`);
    const child = spawn(
      process.execPath,
      ['bin/kdmq.mjs', 'serve', '--config', configFile, '--log-level', opts.logLevel ?? 'info'],
      { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    closeSync(fd);
    exited = undefined;
    // only this run's child may report an exit: the previous child's 'exit' event can arrive
    // after restart() has spawned the next one (its PID was already gone)
    child.once('exit', (code, sig) => {
      if (pid === child.pid) exited = `exited (code ${code}, signal ${sig})`;
    });
    child.once('error', (e) => {
      if (pid === child.pid || pid === 0) exited = `failed to spawn: ${e.message}`;
    });
    child.unref();
    pid = child.pid ?? 0;
    startTime = pid ? pidStartTime(pid) : undefined;
    if (pid) live.set(pid, startTime);
    try {
      await waitFor(
        async () => {
          if (exited) throw new WaitAbortError(`kdmq ${exited}`);
          const r = await rpc('dmq.list_nodes');
          return Array.isArray(r);
        },
        { timeoutMs: opts.startTimeoutMs ?? 20_000, intervalMs: 50, what: `kdmq on ${opts.ip} answering dmq.list_nodes` },
      );
    } catch (e) {
      await crash();
      throw new Error(`${(e as Error).message}\n--- ${logFile} ---\n${tail(logs(), 30)}`);
    }
  };

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (!pid || !pidAlive(pid) || pidStartTime(pid) !== startTime) return crash();
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    try {
      await waitExit(timeoutMs, `kdmq ${pid} exit after SIGTERM`);
      live.delete(pid);
    } catch {
      await crash();
    }
  };

  const proc: KdmqProc = {
    get pid() {
      return pid;
    },
    ip: opts.ip,
    sipPort,
    dmqPort,
    rpcPort,
    dmqUri,
    rpcUrl,
    workDir,
    configFile,
    logFile,
    rpc,
    listNodes: async () => (await rpc('dmq.list_nodes')) as KdmqListedNode[],
    alive: () => pid !== 0 && pidAlive(pid) && pidStartTime(pid) === startTime,
    stop,
    kill: crash,
    async restart() {
      await stop();
      await spawnNode();
      return proc;
    },
    logs,
    lastExit: () => exited,
    async cleanup() {
      await stop();
      if (!opts.logFile) rmSync(workDir, { recursive: true, force: true });
    },
  };
  try {
    await spawnNode();
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  return proc;
}
