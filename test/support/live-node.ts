// In-process kdmq nodes on real loopback UDP for the hostile-network tests: startLiveNode() builds
// a node with the one factory, the applications, /RPC and /metrics (as `kdmq serve` does), and
// RawSip is a UDP socket that sends hand-built requests (any method, headers, body, size) and
// waits for the final reply by Call-ID. Every socket and node is closed by stop()/close().
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { loadConfigText } from '../../src/config/load.ts';
import { createNode, type KdmqNode } from '../../src/actors/node/create-node.ts';
import { SystemClock } from '../../src/ports/system-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { DnsResolver } from '../../src/ports/dns-resolver.ts';
import { nodeCrypto } from '../../src/ports/node-crypto.ts';
import { UdpTransport } from '../../src/transport/udp-transport.ts';
import { createRegistry, type RpcRegistry } from '../../src/control/rpc.ts';
import { registerDmqMethods } from '../../src/control/dmq-methods.ts';
import { startRpcServer, type RpcServer } from '../../src/control/rpc-http.ts';
import { installServices, type Services } from '../../src/cli/services.ts';
import { silentLog } from '../../src/ports/log.ts';
import { deepMerge } from './kdmq-process.ts';
import { freeTcpPort } from './loopback.ts';

export interface LiveNode {
  ip: string;
  node: KdmqNode;
  services: Services;
  /** the RPC registry /RPC answers from (other control listeners can serve it too) */
  reg: RpcRegistry;
  rpcBase: string;
  dmqUri: string;
  rpc(method: string, params?: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  /** the value of one Prometheus sample, e.g. metric('kdmq_limit_refusals_total', { limit: 'body' }) (0 when absent) */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function startLiveNode(ip: string, peers: string[], extra: Record<string, unknown> = {}): Promise<LiveNode> {
  const port = await freeTcpPort(ip);
  const base = {
    listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
    dmq: { server_address: `sip:${ip}:5090`, notification_address: peers, ping_interval: 1 },
    htable: { tables: { t: { size: 4, dmqreplicate: true } } },
    rpc: { listen: `${ip}:${port}` },
  };
  const cfg = loadConfigText(JSON.stringify(deepMerge(base, extra)));
  if (!cfg.ok) throw new Error(cfg.error);
  const clock = new SystemClock();
  const transport = new UdpTransport();
  const random = new SeededRandom(`live-${ip}`);
  const node = await createNode(cfg.config, { clock, random, resolver: new DnsResolver({ servers: ['127.0.0.1:53'] }), transport, log: silentLog, crypto: nodeCrypto });
  const reg = createRegistry();
  registerDmqMethods(reg, node, () => clock.now());
  const services = installServices(node, reg, { clock, defaultMetrics: false });
  const server: RpcServer = await startRpcServer(reg, cfg.config.rpc.listen, services.httpRoutes, { token: cfg.config.rpc.token, onUnauthorized: () => services.metrics.rpcUnauthorized() });
  const rpcBase = `http://${ip}:${port}`;
  const token = cfg.config.rpc.token;
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    ip, node, services, reg, rpcBase, dmqUri: `sip:${ip}:5090`,
    async rpc(method, params = []) {
      const res = await fetch(`${rpcBase}/RPC`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) });
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${rpcBase}/metrics`, { headers: auth })).text();
      const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
        if (got === want) return Number(m[3]);
      }
      return 0;
    },
    async stop() {
      await node.stop();
      await services.stop();
      await server.close();
      await transport.close();
    },
  };
}

export interface RawRequest {
  method: string;
  uri: string;
  from?: string;
  to?: string;
  callId?: string;
  cseq?: string;
  headers?: string[];
  body?: string;
  /** From tag and Via branch suffix (default random) */
  tag?: string;
  branch?: string;
}

export interface RawReply {
  status: number;
  reason: string;
  text: string;
}

/** a UDP socket sending hand-built SIP requests; replies are matched by Call-ID */
export class RawSip {
  private readonly waiting = new Map<string, (r: RawReply) => void>();
  private constructor(private readonly sock: Socket, readonly ip: string, readonly port: number) {
    sock.on('message', (buf) => {
      const text = buf.toString('utf8');
      const m = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(text);
      const cid = /\r\nCall-ID:\s*([^\r\n]+)/i.exec(text);
      if (!m || !cid || Number(m[1]) < 200) return;
      this.waiting.get(cid[1].trim())?.({ status: Number(m[1]), reason: m[2], text });
    });
  }

  static async open(ip: string, port = 0): Promise<RawSip> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, ip, () => resolve());
    });
    return new RawSip(sock, ip, sock.address().port);
  }

  build(r: RawRequest): { callId: string; bytes: Buffer } {
    const callId = r.callId ?? randomBytes(8).toString('hex');
    const body = r.body ?? '';
    const lines = [
      `${r.method} ${r.uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.ip}:${this.port};branch=z9hG4bK${r.branch ?? randomBytes(8).toString('hex')};rport`,
      `From: ${r.from ?? `<sip:raw@${this.ip}:${this.port}>`};tag=${r.tag ?? randomBytes(4).toString('hex')}`,
      `To: ${r.to ?? `<${r.uri}>`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${r.cseq ?? `1 ${r.method}`}`,
      'Max-Forwards: 70',
      ...(r.headers ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return { callId, bytes: Buffer.from(lines.join('\r\n')) };
  }

  send(bytes: Buffer, to: string, port: number): void {
    this.sock.send(bytes, port, to);
  }

  /** send once (no retransmission: loopback) and wait for the final reply */
  request(r: RawRequest, to: string, port: number, timeoutMs = 3000): Promise<RawReply> {
    const { callId, bytes } = this.build(r);
    return this.sendAndWait(callId, bytes, to, port, timeoutMs);
  }

  sendAndWait(callId: string, bytes: Buffer, to: string, port: number, timeoutMs = 3000): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(callId);
        reject(new Error(`no reply to ${callId} from ${to}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(callId, (rep) => {
        clearTimeout(t);
        this.waiting.delete(callId);
        resolve(rep);
      });
      this.sock.send(bytes, port, to);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}

/** a REGISTER for `user` with `n` contacts on host `contactIp` */
export function registerReq(target: string, user: string, contacts: string[], callId?: string, cseq = 1): RawRequest {
  return {
    method: 'REGISTER', uri: `sip:${target}`, from: `<sip:${user}@kdmq.test>`, to: `<sip:${user}@kdmq.test>`, callId, cseq: `${cseq} REGISTER`,
    headers: [`Contact: ${contacts.map((c) => `<${c}>`).join(', ')}`, 'Expires: 300'],
  };
}
