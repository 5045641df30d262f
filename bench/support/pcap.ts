// Loopback packet capture for benchmarks: capture() runs `tshark -i lo -f 'host A or host B …'
// -F pcap -w FILE` (started and stopped by PID), readSipPcap() parses the classic pcap file
// (Ethernet or Linux-cooked link types, IPv4, UDP; IP fragments reassembled) into SIP messages
// with their capture time, addresses, first line, Call-ID, CSeq and body.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTree, pidAlive } from '../../test/support/proc.ts';
import { waitFor } from '../../test/support/wait.ts';

export interface SipPacket {
  /** capture time, ms since the epoch (µs precision) */
  t: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** UDP payload bytes */
  bytes: number;
  /** request method, or null for a response */
  method: string | null;
  ruri: string | null;
  status: number | null;
  callId: string;
  cseq: string;
  body: string;
}

export interface Capture {
  file: string;
  stop(): Promise<void>;
  cleanup(): void;
}

/** Start tshark on lo for these hosts; resolves once it captures. */
export async function capture(hosts: string[]): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-pcap-'));
  const file = join(dir, 'cap.pcap');
  const filter = hosts.map((h) => `host ${h}`).join(' or ');
  const child = spawn('tshark', ['-i', 'lo', '-f', filter, '-B', '64', '-F', 'pcap', '-w', file, '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const pid = child.pid ?? 0;
  const killOnExit = () => pid && pidAlive(pid) && killTree(pid, true);
  process.on('exit', killOnExit);
  await waitFor(
    () => {
      if (exited) throw new Error(`tshark exited: ${err}`);
      return /Capturing on/.test(err);
    },
    { timeoutMs: 15_000, intervalMs: 50, what: 'tshark capturing on lo' },
  );
  // "Capturing on" comes before the capture really runs: send probe datagrams (hosts[0] → itself,
  // a discard port) until the file grows past its 24-byte header
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, hosts[0], () => resolve()));
  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`tshark exited: ${err}`);
        probe.send('kdmq-pcap-probe', 9, hosts[0]);
        return existsSync(file) && statSync(file).size > 24;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: 'tshark writing packets' },
    );
  } finally {
    probe.close();
  }
  return {
    file,
    async stop() {
      // dumpcap writes in batches and drops its unwritten packets on SIGINT: send a unique end
      // marker until it shows up in the file's tail, so every earlier packet is on disk
      const marker = `kdmq-pcap-end-${process.pid}-${Date.now()}`;
      const probe = createSocket('udp4');
      await new Promise<void>((resolve) => probe.bind(0, hosts[0], () => resolve()));
      try {
        await waitFor(
          () => {
            if (exited) return true;
            probe.send(marker, 9, hosts[0]);
            const size = existsSync(file) ? statSync(file).size : 0;
            const fd = openSync(file, 'r');
            try {
              const len = Math.min(size, 65536);
              const buf = Buffer.alloc(len);
              readSync(fd, buf, 0, len, size - len);
              return buf.includes(marker);
            } finally {
              closeSync(fd);
            }
          },
          { timeoutMs: 15_000, intervalMs: 50, what: 'tshark flushed the end marker' },
        );
      } catch {
        /* stop anyway: the caller sees missing packets */
      } finally {
        probe.close();
      }
      if (!exited && pid) process.kill(pid, 'SIGINT');
      try {
        await waitFor(() => exited, { timeoutMs: 15_000, intervalMs: 50, what: 'tshark exit after SIGINT' });
      } catch {
        killTree(pid, true);
      }
      process.off('exit', killOnExit);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function header(text: string, name: string, compact?: string): string {
  const re = new RegExp(`^(?:${name}${compact ? `|${compact}` : ''})[ \\t]*:[ \\t]*(.*)$`, 'im');
  return re.exec(text)?.[1]?.trim() ?? '';
}

function parseSip(payload: Buffer): Pick<SipPacket, 'method' | 'ruri' | 'status' | 'callId' | 'cseq' | 'body'> | null {
  const text = payload.toString('latin1');
  const eol = text.indexOf('\r\n');
  if (eol < 0) return null;
  const first = text.slice(0, eol);
  const sep = text.indexOf('\r\n\r\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? '' : payload.subarray(Buffer.byteLength(text.slice(0, sep + 4), 'latin1')).toString('utf8');
  const m = /^SIP\/2\.0 (\d{3})/.exec(first);
  if (m) return { method: null, ruri: null, status: Number(m[1]), callId: header(head, 'Call-ID', 'i'), cseq: header(head, 'CSeq'), body };
  const r = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(first);
  if (!r) return null;
  return { method: r[1], ruri: r[2], status: null, callId: header(head, 'Call-ID', 'i'), cseq: header(head, 'CSeq'), body };
}

/** Parse a classic pcap file into SIP-over-UDP packets (IPv4), in capture order. */
export function readSipPcap(file: string): SipPacket[] {
  const b = readFileSync(file);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const nano = (le ? magic : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20);
  const l2 = link === 1 ? 14 : link === 113 ? 16 : link === 0 ? 4 : -1;
  if (l2 < 0) throw new Error(`${file}: link type ${link} not supported`);
  const out: SipPacket[] = [];
  const frags = new Map<string, { parts: Array<[number, Buffer]>; total: number; t: number }>();
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    const t = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    const pkt = b.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    const ip = pkt.subarray(l2);
    if (ip.length < 20 || ip[0] >> 4 !== 4 || ip[9] !== 17) continue;
    const ihl = (ip[0] & 15) * 4;
    const totalLen = ip.readUInt16BE(2);
    const flagsOff = ip.readUInt16BE(6);
    const more = (flagsOff & 0x2000) !== 0;
    const off = (flagsOff & 0x1fff) * 8;
    const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const dst = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
    let data = ip.subarray(ihl, totalLen);
    if (more || off > 0) {
      const key = `${src}>${dst}#${ip.readUInt16BE(4)}`;
      const f = frags.get(key) ?? { parts: [], total: -1, t };
      f.parts.push([off, Buffer.from(data)]);
      if (!more) f.total = off + data.length;
      frags.set(key, f);
      const have = f.parts.reduce((a, [, d]) => a + d.length, 0);
      if (f.total < 0 || have < f.total) continue;
      frags.delete(key);
      data = Buffer.concat(f.parts.sort((x, y) => x[0] - y[0]).map(([, d]) => d));
    }
    if (data.length < 8) continue;
    const sport = data.readUInt16BE(0);
    const dport = data.readUInt16BE(2);
    const payload = data.subarray(8);
    const sip = parseSip(payload);
    if (!sip) continue;
    out.push({ t, src, sport, dst, dport, bytes: payload.length, ...sip });
  }
  return out;
}

/** p-th percentile (0..100) of a sample, nearest-rank */
export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
