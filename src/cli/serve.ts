// `kdmq serve [--config FILE] [--kamailio-cfg FILE [--define NAME[=VAL]]…] [--set k=v]…
// [--log-level L]`: builds the live ports (UDP sockets,
// system clock, DNS over the network, a crypto-seeded random), creates the node with the one
// factory, serves JSON-RPC on rpc.listen (and BINRPC, FIFO, datagram per ctl: and jsonrpcs:),
// and stops cleanly on SIGINT/SIGTERM (leave notice, sockets closed, exit 0). Config errors and bind errors exit 2 with one line on stderr.

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../ports/node-crypto.ts';
import { applyOverrides, parseConfigText, validateConfig } from '../config/load.ts';
import { parseDefineArg, readKamailioCfg } from '../config/kamailio-cfg.ts';
import type { KdmqConfig } from '../config/types.ts';
import { SystemClock } from '../ports/clock.ts';
import { SeededRandom } from '../ports/random.ts';
import { DnsResolver, systemResolverServers } from '../ports/dns-resolver.ts';
import { UdpTransport } from '../transport/udp-transport.ts';
import { MuxTransport } from '../transport/mux-transport.ts';
import { StreamTransport, type StreamTlsOptions } from '../transport/stream-transport.ts';
import { TestBlockTransport } from '../transport/test-block.ts';
import { registerTestBlockMethod } from '../control/test-block-method.ts';
import { createNode, type KdmqNode } from '../actors/node/create-node.ts';
import { createRegistry } from '../control/rpc.ts';
import { registerDmqMethods } from '../control/dmq-methods.ts';
import { startRpcServer, type RpcServer } from '../control/rpc-http.ts';
import { localControlConfigError, startLocalControl, type LocalControl } from '../control/local-control.ts';
import { createLogger, isLogLevel } from './logger.ts';
import { installServices } from './services.ts';
import { startLiveTrace, type LiveTrace } from '../trace/live.ts';
import { openAuth } from './auth-setup.ts';
import { openPersistence } from './persist-setup.ts';
import { startHepMirror, type HepSetup } from './hep-setup.ts';
import { siptraceConfigError } from '../trace/hep-mirror.ts';

export interface ServeArgs {
  configPath?: string;
  kamailioCfg?: string;
  defines: Record<string, string>;
  sets: string[];
  logLevel: string;
  trace?: string;
  traceMaxMb?: number;
}

export function parseServeArgs(argv: string[]): ServeArgs | string {
  const a: ServeArgs = { configPath: process.env.KDMQ_CONFIG || undefined, defines: {}, sets: [], logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const val = () => (x.includes('=') && x.startsWith('--') ? x.slice(x.indexOf('=') + 1) : argv[++i]);
    if (x === '--config' || x.startsWith('--config=')) a.configPath = val();
    else if (x === '--kamailio-cfg' || x.startsWith('--kamailio-cfg=')) a.kamailioCfg = val();
    else if (x === '--define' || x.startsWith('--define=') || x === '-A') {
      const d = parseDefineArg((x === '-A' ? argv[++i] : val()) ?? '');
      if (!d) return `${x} expects NAME or NAME=VALUE`;
      a.defines[d[0]] = d[1];
    } else if (x === '--set') a.sets.push(argv[++i] ?? '');
    else if (x.startsWith('--set=')) a.sets.push(x.slice(6));
    else if (x === '--log-level' || x.startsWith('--log-level=')) a.logLevel = val() ?? '';
    else if (x === '--trace' || x.startsWith('--trace=')) a.trace = val();
    else if (x === '--trace-max-mb' || x.startsWith('--trace-max-mb=')) a.traceMaxMb = Number(val());
    else return `unknown option ${x}`;
    if (a.configPath === undefined && (x === '--config' || x.startsWith('--config='))) return `${x} expects a file name`;
    if (a.kamailioCfg === undefined && (x === '--kamailio-cfg' || x.startsWith('--kamailio-cfg='))) return `${x} expects a file name`;
  }
  if (a.traceMaxMb !== undefined && !(a.traceMaxMb >= 0)) return '--trace-max-mb must be a number of MB (0 = no rotation)';
  if (!isLogLevel(a.logLevel)) return `--log-level must be debug, info, warn or error`;
  if (Object.keys(a.defines).length > 0 && !a.kamailioCfg) return '--define only applies with --kamailio-cfg';
  return a;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * The configuration: the kamailio.cfg mapping (if any), then the kdmq file on top (deep-merged),
 * then the --set overrides, validated as one. `ignored` lists what the kamailio.cfg had that kdmq
 * does not use.
 */
export function readConfig(args: ServeArgs): { ok: true; config: KdmqConfig; ignored: string[] } | { ok: false; error: string } {
  let raw: Record<string, unknown> = {};
  let ignored: string[] = [];
  if (args.kamailioCfg) {
    const k = readKamailioCfg(args.kamailioCfg, args.defines);
    if (!k.ok) return k;
    raw = k.config;
    ignored = k.ignored;
  }
  if (args.configPath) {
    let text: string;
    try {
      text = readFileSync(args.configPath, 'utf8');
    } catch (e) {
      return { ok: false, error: `cannot read config file ${args.configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const p = parseConfigText(text);
    if (!p.ok) return p;
    if (p.value !== null && p.value !== undefined && !isObj(p.value)) {
      return { ok: false, error: `config key (top level): expected a mapping, got ${JSON.stringify(p.value)}` };
    }
    raw = deepMerge(raw, (p.value as Record<string, unknown> | null) ?? {});
  }
  // KDMQ_RPC_TOKEN: the rpc.token when the files give none (kept out of argv and ps)
  const envToken = process.env.KDMQ_RPC_TOKEN;
  if (envToken && !(isObj(raw.rpc) && raw.rpc.token !== undefined)) raw = deepMerge(raw, { rpc: { token: envToken } });
  const o = applyOverrides(raw, args.sets);
  if (!o.ok) return o;
  const v = validateConfig(o.value);
  return v.ok ? { ...v, ignored } : v;
}

/** TCP/TLS per config `tcp:` and `tls:` (certificate files read here); an error names the key */
export function streamTransportFor(config: KdmqConfig): StreamTransport | string {
  const t = config.tls;
  let tls: StreamTlsOptions | undefined;
  if (t?.certificate && t.private_key) {
    const read = (key: string, file: string): Buffer | string => {
      try {
        return readFileSync(file);
      } catch (e) {
        return `config key tls.${key}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      }
    };
    const cert = read('certificate', t.certificate);
    const key = read('private_key', t.private_key);
    const ca = t.ca_list ? read('ca_list', t.ca_list) : undefined;
    for (const x of [cert, key, ca]) if (typeof x === 'string') return x;
    tls = { certificate: cert as Buffer, privateKey: key as Buffer, caList: ca as Buffer | undefined, verifyPeer: t.verify_peer, requireCertificate: t.require_certificate };
  }
  const c = config.tcp;
  return new StreamTransport({
    tls,
    maxConnections: c?.max_connections,
    idleTimeoutMs: c ? c.connection_lifetime * 1000 : undefined,
    connectTimeoutMs: c ? c.connect_timeout * 1000 : undefined,
    maxMessage: c?.max_message,
    backoffMaxMs: c ? c.backoff_max * 1000 : undefined,
  });
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
  const controlError = localControlConfigError(config) ?? siptraceConfigError(config.siptrace);
  if (controlError) {
    process.stderr.write(`kdmq serve: ${controlError}\n`);
    return 2;
  }
  const log = createLogger(args.logLevel as 'info');
  if (cfg.ignored.length > 0) {
    log.log('warn', 'kamailio cfg: ignoring what kdmq does not mirror', { file: args.kamailioCfg, ignored: cfg.ignored });
  }
  const clock = new SystemClock();
  const authSetup = openAuth(config, { clock, log });
  if (!authSetup.ok) {
    process.stderr.write(`kdmq serve: ${authSetup.error}\n`);
    return 2;
  }
  const auth = authSetup.auth;
  const persistSetup = openPersistence(config, { log });
  if (!persistSetup.ok) {
    auth?.close();
    process.stderr.write(`kdmq serve: ${persistSetup.error}\n`);
    return 2;
  }
  const stream = streamTransportFor(config);
  if (typeof stream === 'string') {
    auth?.close();
    process.stderr.write(`kdmq serve: ${stream}\n`);
    return 2;
  }
  const transport = new MuxTransport(new UdpTransport(), stream);
  // siptrace: the HEP mirror wraps the wire transport, under test-block and --trace
  const hep: HepSetup | null = startHepMirror(config, transport, log);
  const wire = hep?.transport ?? transport;
  // TEST ONLY: the blocking wrapper and its RPC exist only when the config names dmq.test_block
  // (an empty list turns it on for tests that partition live nodes); never in production
  const testBlock = config.dmq.test_block !== undefined ? new TestBlockTransport(wire, config.dmq.test_block) : null;
  if (testBlock) log.log('warn', 'dmq.test_block is set: TEST ONLY, RPC kdmq.test_block can cut this node off', {});
  const resolver = new DnsResolver({ servers: config.dns.servers ?? (await systemResolverServers()) });
  let node: KdmqNode;
  const random = new SeededRandom(randomBytes(16).toString('hex'));
  let rpc: RpcServer | null = null;
  let traced: LiveTrace | null = null;
  try {
    if (args.trace) traced = startLiveTrace(args.trace, args.traceMaxMb ?? 100, config, { clock, random, transport: wire, resolver });
    node = await createNode(config, { clock, random, resolver: traced?.resolver ?? resolver, transport: traced?.transport ?? testBlock ?? wire, log, crypto: nodeCrypto });
  } catch (e) {
    await transport.close();
    auth?.close();
    process.stderr.write(`kdmq serve: ${(e as Error).message}\n`);
    return 2;
  }
  const reg = createRegistry();
  registerDmqMethods(reg, node, () => clock.now());
  if (testBlock) registerTestBlockMethod(reg, testBlock);
  const services = installServices(node, reg, { clock, log, random: random.fork('app'), auth, persistence: persistSetup.port });
  hep?.register(reg); // siptrace.status, siptrace: stats
  if (config.rpc.listen !== '') {
    try {
      rpc = await startRpcServer(reg, config.rpc.listen, services.httpRoutes, { token: config.rpc.token, onUnauthorized: () => services.metrics.rpcUnauthorized() });
    } catch (e) {
      await node.stop();
      await transport.close();
      auth?.close();
      process.stderr.write(`kdmq serve: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let local: LocalControl | null = null;
  try {
    local = await startLocalControl(reg, config, log); // ctl.binrpc, jsonrpcs.fifo_name / dgram_socket
  } catch (e) {
    await rpc?.close();
    await node.stop();
    await transport.close();
    auth?.close();
    process.stderr.write(`kdmq serve: ${(e as Error).message}\n`);
    return 2;
  }
  if (!config.dmq.allow) log.log('warn', 'dmq.allow is not set: any host that reaches the DMQ port may join the cluster and write data (as in Kamailio)');
  log.log('info', 'kdmq ready', {
    listen: node.endpoints.map((e) => `${e.proto ?? 'udp'}:${e.host}:${e.port}`),
    server_address: `sip:${node.local.host}:${node.local.port}${node.local.transport ? `;transport=${node.local.transport}` : ''}`,
    rpc: rpc ? `http://${rpc.address.host}:${rpc.address.port}/RPC` : 'off',
    status_page: rpc ? `http://${rpc.address.host}:${rpc.address.port}/` : 'off',
    control: local.addresses.length > 0 ? local.addresses : 'off',
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', 'stopping', { signal: sig });
      // exit 0 within 2 s even if a socket or timer lingers (unref'd: never delays a clean exit)
      setTimeout(() => process.exit(0), 1900).unref();
      const force = setTimeout(() => resolve(0), 1500);
      void (async () => {
        await node.stop();
        await services.stop();
        await rpc?.close();
        await local?.close();
        await transport.close();
        await hep?.close();
        auth?.close();
        traced?.close(clock.now());
        clearTimeout(force);
        log.log('info', 'stopped');
        resolve(0);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
