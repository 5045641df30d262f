// RPC security: the listener is on loopback by default; rpc.token makes every HTTP request need
// `Authorization: Bearer <token>` (401 otherwise, counted); `kdmq ctl --token` / KDMQ_RPC_TOKEN;
// `kdmq serve` refuses a non-loopback rpc.listen without a token (exit 2, one line); random
// JSON-RPC bodies always get a JSON-RPC answer and never take the node down (fast-check).
import { execFile, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.ts';
import { allocLoopbackIps } from '../support/loopback.ts';
import { REPO_ROOT } from '../support/kdmq-process.ts';
import { startLiveNode, type LiveNode } from '../support/live-node.ts';

const TOKEN = 'tok-0123456789abcdef';
let n: LiveNode;
let open: LiveNode;

beforeAll(async () => {
  const [ip, ip2] = allocLoopbackIps(2);
  n = await startLiveNode(ip, [], { rpc: { token: TOKEN } });
  open = await startLiveNode(ip2, []);
});
afterAll(async () => {
  await n?.stop();
  await open?.stop();
});

const kdmq = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/kdmq.mjs', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_NO_WARNINGS: '1', ...env } });

/** async: the node under test runs in this process and must keep answering */
const kdmqAsync = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ status: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bin/kdmq.mjs', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_NO_WARNINGS: '1', ...env } }, (err, _out, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }));
  });

describe('rpc.listen and rpc.token', () => {
  it('binds to loopback by default', () => {
    const c = loadConfigText('');
    expect(c.ok && c.config.rpc.listen).toBe('127.0.0.1:8060');
  });

  it('refuses a non-loopback rpc.listen without a token: exit 2, one line', () => {
    const [ip] = allocLoopbackIps(1);
    const r = kdmq(['serve', '--set', `listen=["udp:${ip}:5090"]`, '--set', 'rpc.listen=0.0.0.0:18060']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^kdmq serve: config key rpc\.listen: "0\.0\.0\.0:18060" is not a loopback address: set rpc\.token/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(loadConfigText(`rpc: { listen: "0.0.0.0:18060", token: "${TOKEN}" }`).ok).toBe(true);
    expect(loadConfigText('rpc: { token: "short" }').ok).toBe(false);
  });

  it('with a token: 401 without it (RPC and /metrics), counted; 200 with it', async () => {
    const res = await fetch(`${n.rpcBase}/RPC`, { method: 'POST', body: '{"jsonrpc":"2.0","method":"dmq.list_nodes","id":1}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${n.rpcBase}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await n.rpc('dmq.list_nodes')).result).toBeInstanceOf(Array);
    expect(await n.metric('kdmq_rpc_unauthorized_total')).toBe(2);
  });

  it('kdmq ctl --token and KDMQ_RPC_TOKEN', async () => {
    const url = `${n.rpcBase}/RPC`;
    const none = await kdmqAsync(['ctl', '--url', url, 'dmq.list_nodes']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/401 Unauthorized: it needs --token/);
    expect((await kdmqAsync(['ctl', '--url', url, '--token', TOKEN, 'dmq.list_nodes'])).status).toBe(0);
    expect((await kdmqAsync(['ctl', '--url', url, 'dmq.list_nodes'], { KDMQ_RPC_TOKEN: TOKEN })).status).toBe(0);
  });
});

describe('bad JSON-RPC never crashes the node', () => {
  it('random bodies and random calls of every method get a JSON-RPC answer', async () => {
    const methods = (await open.rpc('system.listMethods')).result as string[];
    const call = fc.record({
      jsonrpc: fc.constantFrom('2.0', '1.0', undefined),
      method: fc.oneof(fc.constantFrom(...methods), fc.string()),
      params: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.jsonValue()),
      id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
    }, { requiredKeys: [] });
    const body = fc.oneof(call.map((c) => JSON.stringify(c)), fc.string(), fc.json(), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1')));
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await fetch(`${open.rpcBase}/RPC`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        expect(res.status).toBe(200);
        const j = (await res.json()) as { jsonrpc: string; result?: unknown; error?: { code: number; message: string } };
        expect(j.jsonrpc).toBe('2.0');
        expect('result' in j || (typeof j.error?.code === 'number' && typeof j.error.message === 'string')).toBe(true);
      }),
      { numRuns: 400 },
    );
    expect((await open.rpc('dmq.list_nodes')).result).toBeInstanceOf(Array);
  });
});
