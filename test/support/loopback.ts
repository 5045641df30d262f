// Fresh loopback addresses and ports for tests that share this machine: allocLoopbackIps()
// hands out distinct 127.20-23.x.y addresses (a block seeded by pid/thread, checked against
// every socket bound in /proc/net), freeUdpPort()/freeTcpPort() ask the kernel for a free port.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { threadId } from 'node:worker_threads';

/** Bound IPv4 sockets as "ip:port" plus their bare "ip" (from /proc/net/{udp,tcp}). */
export function boundIpv4s(protos: Array<'udp' | 'tcp'> = ['udp', 'tcp']): Set<string> {
  const used = new Set<string>();
  for (const f of protos.map((p) => `/proc/net/${p}`)) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (!local) continue;
      const [hex, port] = local.split(':');
      // little-endian hex: 0100007F = 127.0.0.1
      const ip = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
      used.add(ip);
      used.add(`${ip}:${parseInt(port, 16)}`);
    }
  }
  return used;
}

const RESERVED = new Set(['127.0.0.1', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.53']);
const handedOut = new Set<string>();
// 1024 blocks of 253 addresses in 127.20.0.0/14; each process/thread starts in its own block.
let block = (process.pid * 31 + threadId * 257) % 1024;
let host = 2;

/**
 * `n` distinct loopback addresses that no socket currently uses, never 127.0.0.0/24.
 * Addresses are not reused within this process.
 */
export function allocLoopbackIps(n: number): string[] {
  const out: string[] = [];
  const used = boundIpv4s();
  let scanned = 0;
  while (out.length < n) {
    if (host > 254) {
      host = 2;
      block = (block + 1) % 1024;
    }
    const ip = `127.${20 + (block >> 8)}.${block & 255}.${host++}`;
    if (++scanned > 1024 * 253) throw new Error('allocLoopbackIps: no free loopback address left');
    if (RESERVED.has(ip) || handedOut.has(ip) || used.has(ip)) continue;
    handedOut.add(ip);
    out.push(ip);
  }
  return out;
}

/**
 * True when a UDP socket is bound to ip:port or 0.0.0.0:port. Kamailio binds UDP with
 * SO_REUSEADDR, so a second Kamailio on a taken port starts "fine": check before starting.
 */
export function udpPortInUse(ip: string, port: number): boolean {
  const used = boundIpv4s(['udp']);
  return used.has(`${ip}:${port}`) || used.has(`0.0.0.0:${port}`);
}

/** A UDP port that is free on `ip` right now (kernel-assigned ephemeral port). */
export function freeUdpPort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, ip, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port that is free on `ip` right now. */
export function freeTcpPort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, ip, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A port free for both UDP and TCP on `ip` (for SIP ports that might also get a TCP listener). */
export async function freeUdpTcpPort(ip: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freeUdpPort(ip);
    try {
      await new Promise<void>((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(p, ip, () => srv.close(() => resolve()));
      });
      return p;
    } catch {
      /* try another */
    }
  }
  throw new Error(`no port free for UDP and TCP on ${ip}`);
}
