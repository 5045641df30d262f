// `kdmq trace listen udp:IP:PORT -o TRACE`: receives HEPv3 (siptrace, heplify, sngrep -H…) and
// writes a kdmq cluster trace. Each SIP datagram is appended at once to TRACE.part (a crash keeps
// it); on SIGINT/SIGTERM the socket closes and TRACE is written (nodes found, time order), the
// spool removed. Datagrams that are not HEPv3 with SIP are counted, never fatal.

import { createSocket } from 'node:dgram';
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { encodeLine, encodeTrace, type TraceRecord } from '../trace/format.ts';
import { HepCollector } from '../trace/hep-import.ts';
import { clusterTrace } from '../trace/import.ts';
import { ipToBytes } from '../trace/hep.ts';

export function parseListenAddress(s: string): { host: string; port: number } | null {
  const m = /^udp:(\[[^\]]+\]|[0-9.]+):(\d{1,5})$/.exec(s);
  if (!m || !ipToBytes(m[1]) || Number(m[2]) > 65535) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export async function traceListen(addr: string, out: string, err: (m: string, code: number) => number): Promise<number> {
  const a = parseListenAddress(addr);
  if (!a) return err(`expected udp:IP:PORT (IP literal, [IPv6] in brackets), got ${JSON.stringify(addr)}`, 2);
  const spool = `${out}.part`;
  let fd: number;
  try {
    fd = openSync(spool, 'w');
    writeFileSync(out, '');
  } catch (e) {
    return err(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
  const hep = new HepCollector();
  let refused = 0;
  let lastWhy = '';
  const sock = createSocket(a.host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg) => {
    const v = hep.add(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (v.kind === 'sip') {
      writeSync(fd, encodeLine(v.record));
    } else if (v.kind === 'skip') {
      refused++;
      lastWhy = v.why;
    }
  });
  const bound = await new Promise<string | null>((resolve) => {
    sock.once('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    sock.bind(a.port, a.host, () => resolve(null));
  });
  if (bound) {
    closeSync(fd);
    unlinkSync(spool);
    unlinkSync(out);
    return err(`cannot listen on ${addr}: ${bound}`, 2);
  }
  sock.on('error', () => {}); // after binding: a receive error is not fatal
  process.stdout.write(`kdmq trace listen: HEP on ${addr}, writing ${out} (Ctrl-C stops)\n`);
  const sig = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  closeSync(fd);
  // the spool holds exactly the records kept; sort by the agents' time and name the nodes
  const kept = readFileSync(spool, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceRecord);
  kept.sort((x, y) => x.t - y.t);
  writeFileSync(out, encodeTrace(clusterTrace(kept, 'hep')));
  unlinkSync(spool);
  const nodes = (clusterTrace(kept, 'hep').header.nodes ?? []).map((n) => `${n.name}=${n.id}`).join(' ');
  process.stdout.write(`kdmq trace listen: ${sig}: ${kept.length} SIP datagrams, nodes: ${nodes || '(none)'}; ${hep.duplicates} duplicate copies merged, ${refused} datagrams refused${refused ? ` (last: ${lastWhy})` : ''}\n`);
  return 0;
}
