// A kdmq node as a real process for benchmarks: `node bin/kdmq.mjs serve --config FILE` on a
// loopback address, config written to a temp dir, ready when its JSON-RPC (rpc.listen, /RPC)
// answers core.version; dmq.list_nodes over HTTP; SIGKILL (crash) or SIGTERM-then-SIGKILL, by PID.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidAlive } from '../../test/support/proc.ts';
import { WaitAbortError, waitFor } from '../../test/support/wait.ts';

export const KDMQ_BIN = fileURLToPath(new URL('../../bin/kdmq.mjs', import.meta.url));

export interface ListedNode {
  host: string;
  port: number;
  status: string;
  local: boolean;
}

export interface KdmqProcess {
  readonly pid: number;
  readonly ip: string;
  readonly dmqPort: number;
  alive(): boolean;
  listNodes(): Promise<ListedNode[]>;
  kill(): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

export interface KdmqNodeOptions {
  ip: string;
  sipPort: number;
  dmqPort: number;
  rpcPort: number;
  peers: string[];
  pingInterval: number;
  sip?: { t1?: number; t2?: number; kdmq_timeout?: number };
  /** dmq.server_address when it is not the node's own DMQ socket (a relay in front of it, support/lossy-relay.ts) */
  serverAddress?: string;
}

export function kdmqConfig(o: KdmqNodeOptions): Record<string, unknown> {
  return {
    // with a server_address of another host, kdmq sends DMQ from its first listen: the DMQ socket first
    listen: o.serverAddress ? [`udp:${o.ip}:${o.dmqPort}`, `udp:${o.ip}:${o.sipPort}`] : [`udp:${o.ip}:${o.sipPort}`, `udp:${o.ip}:${o.dmqPort}`],
    dmq: { server_address: o.serverAddress ?? `sip:${o.ip}:${o.dmqPort}`, notification_address: o.peers, ping_interval: o.pingInterval },
    ...(o.sip ? { sip: o.sip } : {}),
    rpc: { listen: `${o.ip}:${o.rpcPort}` },
    dns: { servers: ['127.0.0.1:9'] }, // never used (IP peers); keeps the node off the machine's resolver
  };
}

async function rpc(ip: string, port: number, method: string): Promise<unknown> {
  const res = await fetch(`http://${ip}:${port}/RPC`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params: [], id: 1 }),
    signal: AbortSignal.timeout(2000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function startKdmqNode(o: KdmqNodeOptions): Promise<KdmqProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-bench-'));
  const cfg = join(dir, 'node.json'); // YAML is a superset of JSON
  const logFile = join(dir, 'kdmq.log');
  writeFileSync(cfg, JSON.stringify(kdmqConfig(o), null, 2));
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [KDMQ_BIN, 'serve', '--config', cfg, '--log-level', 'warn'], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('kdmq did not start');
  const pid = child.pid;
  let exited: string | undefined;
  const done = new Promise<void>((resolve) =>
    child.once('exit', (code, sig) => {
      exited = `exited (code ${code}, signal ${sig})`;
      resolve();
    }),
  );
  const tail = (n = 20) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-n - 1).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const kill = async () => {
    if (exited === undefined && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    if (exited === undefined) await done;
    rmSync(dir, { recursive: true, force: true });
  };
  const node: KdmqProcess = {
    pid,
    ip: o.ip,
    dmqPort: o.dmqPort,
    alive: () => exited === undefined && pidAlive(pid),
    async listNodes() {
      const r = (await rpc(o.ip, o.rpcPort, 'dmq.list_nodes')) as Array<{ host: string; port: number | string; status: string; local: number }>;
      return r.map((x) => ({ host: x.host, port: Number(x.port), status: x.status, local: x.local === 1 }));
    },
    kill,
    async stop(timeoutMs = 5000) {
      if (exited === undefined && pidAlive(pid)) process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => exited === undefined && pidAlive(pid) && process.kill(pid, 'SIGKILL'), timeoutMs);
      await done;
      clearTimeout(t);
      await kill();
    },
    logTail: tail,
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new WaitAbortError(`kdmq ${exited}`);
        return (await rpc(o.ip, o.rpcPort, 'core.version')) !== undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `kdmq on ${o.ip} answering JSON-RPC` },
    );
  } catch (e) {
    const log = tail(30);
    await kill();
    throw new Error(`${(e as Error).message}\n--- kdmq log ---\n${log}`);
  }
  return node;
}
