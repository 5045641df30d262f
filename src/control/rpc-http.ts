// JSON-RPC over HTTP on rpc.listen, path /RPC (as Kamailio's xhttp + jsonrpcs). POST a request,
// get the answer; anything else 404/405. Bodies over 1 MB are refused. With a token (rpc.token)
// every request, the ops routes included, needs `Authorization: Bearer <token>` (401 otherwise).
// This is an edge: node:http.

import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { dispatch, type RpcRegistry } from './rpc.ts';

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

export function startRpcServer(reg: RpcRegistry, listen: string, extra?: ExtraRoute, opts: { token?: string; onUnauthorized?: () => void } = {}): Promise<RpcServer> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  const server = http.createServer((req, res) => {
    if (opts.token !== undefined && !bearerOk(req.headers.authorization, opts.token)) {
      opts.onUnauthorized?.();
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="kdmq"' }).end('401 Unauthorized: rpc.token is set, send "Authorization: Bearer <token>"\n');
      return;
    }
    if (extra && extra(req, res)) return;
    if (req.url !== '/RPC' && req.url !== '/jsonrpc') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('use POST\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) {
        res.writeHead(413).end();
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      void dispatch(reg, Buffer.concat(chunks).toString('utf8')).then(
        (out) => res.writeHead(200, { 'content-type': 'application/json' }).end(out + '\n'),
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":500,"message":"Internal error"},"id":null}\n'),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`rpc.listen ${listen}: ${e.code ?? e.message}`)));
    server.listen(port, host, () => {
      const a = server.address() as { address: string; port: number };
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
