// The status page: `GET /` on the RPC listener serves one self-contained HTML page (no external
// assets) showing the cluster as this node sees it; it polls `GET /status.json` every second and
// redraws without a reload. The page is also rendered on the server with the current state, so
// it is useful without JavaScript. The last 50 membership changes are kept in a ring buffer.

import type { KdmqNode } from '../actors/node/create-node.ts';
import type { StatusChange } from '../actors/membership/node-list.ts';
import type { App } from '../actors/node/install-app.ts';
import { KDMQ_VERSION } from '../control/dmq-methods.ts';

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

/** the page, rendered with the current state; its script keeps it current */
export function statusPage(s: StatusJson): string {
  const r = rows(s);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kdmq ${esc(s.node)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .2em} h2{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;background:#fff;min-width:40em} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f0f0f0} .st{font-weight:600} .active{color:#187a2f} .pending{color:#a66a00} .timeout{color:#b3261e} .disabled{color:#777}
.cards{display:flex;gap:1em;flex-wrap:wrap} .card{background:#fff;border:1px solid #ddd;padding:.5em 1em;border-radius:4px}
.card b{display:block;font-size:1.4em} #stamp{color:#777;font-size:.9em}
</style></head>
<body>
<h1>kdmq node <span id="self">${esc(s.node)}</span></h1>
<div id="stamp">version ${esc(s.version)} · up <span id="uptime">${esc(duration(s.uptime_s))}</span> · updated <span id="updated">${esc(new Date(s.now).toISOString())}</span></div>
<h2>Cluster</h2>
<table id="nodes"><thead><tr><th>node</th><th>status</th><th>in state</th></tr></thead><tbody>${r.nodes}</tbody></table>
<h2>Data</h2>
<div class="cards">
<div class="card"><b id="bindings">${s.bindings}</b>bindings</div>
<div class="card"><b id="aors">${s.aors}</b>AoRs</div>
<div class="card"><b id="htables">${r.tables}</b>htable items</div>
<div class="card"><b id="kdmq">${s.kdmq.sent} / ${s.kdmq.received}</b>KDMQ sent / received</div>
<div class="card"><b id="ae">${aeText(s)}</b>anti-entropy rounds / repairs</div>
</div>
<h2>Last membership changes</h2>
<table id="changes"><thead><tr><th>time (UTC)</th><th>node</th><th>change</th><th>trigger</th></tr></thead><tbody>${r.changes}</tbody></table>
<script>
(function(){
  var esc=function(s){return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';'})};
  var dur=function(s){if(s===null)return '';if(s<60)return s+'s';if(s<3600)return Math.floor(s/60)+'m '+(s%60)+'s';return Math.floor(s/3600)+'h '+Math.floor((s%3600)/60)+'m'};
  var polls=0;
  function render(s){
    document.body.setAttribute('data-polls',String(++polls));
    document.getElementById('nodes').tBodies[0].innerHTML=s.nodes.map(function(n){
      return '<tr class="node" data-key="'+esc(n.key)+'" data-status="'+esc(n.status)+'"><td>'+esc(n.key)+(n.local?' <em>(this node)</em>':'')+(n.seed?' <em>(seed)</em>':'')+'</td><td class="st '+esc(n.status)+'">'+esc(n.status)+'</td><td>'+dur(n.in_state_s)+'</td></tr>'}).join('');
    document.getElementById('changes').tBodies[0].innerHTML=s.changes.map(function(c){
      return '<tr><td>'+esc(new Date(c.at).toISOString().replace('T',' ').slice(0,23))+'</td><td>'+esc(c.node)+'</td><td>'+esc(c.from)+' → '+esc(c.to)+'</td><td>'+esc(c.trigger)+'</td></tr>'}).join('');
    document.getElementById('bindings').textContent=s.bindings;
    document.getElementById('aors').textContent=s.aors;
    document.getElementById('htables').textContent=s.htables.map(function(t){return t.name+': '+t.items}).join(', ')||'none';
    document.getElementById('kdmq').textContent=s.kdmq.sent+' / '+s.kdmq.received;
    document.getElementById('ae').textContent=s.antientropy?s.antientropy.rounds+' / '+s.antientropy.repairs:'off';
    document.getElementById('uptime').textContent=dur(s.uptime_s);
    document.getElementById('updated').textContent=new Date(s.now).toISOString();
  }
  function poll(){
    fetch('/status.json',{cache:'no-store'}).then(function(r){return r.json()}).then(render).catch(function(){
      document.getElementById('updated').textContent='(node not reachable)'}).then(function(){setTimeout(poll,1000)});
  }
  setTimeout(poll,1000);
})();
</script>
</body></html>
`;
}
