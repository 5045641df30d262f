// `kdmq serve --config FILE [--set k=v]… [--log-level L]`: builds the live ports (UDP sockets,
// system clock, DNS over the network, a crypto-seeded random), creates the node with the one
// factory, serves JSON-RPC on rpc.listen, and stops cleanly on SIGINT/SIGTERM (leave notice,
// sockets closed, exit 0). Config errors and bind errors exit 2 with one line on stderr.

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadConfigText } from '../config/load.ts';
import type { KdmqConfig } from '../config/types.ts';
import { SystemClock } from '../ports/clock.ts';
import { SeededRandom } from '../ports/random.ts';
import { DnsResolver, systemResolverServers } from '../ports/dns-resolver.ts';
import { UdpTransport } from '../transport/udp-transport.ts';
import { createNode, type KdmqNode } from '../actors/create-system.ts';
import { createRegistry } from '../control/rpc.ts';
import { registerDmqMethods } from '../control/dmq-methods.ts';
import { startRpcServer, type RpcServer } from '../control/rpc-http.ts';
import { createLogger, isLogLevel } from './logger.ts';
import { installServices } from './services.ts';

export interface ServeArgs {
  configPath?: string;
  sets: string[];
  logLevel: string;
}

export function parseServeArgs(argv: string[]): ServeArgs | string {
  const a: ServeArgs = { configPath: process.env.KDMQ_CONFIG, sets: [], logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const val = () => (x.includes('=') && x.startsWith('--') && !['--set'].includes(x) ? x.slice(x.indexOf('=') + 1) : argv[++i]);
    if (x === '--config' || x.startsWith('--config=')) a.configPath = val();
    else if (x === '--set') a.sets.push(argv[++i] ?? '');
    else if (x.startsWith('--set=')) a.sets.push(x.slice(6));
    else if (x === '--log-level' || x.startsWith('--log-level=')) a.logLevel = val() ?? '';
    else return `unknown option ${x}`;
  }
  if (!isLogLevel(a.logLevel)) return `--log-level must be debug, info, warn or error`;
  return a;
}

export function readConfig(args: ServeArgs): { ok: true; config: KdmqConfig } | { ok: false; error: string } {
  let text = '{}';
  if (args.configPath) {
    try {
      text = readFileSync(args.configPath, 'utf8');
    } catch (e) {
      return { ok: false, error: `cannot read config file ${args.configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  return loadConfigText(text, args.sets);
}

export async function serve(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`kdmq serve: ${args}\n`);
    return 2;
  }
  const cfg = readConfig(args);
  if (!cfg.ok) {
    process.stderr.write(`kdmq serve: ${cfg.error}\n`);
    return 2;
  }
  const config = cfg.config;
  const log = createLogger(args.logLevel as 'info');
  const clock = new SystemClock();
  const transport = new UdpTransport();
  const resolver = new DnsResolver({ servers: config.dns.servers ?? (await systemResolverServers()) });
  let node: KdmqNode;
  const random = new SeededRandom(randomBytes(16).toString('hex'));
  let rpc: RpcServer | null = null;
  try {
    node = await createNode(config, { clock, random, resolver, transport, log });
  } catch (e) {
    await transport.close();
    process.stderr.write(`kdmq serve: ${(e as Error).message}\n`);
    return 2;
  }
  const reg = createRegistry();
  registerDmqMethods(reg, node, () => clock.now());
  const services = installServices(node, reg, { clock, log, random: random.fork('app') });
  if (config.rpc.listen !== '') {
    try {
      rpc = await startRpcServer(reg, config.rpc.listen, services.httpRoutes);
    } catch (e) {
      await node.stop();
      await transport.close();
      process.stderr.write(`kdmq serve: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (!config.dmq.allow) log.log('warn', 'dmq.allow is not set: any host that reaches the DMQ port may join the cluster and write data (as in Kamailio)');
  log.log('info', 'kdmq ready', {
    listen: node.endpoints.map((e) => `udp:${e.host}:${e.port}`),
    server_address: `sip:${node.local.host}:${node.local.port}`,
    rpc: rpc ? `http://${rpc.address.host}:${rpc.address.port}/RPC` : 'off',
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', 'stopping', { signal: sig });
      const force = setTimeout(() => resolve(0), 1800);
      void (async () => {
        await node.stop();
        await services.stop();
        await rpc?.close();
        await transport.close();
        clearTimeout(force);
        resolve(0);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
