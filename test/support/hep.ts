// Helpers for the HEP interop tests: a loopback UDP listener that decodes every HEPv3 packet it
// gets, a raw REGISTER (exact bytes known to the test, reply bytes returned), and the datagrams of
// a kdmq node trace as (from, to, bytes) keys for multiset comparison.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decodeHep, hepEndpoints, type HepPacket } from '../../src/trace/hep.ts';
import { decodeTrace, recordEnds, unb64 } from '../../src/trace/format.ts';
import { checkLoopback } from './kamailio-config.ts';
import { waitFor } from './wait.ts';

export class HepListener {
  readonly packets: HepPacket[] = [];
  refused = 0;
  private constructor(private readonly sock: Socket, readonly ip: string, readonly port: number) {
    sock.on('message', (m) => {
      const d = decodeHep(new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
      if (d.ok) this.packets.push(d.value);
      else this.refused++;
    });
  }

  static async open(ip: string): Promise<HepListener> {
    checkLoopback(ip);
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, ip, () => resolve());
    });
    return new HepListener(sock, ip, sock.address().port);
  }

  /** "from to bytes(latin1)" of every packet */
  keys(): string[] {
    return this.packets.map((p) => dgramKey(...hepEndpoints(p), p.payload));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}

export function dgramKey(from: string, to: string, data: Uint8Array): string {
  return `${from} ${to} ${Buffer.from(data).toString('latin1')}`;
}

/** in and out datagrams of a kdmq node trace file's text, as dgramKey strings */
export function nodeTraceKeys(text: string): string[] {
  const t = decodeTrace(text);
  if (!t.ok) throw new Error(t.error);
  return t.value.records.flatMap((r) => {
    const e = recordEnds(r);
    return e && 'data' in r ? [dgramKey(e[0], e[1], unb64(r.data))] : [];
  });
}

export interface RawRegister {
  request: Uint8Array;
  reply: Uint8Array;
  ua: string;
  callId: string;
}

/** one REGISTER from a fresh socket on uaIp to target ip:port; resolves with both messages' bytes */
export async function rawRegister(uaIp: string, target: string, user: string): Promise<RawRegister> {
  checkLoopback(uaIp);
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, uaIp, () => resolve()));
  const port = sock.address().port;
  const callId = `hep-${randomBytes(6).toString('hex')}`;
  const [host, p] = target.split(':');
  const text = [
    `REGISTER sip:kdmq.test SIP/2.0`,
    `Via: SIP/2.0/UDP ${uaIp}:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@kdmq.test>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${user}@kdmq.test>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${uaIp}:${port}>`,
    'Expires: 600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const request = new TextEncoder().encode(text);
  let reply: Uint8Array | null = null;
  sock.on('message', (m) => {
    if (/^SIP\/2\.0 [2-6]\d\d /.test(m.toString('latin1'))) reply = new Uint8Array(m);
  });
  try {
    // retransmitted on T1 until a final answer (UDP): the test keeps only the first reply
    await waitFor(
      () => {
        if (reply) return reply;
        sock.send(request, Number(p), host);
        return undefined;
      },
      { what: `a final answer to the REGISTER to ${target}`, timeoutMs: 10_000, intervalMs: 500 },
    );
  } finally {
    sock.close();
  }
  return { request, reply: reply!, ua: `${uaIp}:${port}`, callId };
}
