// The status page: `GET /` on the RPC listener serves one self-contained HTML page (no external
// assets: style and script inlined) showing the cluster as this node sees it; it polls
// `GET /status.json` every second for the tables and `GET /series.json` for the charts of the
// last 15 minutes (src/ops/sampler.ts, status-client.ts) and redraws without a reload. The page is
// also rendered on the server with the current state, so its numbers are useful without
// JavaScript. The last 50 membership changes are kept in a ring buffer for the table.

import type { KdmqNode } from '../actors/node/create-node.ts';
import type { StatusChange } from '../actors/membership/node-list.ts';
import type { App } from '../actors/node/install-app.ts';
import { KDMQ_VERSION } from '../control/dmq-methods.ts';
import { STATUS_SCRIPT } from './status-client.ts';
import { STATUS_CSS } from './status-style.ts';

export class ChangeRing {
  private readonly items: StatusChange[] = [];
  constructor(readonly capacity = 50) {}
  push(c: StatusChange): void {
    this.items.push(c);
    if (this.items.length > this.capacity) this.items.shift();
  }
  /** newest first */
  list(): StatusChange[] {
    return [...this.items].reverse();
  }
}

export interface StatusJson {
  node: string;
  version: string;
  now: number;
  started_at: number;
  uptime_s: number;
  nodes: Array<{ key: string; host: string; port: string; status: string; local: boolean; seed: boolean; since: number; in_state_s: number | null }>;
  bindings: number;
  aors: number;
  htables: Array<{ name: string; items: number }>;
  kdmq: { sent: number; received: number; timed_out: number; rejected_senders: number };
  /** kdmq-to-kdmq anti-entropy (null when off): rounds started, repairs applied here, bytes sent */
  antientropy: { rounds: number; repairs: number; bytes: number } | null;
  changes: Array<{ at: number; node: string; from: string; to: string; trigger: string }>;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

export function statusJson(node: KdmqNode, app: App, ring: ChangeRing, now: number): StatusJson {
  return {
    node: node.list.localKey,
    version: KDMQ_VERSION,
    now,
    started_at: node.startedAt,
    uptime_s: Math.floor((now - node.startedAt) / 1000),
    nodes: node.list.views().map((v) => ({
      key: v.key,
      host: v.host,
      port: v.port,
      status: v.status,
      local: v.local,
      seed: v.seed,
      since: v.local ? node.startedAt : v.since,
      in_state_s: Math.max(0, Math.floor((now - (v.local ? node.startedAt : v.since)) / 1000)),
    })),
    bindings: app.registrar.store.contactCount(),
    aors: app.registrar.store.aors.size,
    htables: app.htable.store.stats().map((t) => ({ name: t.name, items: t.all })),
    kdmq: {
      sent: sum(node.kdmq.stats.sent),
      received: sum(node.router.stats.received),
      timed_out: sum(node.kdmq.stats.timedOut),
      rejected_senders: node.counters.rejectedSenders,
    },
    antientropy: app.antientropy
      ? {
        rounds: app.antientropy.stats.rounds,
        repairs: sum(app.antientropy.stats.applied),
        bytes: ((st) => st.digestBytes + st.subBytes + st.versionBytes + st.wantBytes + st.recordBytes)(app.antientropy.stats),
      }
      : null,
    changes: ring.list().map((c) => ({ at: c.at, node: c.key, from: c.from, to: c.to, trigger: c.event })),
  };
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function duration(s: number | null): string {
  if (s === null) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function rows(s: StatusJson): { nodes: string; changes: string; tables: string } {
  return {
    nodes: s.nodes
      .map((n) => `<tr class="node" data-key="${esc(n.key)}" data-status="${esc(n.status)}"><td>${esc(n.key)}${n.local ? ' <em>(this node)</em>' : ''}${n.seed ? ' <em>(seed)</em>' : ''}</td><td class="st ${esc(n.status)}">${esc(n.status)}</td><td>${esc(duration(n.in_state_s))}</td></tr>`)
      .join(''),
    changes: s.changes
      .map((c) => `<tr><td>${esc(new Date(c.at).toISOString().replace('T', ' ').slice(0, 23))}</td><td>${esc(c.node)}</td><td>${esc(c.from)} → ${esc(c.to)}</td><td>${esc(c.trigger)}</td></tr>`)
      .join(''),
    tables: s.htables.map((t) => `${esc(t.name)}: ${t.items}`).join(', ') || 'none',
  };
}

const aeText = (s: StatusJson) => (s.antientropy ? `${s.antientropy.rounds} / ${s.antientropy.repairs}` : 'off');

const figure = (id: string, title: string, wide = false) =>
  `<figure class="chart${wide ? ' wide' : ''}" id="${id}" tabindex="0" data-samples="0"><figcaption>${esc(title)}</figcaption><div class="plot"></div><ul class="legend"></ul></figure>`;

/** the page, rendered with the current state; its script keeps it current and draws the charts */
export function statusPage(s: StatusJson): string {
  const r = rows(s);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kdmq ${esc(s.node)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<style>${STATUS_CSS}</style></head>
<body data-polls="0" data-series-polls="0">
<header>
<h1>kdmq node <span id="self">${esc(s.node)}</span></h1>
<div id="stamp">version ${esc(s.version)} · up <span id="uptime">${esc(duration(s.uptime_s))}</span> · updated <span id="updated">${esc(new Date(s.now).toISOString())}</span></div>
</header>
<main>
<h2>Data</h2>
<div class="cards">
<div class="card"><b id="bindings">${s.bindings}</b>bindings</div>
<div class="card"><b id="aors">${s.aors}</b>AoRs</div>
<div class="card"><b id="htables">${r.tables}</b>htable items</div>
<div class="card"><b id="kdmq">${s.kdmq.sent} / ${s.kdmq.received}</b>KDMQ sent / received</div>
<div class="card"><b id="ae">${aeText(s)}</b>anti-entropy rounds / repairs</div>
</div>
<h2>Last 15 minutes</h2>
<noscript><p>The charts need JavaScript; the numbers and tables on this page are current as of loading it.</p></noscript>
<div class="charts">
${figure('chart-registers', 'REGISTER/s')}
${figure('chart-bindings', 'Bindings')}
${figure('chart-sent', 'KDMQ sent per channel (requests/s)')}
${figure('chart-received', 'KDMQ received per channel (requests/s)')}
${figure('chart-backlog', 'Replication backlog per node (changes owed)')}
${figure('chart-membership', 'Membership changes', true).replace('<ul class="legend"></ul>', `<ul class="legend">${['active', 'pending', 'timeout', 'disabled'].map((st) => `<li><span class="sq ${st}" aria-hidden="true"></span>${st}</li>`).join('')}<li>| a change</li></ul>`)}
</div>
<h2>Cluster</h2>
<div class="scroll"><table id="nodes"><thead><tr><th>node</th><th>status</th><th>in state</th></tr></thead><tbody>${r.nodes}</tbody></table></div>
<h2>Last membership changes</h2>
<div class="scroll"><table id="changes"><thead><tr><th>time (UTC)</th><th>node</th><th>change</th><th>trigger</th></tr></thead><tbody>${r.changes}</tbody></table></div>
</main>
<script>${STATUS_SCRIPT}</script>
</body></html>
`;
}
