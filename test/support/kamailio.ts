// Harness for real Kamailio 5.6.3 DMQ nodes on loopback: availability check, start (config
// from kamailio-config.ts, ready when kamcmd answers on the node's own ctl socket), kamcmd
// queries with parsed results, graceful stop, crash kill (main + every child, by PID) and restart.
// Also re-exports the loopback address/port helpers used to give every node fresh addresses.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKamailioConfig, checkLoopback, type KamailioConfigInput } from './kamailio-config.ts';
import { kamailioInstall, type KamailioSuite } from './kamailio-suite.ts';
import {
  kamcmdFault, parseHtableDump, parseListNodes, parseStats, parseUlDump,
  type DmqNode, type HtableItem, type UlAor,
} from './kamcmd-parse.ts';
import { killTree, pidAlive, pidStartTime, run, withResolvConf, type RunResult } from './proc.ts';
import { udpPortInUse } from './loopback.ts';
import { WaitAbortError, waitFor } from './wait.ts';

export { allocLoopbackIps, freeUdpPort, freeTcpPort } from './loopback.ts';
export { kamailioAvailable, kamailioTlsMissing } from './kamailio-config.ts';
export type { DmqNode, HtableItem, UlAor, UlContact } from './kamcmd-parse.ts';
export { kamailioInstall, KAMAILIO_SUITES, type KamailioSuite } from './kamailio-suite.ts';

export interface StartKamailioOptions {
  ip: string;
  /** which Kamailio (scripts/kamailio-version.sh SUITE); default: the one on PATH (5.6.3) */
  suite?: KamailioSuite;
  sipPort?: number;
  dmqPort?: number;
  /** DMQ notification addresses, e.g. ['sip:127.20.1.3:5090']; list only the other nodes. */
  notificationAddresses: string[];
  multiNotify?: boolean;
  /** dmq ping_interval seconds (default 10; Kamailio clamps below 5). */
  pingInterval?: number;
  /** tm fr_timer in ms (Kamailio default 30 000): drives DMQ failure detection. */
  frTimerMs?: number;
  /** Load dmq/dmq_usrloc and replicate htables (default true). */
  dmq?: boolean;
  /** dmq_usrloc batch_msg_contacts. */
  usrlocBatch?: number;
  htableTables?: string[];
  registrarDefaultExpires?: number;
  /** JSON-RPC over HTTP (xhttp + jsonrpcs) on tcp:ip:rpcHttpPort, path /RPC. */
  rpcHttpPort?: number;
  children?: number;
  /** Work dir for cfg, pid, ctl socket and log (default: a fresh dir under the OS tmpdir). */
  workDir?: string;
  /** Run Kamailio in a private mount namespace with this file as /etc/resolv.conf. */
  resolvConf?: string;
  /** Shared / private memory in MB (defaults 64 / 8). */
  shmMb?: number;
  pkgMb?: number;
  /** Deadline for the node to answer kamcmd (default 20 000 ms). */
  startTimeoutMs?: number;
  /** DMQ over udp (default), tcp or tls: listen and server_address `;transport=` */
  dmqTransport?: 'udp' | 'tcp' | 'tls';
  /** PEM files for dmqTransport tls */
  tls?: KamailioConfigInput['tls'];
  /** core tcp_rd_buf_size (Kamailio's default 4096) */
  tcpRdBufSize?: number;
  /** more ctl binrpc sockets, e.g. ["tcp:127.20.1.2:2049"] (the unix one in the work dir is always there) */
  ctlExtra?: string[];
  /** jsonrpcs FIFO for kamctl (RPCFIFO): created in the work dir as kamailio_rpc.fifo */
  jsonrpcFifo?: boolean;
  /** siptrace: every datagram in and out as HEPv3 to duplicateUri (trace_mode 1) */
  siptrace?: KamailioConfigInput['siptrace'];
}

export type KamcmdResult = RunResult;

export interface KamailioNode {
  readonly pid: number;
  readonly ip: string;
  readonly sipPort: number;
  readonly dmqPort: number;
  readonly dmqUri: string;
  /** the version it runs, e.g. 6.1.5 */
  readonly version: string;
  readonly workDir: string;
  readonly cfgFile: string;
  readonly ctlSocket: string;
  readonly logFile: string;
  readonly rpcHttpPort?: number;
  /** `kamcmd -s unix:<ctl> args…` with a timeout (a DMQ-frozen node hangs kamcmd): never throws. */
  kamcmd(...args: string[]): Promise<KamcmdResult>;
  /** Like kamcmd but throws on timeout, non-zero exit or an "error: …" RPC fault; returns stdout. */
  rpc(...args: string[]): Promise<string>;
  /** JSON-RPC over HTTP (only with rpcHttpPort); returns `result`, throws on `error`. */
  httpRpc(method: string, params?: unknown[], timeoutMs?: number): Promise<unknown>;
  listNodes(): Promise<DmqNode[]>;
  ulDump(): Promise<UlAor[]>;
  htableDump(table: string): Promise<HtableItem[]>;
  /** usrloc location_contacts statistic (ul.dump fails from ~1000 contacts: "reply too big" / "Internal error creating aor struct"). */
  contactCount(): Promise<number>;
  alive(): boolean;
  /** Log tail, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM, wait for exit, then SIGKILL main + children if the deadline passes. */
  stop(timeoutMs?: number): Promise<void>;
  /** Crash: SIGKILL the main PID and every child PID; resolves when all are gone. */
  kill(): Promise<void>;
  /** Start again with the same config (stops first if still running). */
  restart(): Promise<KamailioNode>;
  /** Stop if running and delete the work dir (unless it was given by the caller). */
  cleanup(): Promise<void>;
}

const live = new Map<number, number | undefined>(); // main PID -> its start time
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a test forgets to stop its nodes: crash-kill every node still running.
  process.on('exit', () => {
    for (const [pid, start] of live) killTree(pid, true, start);
  });
}

function hostOf(uri: string): string {
  return uri.replace(/^sips?:/, '').replace(/^\[?([^\]]*?)\]?(:\d+)?(;.*)?$/, '$1');
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitGone(pids: number[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => pids.every((p) => !pidAlive(p)) || false, { timeoutMs, intervalMs: 20, what });
}

export async function startKamailio(opts: StartKamailioOptions): Promise<KamailioNode> {
  const avail = kamailioInstall(opts.suite);
  if (!avail.ok) throw new Error(`Kamailio not available: ${avail.reason}`);
  if (opts.resolvConf && opts.suite && opts.suite !== 'bookworm') throw new Error('resolvConf is not supported for a chroot suite');
  checkLoopback(opts.ip);
  for (const a of opts.notificationAddresses) {
    const h = hostOf(a);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) checkLoopback(h);
    else if (!opts.resolvConf) throw new Error(`notification address ${a} is a name: pass resolvConf (a test DNS server)`);
  }
  const ownDir = !opts.workDir;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'kdmq-kam-'));
  const ctlSocket = join(workDir, 'kamailio.ctl');
  if (ctlSocket.length > 100) throw new Error(`ctl socket path too long for a unix socket: ${ctlSocket}`);
  const cfgIn: KamailioConfigInput = {
    ip: opts.ip,
    sipPort: opts.sipPort ?? 5060,
    dmqPort: opts.dmqPort ?? 5090,
    notificationAddresses: opts.notificationAddresses,
    multiNotify: opts.multiNotify ?? false,
    pingInterval: Math.max(5, opts.pingInterval ?? 10),
    frTimerMs: opts.frTimerMs,
    dmq: opts.dmq ?? true,
    usrlocBatch: opts.usrlocBatch,
    htableTables: opts.htableTables ?? ['lab=>size=8;autoexpire=0;dmqreplicate=1;'],
    registrarDefaultExpires: opts.registrarDefaultExpires ?? 300,
    rpcHttpPort: opts.rpcHttpPort,
    children: opts.children ?? 4,
    workDir,
    ctlSocket,
    moduleDir: avail.moduleDir,
    dmqTransport: opts.dmqTransport,
    tls: opts.tls,
    tcpRdBufSize: opts.tcpRdBufSize,
    ctlExtra: opts.ctlExtra,
    jsonrpcFifo: opts.jsonrpcFifo ? join(workDir, 'kamailio_rpc.fifo') : undefined,
    siptrace: opts.siptrace,
  };
  const cfgFile = join(workDir, 'kamailio.cfg');
  const pidFile = join(workDir, 'kamailio.pid');
  const logFile = join(workDir, 'kamailio.log');
  writeFileSync(cfgFile, renderKamailioConfig(cfgIn));
  installExitHook();

  let pid = 0;
  let startTime: number | undefined;
  let running = false;
  const kamcmd = (...args: string[]) => run(avail.kamcmd, ['-s', `unix:${ctlSocket}`, ...args], 5000);

  const spawnNode = async (): Promise<void> => {
    const ports = [cfgIn.sipPort, ...(cfgIn.dmq && (cfgIn.dmqTransport ?? 'udp') === 'udp' ? [cfgIn.dmqPort] : [])];
    const taken = ports.filter((p) => udpPortInUse(opts.ip, p));
    if (taken.length) throw new Error(`UDP ${opts.ip}:${taken.join(',')} already in use (Kamailio would share it silently)`);
    rmSync(ctlSocket, { force: true });
    rmSync(pidFile, { force: true });
    const args = ['-f', cfgFile, '-P', pidFile, '-w', workDir, '-Y', workDir, '-DD', '-E',
      '-m', String(opts.shmMb ?? 64), '-M', String(opts.pkgMb ?? 8)];
    const [cmd, argv] = withResolvConf(opts.resolvConf, avail.kamailio, args);
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `=== ${new Date().toISOString()} start: ${cmd} ${argv.join(' ')}\n`);
    // detached: own process group (pgid = main PID), so a crash-kill can also reach orphans.
    const child = spawn(cmd, argv, { cwd: workDir, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    let exited: string | undefined;
    child.once('exit', (code, sig) => (exited = `exited (code ${code}, signal ${sig})`));
    child.once('error', (e) => (exited = `failed to spawn: ${e.message}`));
    child.unref();
    pid = child.pid ?? 0;
    startTime = pid ? pidStartTime(pid) : undefined;
    running = pid !== 0;
    if (pid) live.set(pid, startTime);
    try {
      await waitFor(
        async () => {
          if (exited) throw new WaitAbortError(`kamailio ${exited}`);
          if (!existsSync(ctlSocket)) return false;
          const r = await kamcmd('core.version');
          return r.code === 0 && /kamailio/.test(r.stdout);
        },
        { timeoutMs: opts.startTimeoutMs ?? 20_000, intervalMs: 50, what: `kamailio on ${opts.ip} answering kamcmd` },
      );
    } catch (e) {
      await crash();
      throw new Error(`${(e as Error).message}\n--- ${logFile} ---\n${tail(logFile, 30)}`);
    }
  };

  const crash = async (): Promise<void> => {
    if (!running) return;
    const pids = killTree(pid, true, startTime);
    await waitGone(pids, 10_000, `kamailio ${pid} and children gone after SIGKILL`);
    live.delete(pid);
    running = false;
  };

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (!running) return;
    if (!pidAlive(pid) || pidStartTime(pid) !== startTime) return crash(); // main died: orphans
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    try {
      await waitGone([pid], timeoutMs, `kamailio ${pid} exit after SIGTERM`);
    } catch {
      /* fall through to SIGKILL */
    }
    await crash();
  };

  const node: KamailioNode = {
    get pid() {
      return pid;
    },
    ip: opts.ip,
    sipPort: cfgIn.sipPort,
    dmqPort: cfgIn.dmqPort,
    version: avail.version!,
    dmqUri: `sip:${opts.ip}:${cfgIn.dmqPort}${opts.dmqTransport && opts.dmqTransport !== 'udp' ? `;transport=${opts.dmqTransport}` : ''}`,
    workDir,
    cfgFile,
    ctlSocket,
    logFile,
    rpcHttpPort: opts.rpcHttpPort,
    kamcmd,
    async rpc(...args: string[]) {
      const r = await kamcmd(...args);
      if (r.timedOut) throw new Error(`kamcmd ${args.join(' ')} on ${opts.ip} timed out`);
      const fault = kamcmdFault(r.stdout);
      if (r.code !== 0 || fault) {
        throw new Error(`kamcmd ${args.join(' ')} on ${opts.ip}: code ${r.code} ${fault ?? ''} ${r.stderr.trim()}`);
      }
      return r.stdout;
    },
    async httpRpc(method: string, params: unknown[] = [], timeoutMs = 5000) {
      if (opts.rpcHttpPort === undefined) throw new Error('node started without rpcHttpPort');
      const res = await fetch(`http://${opts.ip}:${opts.rpcHttpPort}/RPC`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
      if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
      return body.result;
    },
    async listNodes() {
      return parseListNodes(await node.rpc('dmq.list_nodes'));
    },
    async ulDump() {
      return parseUlDump(await node.rpc('ul.dump'));
    },
    async htableDump(table: string) {
      return parseHtableDump(await node.rpc('htable.dump', table));
    },
    async contactCount() {
      const s = parseStats(await node.rpc('stats.get_statistics', 'location_contacts'));
      const v = s['usrloc:location_contacts'] ?? s.location_contacts;
      if (v === undefined) throw new Error(`location_contacts missing from stats on ${opts.ip}`);
      return v;
    },
    alive: () => running && pidAlive(pid) && pidStartTime(pid) === startTime,
    logTail: (lines = 40) => tail(logFile, lines),
    stop,
    kill: crash,
    async restart() {
      await stop();
      await spawnNode();
      return node;
    },
    async cleanup() {
      await stop();
      if (ownDir) rmSync(workDir, { recursive: true, force: true });
    },
  };
  try {
    await spawnNode();
  } catch (e) {
    if (ownDir) rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  return node;
}
