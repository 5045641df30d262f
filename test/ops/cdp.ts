// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
// messages ended by NUL on fds 3 and 4; no WebSocket, no library): one page, navigate, evaluate,
// emulate a screen or a colour scheme, screenshot. Chromium runs by PID with a temporary profile
// and no network but loopback use by the page itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };

export class Browser {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private buf = '';
  private session = '';
  private stderr = '';

  private constructor(private readonly child: ChildProcess, private readonly profile: string) {
    const out = child.stdio[4] as Readable;
    out.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      for (let i = this.buf.indexOf('\0'); i >= 0; i = this.buf.indexOf('\0')) {
        const msg = JSON.parse(this.buf.slice(0, i)) as { id?: number; result?: unknown; error?: { message: string } };
        this.buf = this.buf.slice(i + 1);
        const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id!);
        if (msg.error) p.reject(new Error(`CDP: ${msg.error.message}`));
        else p.resolve(msg.result);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited ${code}: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'kdmq-cdp-'));
    const child = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--hide-scrollbars', '--font-render-hinting=none',
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: profile } });
    const b = new Browser(child, profile);
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' }, false);
    b.session = (await b.send('Target.attachToTarget', { targetId, flatten: true }, false)).sessionId;
    return b;
  }

  send(method: string, params: Record<string, unknown> = {}, inSession = true): Promise<any> {
    const id = ++this.seq;
    const msg: Record<string, unknown> = { id, method, params };
    if (inSession) msg.sessionId = this.session;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => (this.pending.delete(id), reject(new Error(`CDP ${method}: no answer in 20 s`))), 20_000);
      this.pending.set(id, { resolve: (v) => (clearTimeout(t), resolve(v)), reject: (e) => (clearTimeout(t), reject(e)) });
      (this.child.stdio[3] as Writable).write(JSON.stringify(msg) + '\0');
    });
  }

  /** the value of a JavaScript expression in the page (JSON-serialisable) */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  navigate(url: string): Promise<unknown> {
    return this.send('Page.navigate', { url });
  }

  screen(width: number, height: number, scale = 1, mobile = false): Promise<unknown> {
    return this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: scale, mobile });
  }

  colorScheme(value: 'light' | 'dark'): Promise<unknown> {
    return this.send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value }] });
  }

  async screenshot(): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(r.data as string, 'base64');
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    this.send('Browser.close', {}, false).catch(() => undefined);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
