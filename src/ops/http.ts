// The operations routes on the RPC listener: GET / (status page), GET /status.json (what the page
// polls) and GET /metrics (Prometheus text format). Everything else falls through to /RPC.

import type http from 'node:http';
import type { ExtraRoute } from '../control/rpc-http.ts';
import type { NodeMetrics } from './metrics.ts';
import type { StatusJson } from './status.ts';
import { statusPage } from './status.ts';

export function opsRoutes(o: { metrics: NodeMetrics; status: () => StatusJson }): ExtraRoute {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/' && path !== '/index.html' && path !== '/status.json' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('use GET\n');
      return true;
    }
    const send = (type: string, body: string) =>
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    if (path === '/metrics') {
      o.metrics.text().then(
        (t) => send(o.metrics.contentType, t),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${e.message}\n`),
      );
    } else if (path === '/status.json') send('application/json', JSON.stringify(o.status()) + '\n');
    else send('text/html; charset=utf-8', statusPage(o.status()));
    return true;
  };
}
