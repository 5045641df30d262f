// The status page's style sheet (inlined in the page: no external assets). Light and dark
// (prefers-color-scheme), colours from the Okabe-Ito palette (told apart with colour-blindness;
// series also differ by dash pattern), one column on a phone-sized screen.

export const STATUS_CSS = `
:root{color-scheme:light dark;--bg:#fafafa;--fg:#1f1f1f;--card:#fff;--line:#d4d4d4;--muted:#5c5c5c;--grid:#e6e6e6;
--c0:#0072b2;--c1:#d55e00;--c2:#009e73;--c3:#cc79a7;--c4:#b07d00;--c5:#56b4e9;--c6:#6a3d9a;--c7:#333;
--active:#187a2f;--pending:#9a5b00;--timeout:#b3261e;--disabled:#6b6b6b;--removed:#999}
@media (prefers-color-scheme:dark){:root{--bg:#121417;--fg:#e8e8e8;--card:#1b1e23;--line:#3a4047;--muted:#a9a9a9;--grid:#2a2f35;
--c0:#56b4e9;--c1:#ff8a4c;--c2:#35d09a;--c3:#e79ac8;--c4:#f0c419;--c5:#a8d8f8;--c6:#b99cf0;--c7:#ddd;
--active:#4cc26a;--pending:#e6a23c;--timeout:#ff6b61;--disabled:#9a9a9a;--removed:#666}}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:var(--fg);background:var(--bg)}
h1{font-size:1.3em;margin:0 0 .2em;overflow-wrap:anywhere} h2{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;background:var(--card);min-width:40em} td,th{border:1px solid var(--line);padding:.25em .6em;text-align:left}
th{background:var(--grid)} .scroll{overflow-x:auto;max-width:100%}
.st{font-weight:600} .active{color:var(--active)} .pending{color:var(--pending)} .timeout{color:var(--timeout)} .disabled{color:var(--disabled)}
.cards{display:flex;gap:1em;flex-wrap:wrap} .card{background:var(--card);border:1px solid var(--line);padding:.5em 1em;border-radius:4px}
.card b{display:block;font-size:1.4em} #stamp{color:var(--muted);font-size:.9em}
.charts{display:grid;gap:1em;grid-template-columns:repeat(auto-fill,minmax(min(100%,26em),1fr))}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:4px;padding:.5em .6em;min-width:0}
.chart:focus{outline:2px solid var(--c0);outline-offset:2px}
.chart figcaption{font-weight:600;margin-bottom:.2em} .chart .plot{width:100%}
.chart svg{display:block;width:100%;height:auto;overflow:visible}
.wide{grid-column:1/-1}
.grid line{stroke:var(--grid);stroke-width:1} .axis{fill:var(--muted);font-size:11px}
.line{fill:none;stroke-width:2;stroke-linejoin:round} .dot{stroke:none}
.s0{stroke:var(--c0);fill:var(--c0)} .s1{stroke:var(--c1);fill:var(--c1)} .s2{stroke:var(--c2);fill:var(--c2)} .s3{stroke:var(--c3);fill:var(--c3)}
.s4{stroke:var(--c4);fill:var(--c4)} .s5{stroke:var(--c5);fill:var(--c5)} .s6{stroke:var(--c6);fill:var(--c6)} .s7{stroke:var(--c7);fill:var(--c7)}
.line.s0,.line.s1,.line.s2,.line.s3,.line.s4,.line.s5,.line.s6,.line.s7{fill:none}
.legend{list-style:none;margin:.3em 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.92em}
.legend li{display:flex;align-items:center;gap:.35em;overflow-wrap:anywhere}
.sw{display:inline-block;width:1.4em;height:0;border-top:3px solid}
.sw.s0{border-color:var(--c0)} .sw.s1{border-color:var(--c1)} .sw.s2{border-color:var(--c2)} .sw.s3{border-color:var(--c3)}
.sw.s4{border-color:var(--c4)} .sw.s5{border-color:var(--c5)} .sw.s6{border-color:var(--c6)} .sw.s7{border-color:var(--c7)}
.sw.d1{border-top-style:dashed} .sw.d2{border-top-style:dotted} .sw.d3{border-top-style:double;border-top-width:4px}
.seg.active{fill:var(--active)} .seg.pending{fill:var(--pending)} .seg.timeout{fill:var(--timeout)} .seg.disabled{fill:var(--disabled)} .seg.removed{fill:var(--removed)}
.tick{stroke:var(--fg);stroke-width:1.5} .lane{fill:var(--fg);font-size:11px}
.sq{display:inline-block;width:.9em;height:.9em;border-radius:2px}
.sq.active{background:var(--active)} .sq.pending{background:var(--pending)} .sq.timeout{background:var(--timeout)} .sq.disabled{background:var(--disabled)} .sq.removed{background:var(--removed)}
.empty{fill:var(--muted);font-size:12px}
@media (max-width:40em){body{margin:.6em} table{min-width:0;width:100%} td,th{padding:.2em .35em;font-size:.92em;overflow-wrap:anywhere}
.cards{gap:.5em} .card{padding:.35em .6em;flex:1 1 40%} .card b{font-size:1.2em}}
`;
