// A minimal SIP UA for interop tests: raw REGISTER requests over UDP from one loopback socket
// (node:dgram), with full control over Call-ID, CSeq, Contact list (q, +sip.instance, reg-id,
// per-contact expires), User-Agent (or none), Path/Supported and Allow. Retransmits on RFC 3261
// timer E (T1 500 ms doubling to T2 4 s) and matches the final response by Via branch.
// Used where sipp's CSV scenario is too narrow (several contacts, Path, instance, no User-Agent).
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { checkLoopback } from './kamailio-config.ts';

export interface RegisterSpec {
  /** registrar "ip:port" */
  target: string;
  user: string;
  domain?: string;
  callId: string;
  cseq: number;
  /** Contact header values, e.g. `<sip:bob@127.0.0.9:5070>;q=0.5` (one header, comma-joined) */
  contacts: string[];
  /** Expires header (omitted when undefined) */
  expires?: number;
  /** User-Agent header; null = no header */
  userAgent?: string | null;
  /** Path header values (adds `Supported: path`) */
  path?: string[];
  allow?: string;
}

export interface SipResponse {
  status: number;
  reason: string;
  text: string;
}

export class SipUa {
  private readonly pending = new Map<string, (r: SipResponse) => void>();
  private constructor(private readonly sock: Socket, readonly ip: string, readonly port: number) {
    sock.on('message', (buf) => {
      const text = buf.toString('utf8');
      const m = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(text);
      const b = /branch=([^;,\s]+)/i.exec(text);
      if (!m || !b) return;
      const status = Number(m[1]);
      if (status < 200) return;
      this.pending.get(b[1])?.({ status, reason: m[2], text });
    });
  }

  static async open(ip: string, port = 0): Promise<SipUa> {
    checkLoopback(ip);
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, ip, () => resolve());
    });
    return new SipUa(sock, ip, sock.address().port);
  }

  /** send a REGISTER and wait for its final response (throws after 32 s, timer F) */
  async register(s: RegisterSpec, timeoutMs = 32_000): Promise<SipResponse> {
    const [host, portText] = s.target.split(':');
    checkLoopback(host);
    const port = Number(portText ?? 5060);
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const domain = s.domain ?? 'kdmq.test';
    const lines = [
      `REGISTER sip:${domain} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.ip}:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${s.user}@${domain}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${s.user}@${domain}>`,
      `Call-ID: ${s.callId}`,
      `CSeq: ${s.cseq} REGISTER`,
    ];
    if (s.contacts.length > 0) lines.push(`Contact: ${s.contacts.join(', ')}`);
    if (s.expires !== undefined) lines.push(`Expires: ${s.expires}`);
    if (s.userAgent !== null) lines.push(`User-Agent: ${s.userAgent ?? 'kdmq-test-ua/1.0'}`);
    if (s.path && s.path.length > 0) {
      lines.push('Supported: path');
      for (const p of s.path) lines.push(`Path: ${p}`);
    }
    if (s.allow) lines.push(`Allow: ${s.allow}`);
    lines.push('Content-Length: 0', '', '');
    const msg = Buffer.from(lines.join('\r\n'));
    return new Promise<SipResponse>((resolve, reject) => {
      let interval = 500;
      let timer: NodeJS.Timeout;
      const send = () => {
        this.sock.send(msg, port, host);
        timer = setTimeout(send, interval);
        interval = Math.min(interval * 2, 4000);
      };
      const giveUp = setTimeout(() => {
        clearTimeout(timer);
        this.pending.delete(branch);
        reject(new Error(`no final response to REGISTER ${s.user} (Call-ID ${s.callId}, CSeq ${s.cseq}) from ${s.target} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(branch, (r) => {
        clearTimeout(timer);
        clearTimeout(giveUp);
        this.pending.delete(branch);
        resolve(r);
      });
      send();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
