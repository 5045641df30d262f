// `kdmq serve`'s start-up after the config is read (serve.ts), stage by stage: the live ports
// (auth, location database, UDP + TCP/TLS transports, HEP mirror, test block, DNS resolver), the
// node from the one factory (with --trace), then the RPC methods, the applications and the
// listeners (HTTP, BINRPC, jsonrpcs). A stage that fails closes what the earlier ones opened and
// answers exit code 2 with one line on stderr.

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../ports/node-crypto.ts';
import type { KdmqConfig } from '../config/types.ts';
import { SystemClock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import { SeededRandom } from '../ports/random.ts';
import { DnsResolver, systemResolverServers } from '../ports/dns-resolver.ts';
import type { Transport } from '../transport/transport.ts';
import { UdpTransport } from '../transport/udp-transport.ts';
import { MuxTransport } from '../transport/mux-transport.ts';
import { StreamTransport, type StreamTlsOptions } from '../transport/stream-transport.ts';
import { TestBlockTransport } from '../transport/test-block.ts';
import { registerTestBlockMethod } from '../control/test-block-method.ts';
import { createNode, type KdmqNode } from '../actors/node/create-node.ts';
import { createRegistry } from '../control/rpc.ts';
import { registerDmqMethods } from '../control/dmq-methods.ts';
import { startRpcServer, type RpcServer } from '../control/rpc-http.ts';
import { startLocalControl, type LocalControl } from '../control/local-control.ts';
import type { Persistence } from '../persist/port.ts';
import type { DigestAuth } from '../registrar/auth.ts';
import { installServices, type Services } from './services.ts';
import { createMetrics, type NodeMetrics } from '../ops/metrics.ts';
import { startLiveTrace, type LiveTrace } from '../trace/live.ts';
import { openAuth } from './auth-setup.ts';
import { openPersistence } from './persist-setup.ts';
import { startHepMirror, type HepSetup } from './hep-setup.ts';
import type { ServeArgs } from './serve.ts';

/** one line on stderr, and exit code 2 */
export function refuse(message: string): number {
  process.stderr.write(`kdmq serve: ${message}\n`);
  return 2;
}

/** what the node runs on, opened before it (closed again by a later stage that fails, and at stop) */
export interface Opened {
  clock: SystemClock;
  auth: DigestAuth | undefined;
  persistence: Persistence | undefined;
  transport: MuxTransport;
  hep: HepSetup | null;
  /** the transport under the node: the HEP mirror's when siptrace is on */
  wire: Transport;
  testBlock: TestBlockTransport | null;
  resolver: DnsResolver;
}

export interface Started {
  node: KdmqNode;
  /** made before the node: its log feeds them (observeLog) */
  metrics: NodeMetrics;
  traced: LiveTrace | null;
}

export interface Control {
  services: Services;
  rpc: RpcServer | null;
  local: LocalControl;
}

export async function openPorts(config: KdmqConfig, log: Log): Promise<Opened | number> {
  const clock = new SystemClock();
  const authSetup = openAuth(config, { clock, log });
  if (!authSetup.ok) return refuse(authSetup.error);
  const auth = authSetup.auth;
  const persistSetup = openPersistence(config, { log });
  if (!persistSetup.ok) {
    auth?.close();
    return refuse(persistSetup.error);
  }
  const stream = streamTransportFor(config);
  if (typeof stream === 'string') {
    auth?.close();
    return refuse(stream);
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
  return { clock, auth, persistence: persistSetup.port, transport, hep, wire, testBlock, resolver };
}

export async function startNode(args: ServeArgs, config: KdmqConfig, log: Log, o: Opened): Promise<Started | number> {
  const random = new SeededRandom(randomBytes(16).toString('hex'));
  const metrics = createMetrics();
  let traced: LiveTrace | null = null;
  try {
    if (args.trace) traced = startLiveTrace(args.trace, args.traceMaxMb ?? 100, config, { clock: o.clock, random, transport: o.wire, resolver: o.resolver });
    const node = await createNode(config, {
      clock: o.clock,
      random, // the applications' random is random.fork('app'), the seed --trace records as seed.app
      resolver: traced?.resolver ?? o.resolver,
      transport: traced?.transport ?? o.testBlock ?? o.wire,
      log: metrics.observeLog(log),
      crypto: nodeCrypto,
      persistence: o.persistence,
      registerAuth: o.auth,
    });
    return { node, metrics, traced };
  } catch (e) {
    metrics.stop();
    await o.transport.close();
    o.auth?.close();
    return refuse((e as Error).message);
  }
}

/** the RPC methods, the applications (installServices) and the listeners: rpc.listen, ctl, jsonrpcs */
export async function startControl(config: KdmqConfig, log: Log, o: Opened, { node, metrics }: Started): Promise<Control | number> {
  const reg = createRegistry();
  registerDmqMethods(reg, node, () => o.clock.now());
  if (o.testBlock) registerTestBlockMethod(reg, o.testBlock);
  const services = installServices(node, reg, { clock: o.clock, metrics });
  o.hep?.register(reg); // siptrace.status, siptrace: stats
  let rpc: RpcServer | null = null;
  if (config.rpc.listen !== '') {
    try {
      rpc = await startRpcServer(reg, config.rpc.listen, services.httpRoutes, { token: config.rpc.token, onUnauthorized: () => services.metrics.rpcUnauthorized() });
    } catch (e) {
      await node.stop();
      await o.transport.close();
      o.auth?.close();
      return refuse((e as Error).message);
    }
  }
  try {
    const local = await startLocalControl(reg, config, log); // ctl.binrpc, jsonrpcs.fifo_name / dgram_socket
    return { services, rpc, local };
  } catch (e) {
    await rpc?.close();
    await node.stop();
    await o.transport.close();
    o.auth?.close();
    return refuse((e as Error).message);
  }
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
