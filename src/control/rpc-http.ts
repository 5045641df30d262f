// JSON-RPC over HTTP on rpc.listen, path /RPC (as Kamailio's xhttp + jsonrpcs). POST a request,
// get the answer; anything else 404/405. Bodies over 1 MB are refused. This is an edge: node:http.

import http from 'node:http';
import { dispatch, type RpcRegistry } from './rpc.ts';

export interface RpcServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export type ExtraRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function startRpcServer(reg: RpcRegistry, listen: string, extra?: ExtraRoute): Promise<RpcServer> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  const server = http.createServer((req, res) => {
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
      void dispatch(reg, Buffer.concat(chunks).toString('utf8')).then((out) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(out + '\n');
      });
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
