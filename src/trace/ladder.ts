// `kdmq trace show`: a sngrep-like text ladder of a trace. One column per node (then one per other
// endpoint), one row per datagram: time, an arrow between the columns, and the method or status
// with the KDMQ channel. ladderRows() is shared with the HTML page (html.ts).

import { parseEp, recordEnds, unb64, type Trace } from './format.ts';

export interface LadderRow {
  t: number;
  from: number;
  to: number;
  label: string;
  text: string;
}

export interface Ladder {
  columns: string[];
  rows: LadderRow[];
  start: number;
}

function describe(text: string, channels: Map<string, string>): string {
  const first = text.slice(0, text.indexOf('\r\n') >>> 0 || 80);
  const cid = /\r\n(?:Call-ID|i)\s*:\s*([^\r\n]+)/i.exec(text)?.[1]?.trim() ?? '';
  const req = /^([A-Z]+) sip:(?:([^@\s]+)@)?\S+ SIP\/2\.0/.exec(first);
  if (req) {
    const ch = req[1] === 'KDMQ' && req[2] ? req[2] : '';
    if (ch) channels.set(cid, ch);
    return ch ? `${req[1]} ${ch}` : req[1];
  }
  const res = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first);
  if (res) {
    const ch = channels.get(cid);
    const method = /\r\n(?:CSeq)\s*:\s*\d+\s+(\S+)/i.exec(text)?.[1] ?? '';
    return `${res[1]} ${res[2]}`.trim() + (ch ? ` (${ch})` : method ? ` (${method})` : '');
  }
  return first.slice(0, 40);
}

export function ladderRows(trace: Trace): Ladder {
  const columns: string[] = [];
  const colOf = new Map<string, number>();
  const names = new Map<string, string>();
  for (const n of trace.header.nodes ?? []) {
    const host = parseEp(n.endpoints[0])?.host ?? n.name;
    const col = columns.push(`${n.name} ${host}`) - 1;
    for (const e of n.endpoints) colOf.set(e, col);
  }
  if (trace.header.node) names.set('self', trace.header.node.id);
  const col = (ep: string) => {
    let c = colOf.get(ep);
    if (c === undefined) {
      c = columns.push(ep) - 1;
      colOf.set(ep, c);
    }
    return c;
  };
  const channels = new Map<string, string>();
  const rows: LadderRow[] = [];
  for (const r of trace.records) {
    const ends = recordEnds(r);
    if (!ends || !('data' in r)) continue;
    const [from, to] = ends;
    const text = Buffer.from(unb64(r.data)).toString('latin1');
    rows.push({ t: r.t, from: col(from), to: col(to), label: describe(text, channels), text });
  }
  return { columns, rows, start: trace.header.start };
}

const W = 24;

function center(s: string, w: number): string {
  const x = s.slice(0, w);
  const l = Math.floor((w - x.length) / 2);
  return ' '.repeat(l) + x + ' '.repeat(w - x.length - l);
}

export function ladderText(trace: Trace): string {
  const { columns, rows, start } = ladderRows(trace);
  const out: string[] = [' '.repeat(12) + columns.map((c) => center(c, W)).join('')];
  out.push(' '.repeat(12) + columns.map(() => center('|', W)).join(''));
  for (const r of rows) {
    const line = columns.map(() => center('|', W)).join('').split('');
    const a = Math.min(r.from, r.to) * W + W / 2;
    const b = Math.max(r.from, r.to) * W + W / 2;
    if (a === b) {
      line[a] = 'o';
    } else {
      for (let i = a + 1; i < b; i++) line[i] = '-';
      if (r.to > r.from) line[b - 1] = '>';
      else line[a + 1] = '<';
      const lab = ` ${r.label} `.slice(0, b - a - 3);
      const at = a + 2 + Math.floor((b - a - 3 - lab.length) / 2);
      for (let i = 0; i < lab.length; i++) line[at + i] = lab[i];
    }
    out.push(`${((r.t - start) / 1000).toFixed(3).padStart(10)}s ${line.join('').trimEnd()}`);
  }
  return out.join('\n') + '\n';
}
