// `kdmq trace show --html FILE`: one self-contained HTML page (no external resources) with the
// ladder as an SVG and the full message shown when a row is clicked. Data is embedded as JSON.

import type { Trace } from './format.ts';
import { ladderRows } from './ladder.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** `side`: a text panel drawn beside the ladder (kdmq replay --html: the nodes' timelines and the verdicts) */
export function ladderHtml(trace: Trace, title = 'kdmq trace', side?: string): string {
  const { columns, rows, start } = ladderRows(trace);
  const CW = 200;
  const RH = 26;
  const top = 50;
  const width = 90 + columns.length * CW;
  const height = top + rows.length * RH + 20;
  const x = (c: number) => 90 + c * CW + CW / 2;
  const svg: string[] = [];
  columns.forEach((c, i) => {
    svg.push(`<text x="${x(i)}" y="20" text-anchor="middle" class="h">${esc(c)}</text>`);
    svg.push(`<line x1="${x(i)}" y1="30" x2="${x(i)}" y2="${height}" class="life"/>`);
  });
  rows.forEach((r, i) => {
    const y = top + i * RH;
    const [a, b] = [x(r.from), x(r.to)];
    const cls = /^\d/.test(r.label) ? 'res' : 'req';
    svg.push(`<g class="row ${cls}" data-i="${i}"><rect x="0" y="${y - 16}" width="${width}" height="${RH}" class="hit"/>`);
    svg.push(`<text x="4" y="${y}" class="t">#${i + 1} ${((r.t - start) / 1000).toFixed(3)}s</text>`);
    svg.push(`<line x1="${a}" y1="${y + 4}" x2="${b}" y2="${y + 4}" marker-end="url(#arr)"/>`);
    svg.push(`<text x="${(a + b) / 2}" y="${y}" text-anchor="middle">${esc(r.label)}</text></g>`);
  });
  const data = JSON.stringify(rows.map((r) => r.text)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:13px monospace;margin:0;display:flex;height:100vh}
#l{overflow:auto;flex:3;border-right:1px solid #ccc}#tl{overflow:auto;flex:3;margin:0;padding:8px;border-right:1px solid #ccc;white-space:pre}#m{flex:2;overflow:auto;padding:8px;white-space:pre-wrap;background:#fafafa}
.h{font-weight:bold}.life{stroke:#bbb;stroke-dasharray:4 3}.row line{stroke:#1565c0;stroke-width:1.5}.res line{stroke:#2e7d32}
.hit{fill:transparent}.row:hover .hit{fill:#eef}.sel .hit{fill:#dde}.t{fill:#666}
</style></head><body>
${side === undefined ? '' : `<pre id="tl">${esc(side)}</pre>`}<div id="l"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#444"/></marker></defs>
${svg.join('\n')}
</svg></div>
<div id="m">${rows.length} messages. Click a row to see the full message.</div>
<script>
const msgs=${data};
document.querySelectorAll('.row').forEach(g=>g.addEventListener('click',()=>{
document.querySelectorAll('.sel').forEach(x=>x.classList.remove('sel'));g.classList.add('sel');
document.getElementById('m').textContent=msgs[Number(g.dataset.i)];}));
</script></body></html>
`;
}
