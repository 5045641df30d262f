// JSON-RPC over HTTP on rpc.listen, path /RPC (as Kamailio's xhttp + jsonrpcs). POST a request,
// get the answer; anything else 404/405. Bodies over 1 MB are refused (413). With a token (rpc.token)
// every request, the ops routes included, needs `Authorization: Bearer <token>` (401 otherwise).
// Each refusal is the catalog's (KDMQ_RPC_HTTP_*, specs/errors.md).
// This is an edge: node:http.

import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { dispatch, type RpcRegistry } from './rpc.ts';
import { ERRORS, errorText, type ErrorCode } from '../errors.ts';

export interface RpcServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export type ExtraRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** does the request carry `Authorization: Bearer <token>`? (constant time) */
export function bearerOk(header: string | undefined, token: string): boolean {
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** the catalog's answer: its HTTP status, its message as one text/plain line */
function refuse(res: http.ServerResponse, code: ErrorCode, headers: Record<string, string> = {}): void {
  res.writeHead(ERRORS[code].status ?? 500, { 'content-type': 'text/plain', ...headers }).end(`${errorText(code)}\n`);
}

export function startRpcServer(reg: RpcRegistry, listen: string, extra?: ExtraRoute, opts: { token?: string; onUnauthorized?: () => void } = {}): Promise<RpcServer> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  const server = http.createServer((req, res) => {
    if (opts.token !== undefined && !bearerOk(req.headers.authorization, opts.token)) {
      opts.onUnauthorized?.();
      refuse(res, 'KDMQ_RPC_HTTP_UNAUTHORIZED', { 'www-authenticate': 'Bearer realm="kdmq"' });
      return;
    }
    if (extra && extra(req, res)) return;
    if (req.url !== '/RPC' && req.url !== '/jsonrpc') {
      refuse(res, 'KDMQ_RPC_HTTP_NOT_FOUND');
      return;
    }
    if (req.method !== 'POST') {
      refuse(res, 'KDMQ_RPC_HTTP_METHOD', { allow: 'POST' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) {
        refuse(res, 'KDMQ_RPC_HTTP_TOO_LARGE');
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      void dispatch(reg, Buffer.concat(chunks).toString('utf8')).then(
        (out) => res.writeHead(200, { 'content-type': 'application/json' }).end(out + '\n'),
        () => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ jsonrpc: '2.0', error: { code: ERRORS.KDMQ_RPC_HTTP_INTERNAL.status ?? 500, message: errorText('KDMQ_RPC_HTTP_INTERNAL') }, id: null })}\n`),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(errorText('KDMQ_CONFIG_RPC_BIND', listen, e.code ?? e.message))));
    server.listen(port, host, () => {
      const a = server.address() as { address: string; port: number };
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
