// A lossy UDP relay between DMQ nodes, in the bench process (no tc/netem: that would touch every
// process on the machine's lo). Each node i has a real DMQ socket R_i (its listen) and a relay
// socket V_i on another loopback address of its own, bound to the SAME port as R_i; the node's
// dmq.server_address is V_i, so the others address it there. A datagram arriving at V_t from node
// s's real address is sent on to R_t from V_s, so t sees it come from s's server address. The
// port matters for the answers: a node's Via names its real socket, and a UDP response goes to
// the source IP with the Via's sent-by port (RFC 3261 §18.2.2, no rport), i.e. to V_s's IP at
// R_s's port. With V_s on another port that address was nobody's, every request through the relay
// went unanswered (408) and the nodes saw each other only through the other side's requests.
// Each datagram is dropped with probability `loss`, counted per direction. Randomness: a seeded
// xorshift (the run number), so a run's drops are reproducible.

import { createSocket, type Socket } from 'node:dgram';

export interface RelayNode {
  /** the node's real DMQ socket */
  realIp: string;
  realPort: number;
}

export interface LossyRelay {
  /** the relay address of node i (its server_address host:port) */
  addr(i: number): { ip: string; port: number };
  /** datagrams relayed and dropped so far; `responses`: relayed ones that are SIP responses */
  stats(): { relayed: number; dropped: number; responses: number };
  close(): Promise<void>;
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** binds one relay socket per node on `relayIps[i]`, at node i's real DMQ port (see above) */
export async function startLossyRelay(relayIps: string[], nodes: RelayNode[], loss: number, seed: number): Promise<LossyRelay> {
  const rnd = xorshift(seed);
  const socks: Socket[] = [];
  let relayed = 0, dropped = 0, responses = 0;
  for (const [i, ip] of relayIps.entries()) {
    const s = createSocket('udp4');
    await new Promise<void>((res, rej) => (s.once('error', rej), s.bind(nodes[i].realPort, ip, () => (s.off('error', rej), res()))));
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
      if (msg.subarray(0, 8).toString('latin1') === 'SIP/2.0 ') responses++;
      socks[from].send(msg, nodes[t].realPort, nodes[t].realIp);
    });
    sock.on('error', () => undefined);
  });
  return {
    addr: (i) => ({ ip: relayIps[i], port: socks[i].address().port }),
    stats: () => ({ relayed, dropped, responses }),
    close: async () => {
      await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
