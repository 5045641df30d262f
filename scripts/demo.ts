// `npm run demo`: a local three-node kdmq cluster. Starts three `kdmq serve` processes on
// 127.0.0.1-3 (SIP 5060, DMQ 5090, JSON-RPC 127.0.0.1:8061-8063), waits until every node sees the
// other two as active, registers a few users on the first node (REGISTERs over node:dgram), waits
// until every node has them, prints `dmq.list_nodes` and `ul.dump` of every node as kamcmd does,
// then keeps running until Ctrl-C, which stops the three nodes by PID and exits 0.
//
// Environment (all optional): KDMQ_DEMO_IPS="127.0.0.1,127.0.0.2,127.0.0.3",
// KDMQ_DEMO_SIP_PORT=5060, KDMQ_DEMO_DMQ_PORT=5090, KDMQ_DEMO_RPC_HOST=127.0.0.1,
// KDMQ_DEMO_RPC_PORTS="8061,8062,8063", KDMQ_DEMO_USERS="alice,bob,carol".

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kamcmdFormat } from '../src/cli/ctl.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const ips = (env.KDMQ_DEMO_IPS ?? '127.0.0.1,127.0.0.2,127.0.0.3').split(',').map((s) => s.trim());
const sipPort = Number(env.KDMQ_DEMO_SIP_PORT ?? 5060);
const dmqPort = Number(env.KDMQ_DEMO_DMQ_PORT ?? 5090);
const rpcHost = env.KDMQ_DEMO_RPC_HOST ?? '127.0.0.1';
const rpcPorts = (env.KDMQ_DEMO_RPC_PORTS ?? '8061,8062,8063').split(',').map(Number);
const users = (env.KDMQ_DEMO_USERS ?? 'alice,bob,carol').split(',').map((s) => s.trim()).filter(Boolean);

if (ips.length !== 3 || rpcPorts.length !== 3 || rpcPorts.some((p) => !Number.isInteger(p))) {
  process.stderr.write('demo: KDMQ_DEMO_IPS and KDMQ_DEMO_RPC_PORTS need three entries each\n');
  process.exit(2);
}

interface DemoNode {
  i: number;
  ip: string;
  rpcUrl: string;
  logFile: string;
  child: ChildProcess;
  exited?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'kdmq-demo-'));
const nodes: DemoNode[] = [];
let stopping = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc(n: DemoNode, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(n.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
    signal: AbortSignal.timeout(3000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
  return body.result;
}

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const dead = nodes.find((n) => n.exited);
    if (dead) throw new Error(`node ${dead.i} ${dead.exited}\n${tail(dead.logFile)}`);
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function startNode(i: number): DemoNode {
  const ip = ips[i];
  const others = ips.filter((_, j) => j !== i).map((o) => `sip:${o}:${dmqPort}`);
  const cfg = {
    listen: [`udp:${ip}:${sipPort}`, `udp:${ip}:${dmqPort}`],
    dmq: { server_address: `sip:${ip}:${dmqPort}`, notification_address: others, ping_interval: 5 },
    dmq_usrloc: { enable: true, sync: true, batch_msg_contacts: 50 },
    htable: { enable_dmq: true, dmq_init_sync: true, tables: { demo: { size: 8, dmqreplicate: true } } },
    rpc: { listen: `${rpcHost}:${rpcPorts[i]}` },
  };
  const file = join(dir, `node${i + 1}.json`);
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  const logFile = join(dir, `node${i + 1}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(ROOT, 'bin/kdmq.mjs'), 'serve', '--config', file], { cwd: ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const n: DemoNode = { i: i + 1, ip, rpcUrl: `http://${rpcHost}:${rpcPorts[i]}/RPC`, logFile, child };
  child.once('exit', (code, sig) => (n.exited = `exited (code ${code}, signal ${sig})`));
  return n;
}

/** one REGISTER from an ephemeral port on the node's IP; resolves with the status line */
function register(n: DemoNode, user: string, seq: number): Promise<string> {
  return new Promise((resolveP, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`REGISTER ${user}: no answer from ${n.ip}:${sipPort}`));
    }, 3000);
    s.on('message', (m) => {
      const line = m.toString('utf8').split('\r\n')[0];
      if (/^SIP\/2\.0 1\d\d/.test(line)) return;
      clearTimeout(timer);
      s.close();
      resolveP(line);
    });
    s.bind(0, n.ip, () => {
      const port = s.address().port;
      const msg = [
        `REGISTER sip:${n.ip}:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${n.ip}:${port};branch=z9hG4bK-demo-${process.pid}-${seq};rport`,
        'Max-Forwards: 70',
        `From: <sip:${user}@${n.ip}>;tag=demo${seq}`,
        `To: <sip:${user}@${n.ip}>`,
        `Call-ID: demo-${process.pid}-${seq}@${n.ip}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:${user}@${n.ip}:${port}>`,
        'Expires: 3600',
        'User-Agent: kdmq-demo',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      s.send(msg, sipPort, n.ip);
    });
  });
}

function signal(n: DemoNode, sig: NodeJS.Signals): void {
  try {
    if (!n.exited && n.child.pid) process.kill(n.child.pid, sig);
  } catch {
    /* already gone */
  }
}

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  for (const n of nodes) signal(n, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (nodes.some((n) => !n.exited) && Date.now() < deadline) await sleep(50);
  for (const n of nodes) signal(n, 'SIGKILL');
  while (nodes.some((n) => !n.exited)) await sleep(20);
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

async function main(): Promise<void> {
  process.once('SIGINT', () => {
    process.stdout.write('\nstopping the cluster\n');
    void stopAll(0);
  });
  process.once('SIGTERM', () => void stopAll(0));
  process.stdout.write(`kdmq demo: three nodes on ${ips.join(', ')} (SIP ${sipPort}, DMQ ${dmqPort}); logs in ${dir}\n`);
  for (let i = 0; i < 3; i++) nodes.push(startNode(i));
  await until('the nodes to answer JSON-RPC', 20_000, async () => {
    for (const n of nodes) await rpc(n, 'core.version');
    return true;
  });
  await until('every node to see three active nodes', 30_000, async () => {
    for (const n of nodes) {
      const list = (await rpc(n, 'dmq.list_nodes')) as Array<{ status: string }>;
      if (list.length !== 3 || list.some((x) => x.status !== 'active')) return false;
    }
    return true;
  });
  const first = nodes[0];
  let seq = 0;
  for (const u of users) {
    const line = await register(first, u, ++seq);
    process.stdout.write(`REGISTER ${u}@${first.ip} → ${line.replace(/^SIP\/2\.0 /, '')}\n`);
  }
  await until('the bindings on every node', 10_000, async () => {
    for (const n of nodes) {
      const stats = (await rpc(n, 'stats.get_statistics', ['usrloc:location_contacts'])) as string[];
      if (!stats.some((l) => l === `usrloc:location_contacts = ${users.length}`)) return false;
    }
    return true;
  });
  for (const n of nodes) {
    const url = n.rpcUrl.replace(/\/RPC$/, '');
    process.stdout.write(`\n=== node ${n.i}: sip:${n.ip}:${dmqPort} (status page ${url}/) ===\n`);
    process.stdout.write(`$ kdmq ctl --url ${url} dmq.list_nodes\n`);
    process.stdout.write(kamcmdFormat(await rpc(n, 'dmq.list_nodes')));
    process.stdout.write(`$ kdmq ctl --url ${url} ul.dump\n`);
    process.stdout.write(kamcmdFormat(await rpc(n, 'ul.dump')));
  }
  process.stdout.write(`\ncluster running: try \`npx kdmq ctl --url ${nodes[1].rpcUrl.replace(/\/RPC$/, '')} dmq.list_nodes\` or open ${nodes[0].rpcUrl.replace(/RPC$/, '')} · Ctrl-C stops it\n`);
  // keep running; report a node that dies
  for (;;) {
    await sleep(500);
    const dead = nodes.find((n) => n.exited);
    if (dead && !stopping) {
      process.stderr.write(`demo: node ${dead.i} ${dead.exited}\n${tail(dead.logFile)}\n`);
      await stopAll(1);
    }
  }
}

main().catch((e: Error) => {
  process.stderr.write(`demo: ${e.message}\n`);
  void stopAll(1);
});
