// The kernel's drop counter of UDP sockets (datagrams that arrived when the socket's receive
// buffer was full), read from /proc/net/udp by local address: the same counter for kdmq and for
// Kamailio, a drop neither process can count itself. Lines: "sl local rem st tx:rx tr tm uid
// timeout inode ref pointer drops", local = hex IPv4 (host byte order, little-endian here) : port.

import { readFileSync } from 'node:fs';

function hexAddr(ip: string, port: number): string {
  const b = ip.split('.').map(Number);
  const le = [b[3], b[2], b[1], b[0]].map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${le}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** drops of the sockets bound to ip:port (summed; 0 when none is bound) */
export function udpDrops(ip: string, port: number, table = '/proc/net/udp'): number {
  let text = '';
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return 0;
  }
  const want = hexAddr(ip, port);
  let sum = 0;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want) sum += Number(f[f.length - 1]) || 0;
  }
  return sum;
}
