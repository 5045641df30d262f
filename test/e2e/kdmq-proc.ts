// Helpers for the end-to-end tests: a fresh loopback address (127.30-250.x.y, unused in
// /proc/net), `kdmq` started as a child process by PID (config written to a temp dir, stdout and
// stderr captured, exit awaited, SIGKILL by PID as a last resort), `kdmq ctl` runs, and a UDP SIP
// client that builds requests and collects the responses it receives.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boundIpv4s } from '../support/loopback.ts';
import { pidAlive } from '../support/proc.ts';
import { waitFor, WaitAbortError } from '../support/wait.ts';

export const KDMQ_BIN = fileURLToPath(new URL('../../bin/kdmq.mjs', import.meta.url));
const handed = new Set<string>();

/** A loopback address no socket uses and this process has not handed out, never 127.0.0.0/24. */
export function freshIp(): string {
  const used = boundIpv4s();
  for (;;) {
    const r = (n: number) => Math.floor(Math.random() * n);
    const ip = `127.${30 + r(221)}.${r(256)}.${1 + r(254)}`;
    if (!used.has(ip) && !handed.has(ip)) {
      handed.add(ip);
      return ip;
    }
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface KdmqProc {
  readonly pid: number;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** null while running */
  exit(): Exit | null;
  /** Date.now() when the process exited (the 'exit' event), null while running */
  exitedAt(): number | null;
  exited: Promise<Exit>;
  /** SIGKILL by PID if still running, remove the temp dir; safe to call twice */
  kill(): Promise<void>;
}

/** Start `kdmq ARGS…`; with `config`, `--config FILE` is prepended after the subcommand. */
export function startKdmq(args: string[], config?: string): KdmqProc {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-e2e-'));
  const full = [...args];
  if (config !== undefined) {
    const file = join(dir, 'node.yaml');
    writeFileSync(file, config);
    full.splice(1, 0, '--config', file);
  }
  const child = spawn(process.execPath, [KDMQ_BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('kdmq did not start');
  let out = '';
  let err = '';
  let ex: Exit | null = null;
  let exitedAt: number | null = null;
  child.once('exit', () => (exitedAt = Date.now()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      ex = { code, signal };
      resolve(ex);
    }),
  );
  const pid = child.pid;
  return {
    pid,
    child,
    stdout: () => out,
    stderr: () => err,
    exit: () => ex,
    exitedAt: () => exitedAt,
    exited,
    async kill() {
      if (ex === null && pidAlive(pid)) process.kill(pid, 'SIGKILL');
      if (ex === null) await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run a short-lived `kdmq` command to its end (killed by PID after `timeoutMs`). */
export async function runKdmq(args: string[], config?: string, timeoutMs = 60_000): Promise<Exit & { stdout: string; stderr: string }> {
  const p = startKdmq(args, config);
  const timer = setTimeout(() => void p.kill(), timeoutMs);
  try {
    const e = await p.exited;
    return { ...e, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    clearTimeout(timer);
    await p.kill();
  }
}

export interface SipRequestSpec {
  method: string;
  uri: string;
  callId: string;
  branch: string;
  cseq?: string;
  via?: string;
  /** add `;rport` (RFC 3581) to the Via: responses then go to the source address and port */
  rport?: boolean;
  extra?: string[];
  body?: string;
  /** replaces the computed Content-Length line (or removes it when '') */
  contentLength?: string;
}

export class SipClient {
  readonly received: Array<{ text: string; bytes: Buffer; port: number }> = [];
  private constructor(
    readonly socket: Socket,
    readonly ip: string,
    readonly port: number,
  ) {
    socket.on('message', (m, rinfo) => this.received.push({ text: m.toString('latin1'), bytes: m, port: rinfo.port }));
  }

  static open(ip: string): Promise<SipClient> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, ip, () => resolve(new SipClient(s, ip, s.address().port)));
    });
  }

  build(r: SipRequestSpec): Buffer {
    const body = Buffer.from(r.body ?? '', 'latin1');
    const lines = [
      `${r.method} ${r.uri} SIP/2.0`,
      r.via ?? `Via: SIP/2.0/UDP ${this.ip}:${this.port};branch=${r.branch}${r.rport ? ';rport' : ''}`,
      'Max-Forwards: 70',
      `From: <sip:tester@${this.ip}:${this.port}>;tag=t${r.callId.length}`,
      `To: ${r.uri.startsWith('sip:') ? `<${r.uri}>` : '<sip:x@127.0.0.1>'}`,
      `Call-ID: ${r.callId}`,
      `CSeq: ${r.cseq ?? `1 ${r.method}`}`,
      ...(r.extra ?? []),
    ];
    const cl = r.contentLength ?? `Content-Length: ${body.length}`;
    if (cl !== '') lines.push(cl);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  }

  send(data: Uint8Array, host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, host, (e) => (e ? reject(e) : resolve())));
  }

  /** responses whose Call-ID header equals `callId` */
  responses(callId: string): Array<{ text: string; bytes: Buffer; port: number }> {
    const re = new RegExp(`^(Call-ID|i)[ \\t]*:[ \\t]*${callId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r?$`, 'im');
    return this.received.filter((m) => m.text.startsWith('SIP/2.0 ') && re.test(m.text));
  }

  /** send and wait for `count` responses with the request's Call-ID (abort if `alive` says no) */
  async exchange(data: Uint8Array, host: string, port: number, callId: string, alive?: () => boolean, count = 1) {
    await this.send(data, host, port);
    return waitFor(
      () => {
        if (alive && !alive()) throw new WaitAbortError('kdmq exited');
        const r = this.responses(callId);
        return r.length >= count ? r : undefined;
      },
      { what: `${count} response(s) to Call-ID ${callId} on ${host}:${port}`, timeoutMs: 15_000, intervalMs: 20 },
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** the status line and the header values of a response, by lower-case name */
export function parseResponse(text: string): { status: number; reason: string; headers: Map<string, string[]> } {
  const [first, ...rest] = text.split('\r\n\r\n')[0].split('\r\n');
  const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(first);
  if (!m) throw new Error(`not a response: ${first}`);
  const headers = new Map<string, string[]>();
  for (const l of rest) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), l.slice(i + 1).trim()]);
  }
  return { status: Number(m[1]), reason: m[2], headers };
}
