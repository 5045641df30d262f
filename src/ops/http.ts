// The operations routes on the RPC listener: GET / (status page), GET /status.json and
// GET /series.json?since=MS (what the page polls: the tables, and the chart samples newer than
// MS) and GET /metrics (Prometheus text format). Everything else falls through to /RPC.

import type http from 'node:http';
import type { ExtraRoute } from '../control/rpc-http.ts';
import type { NodeMetrics } from './metrics.ts';
import type { SeriesJson } from './sampler.ts';
import type { StatusJson } from './status.ts';
import { statusPage } from './status.ts';

const PATHS = new Set(['/', '/index.html', '/status.json', '/series.json', '/metrics']);

/** `since` of /series.json: a number of ms, absent = everything */
function sinceOf(query: string | undefined): number | null {
  const v = new URLSearchParams(query ?? '').get('since');
  if (v === null || v === '') return -Infinity;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : null;
}

export function opsRoutes(o: { metrics: NodeMetrics; status: () => StatusJson; series: (since: number) => SeriesJson }): ExtraRoute {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const [path, query] = (req.url ?? '/').split('?', 2);
    if (!PATHS.has(path)) return false;
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
    else if (path === '/series.json') {
      const since = sinceOf(query);
      if (since === null) res.writeHead(400, { 'content-type': 'text/plain' }).end('since: a number of milliseconds\n');
      else send('application/json', JSON.stringify(o.series(since)) + '\n');
    }
    else send('text/html; charset=utf-8', statusPage(o.status()));
    return true;
  };
}
