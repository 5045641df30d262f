// A lossy UDP relay between DMQ nodes, in the bench process (no tc/netem: that would touch every
// process on the machine's lo). Each node i has a real DMQ socket R_i (its listen) and a relay
// socket V_i on another loopback address of its own; the node's dmq.server_address is V_i, so the
// others address it there. A datagram arriving at V_t from node s's real address is sent on to
// R_t from V_s, so t sees it come from s's server address, and t's answer (to that source) comes
// back through the relay the same way. Each datagram is dropped with probability `loss`, counted
// per direction. Randomness: a seeded xorshift (the run number), so a run's drops are reproducible.

import { createSocket, type Socket } from 'node:dgram';

export interface RelayNode {
  /** the node's real DMQ socket */
  realIp: string;
  realPort: number;
}

export interface LossyRelay {
  /** the relay address of node i (its server_address host:port) */
  addr(i: number): { ip: string; port: number };
  /** datagrams relayed and dropped so far */
  stats(): { relayed: number; dropped: number };
  /** the real DMQ sockets, once the nodes' ports are known */
  connect(nodes: RelayNode[]): void;
  close(): Promise<void>;
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** binds one relay socket per node on `relayIps` (free ports); connect() names the real sockets */
export async function startLossyRelay(relayIps: string[], loss: number, seed: number): Promise<LossyRelay> {
  const rnd = xorshift(seed);
  const socks: Socket[] = [];
  let nodes: RelayNode[] = [];
  let relayed = 0, dropped = 0;
  for (const ip of relayIps) {
    const s = createSocket('udp4');
    await new Promise<void>((res, rej) => (s.once('error', rej), s.bind(0, ip, () => (s.off('error', rej), res()))));
    socks.push(s);
  }
  socks.forEach((sock, t) => {
    sock.on('message', (msg, rinfo) => {
      const from = nodes.findIndex((n) => n.realIp === rinfo.address && n.realPort === rinfo.port);
      if (from < 0 || from === t) return; // not one of the nodes' real sockets
      if (rnd() < loss) {
        dropped++;
        return;
      }
      relayed++;
      socks[from].send(msg, nodes[t].realPort, nodes[t].realIp);
    });
    sock.on('error', () => undefined);
  });
  return {
    addr: (i) => ({ ip: relayIps[i], port: socks[i].address().port }),
    stats: () => ({ relayed, dropped }),
    connect: (n) => void (nodes = n),
    close: async () => {
      await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
