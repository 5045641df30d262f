// `kdmq trace import CAPTURE -o TRACE | export TRACE -o FILE.pcap|FILE.pcapng [--link ethernet|sll]
// [--format pcap|pcapng] | listen udp:IP:PORT -o TRACE | show TRACE [--html FILE]`. A capture may
// hold SIP or HEPv3 datagrams. Errors (unreadable, malformed or truncated input) exit 1 with one
// line naming the record; usage errors exit 2.

import { readFileSync, writeFileSync } from 'node:fs';
import { decodeTrace, encodeTrace, type Trace } from '../trace/format.ts';
import { importCapture } from '../trace/import.ts';
import { exportCapture } from '../trace/export.ts';
import { traceListen } from './trace-listen.ts';
import { ladderText } from '../trace/ladder.ts';
import { ladderHtml } from '../trace/html.ts';

const USAGE = 'usage: kdmq trace import CAPTURE -o TRACE | export TRACE -o FILE.pcap|FILE.pcapng [--link ethernet|sll] [--format pcap|pcapng] | listen udp:IP:PORT -o TRACE | show TRACE [--html FILE]';

function opts(argv: string[]): { pos: string[]; o: Record<string, string> } | string {
  const pos: string[] = [];
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-o' || a === '--html' || a === '--link' || a === '--format' || a === '--output') {
      if (argv[i + 1] === undefined) return `${a} needs a value`;
      o[a === '--output' ? '-o' : a] = argv[++i];
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else pos.push(a);
  }
  return { pos, o };
}

export function readTraceFile(path: string): { ok: true; trace: Trace } | { ok: false; error: string } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return { ok: false, error: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const d = decodeTrace(buf);
  return d.ok ? { ok: true, trace: d.value } : { ok: false, error: `${path}: ${d.error}` };
}

export async function trace(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = opts(rest);
  const err = (m: string, code: number) => (process.stderr.write(`kdmq trace${sub ? ' ' + sub : ''}: ${m}\n`), code);
  if (typeof p === 'string') return err(p, 2);
  if (sub === 'import') {
    if (p.pos.length !== 1 || !p.o['-o']) return err(USAGE, 2);
    let buf: Buffer;
    try {
      buf = readFileSync(p.pos[0]);
    } catch (e) {
      return err(`cannot read ${p.pos[0]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
    }
    const r = importCapture(buf);
    if (!r.ok) return err(`${p.pos[0]}: ${r.error}`, 1);
    writeFileSync(p.o['-o'], encodeTrace(r.trace));
    for (const w of r.warnings) process.stderr.write(`kdmq trace import: warning: ${w}\n`);
    const nodes = (r.trace.header.nodes ?? []).map((n) => `${n.name}=${n.id}`).join(' ');
    process.stdout.write(`${r.trace.records.length - 1} SIP datagrams, nodes: ${nodes}; ${r.skipped} other frames skipped\n`);
    return 0;
  }
  if (sub === 'listen') {
    if (p.pos.length !== 1 || !p.o['-o']) return err(USAGE, 2);
    return traceListen(p.pos[0], p.o['-o'], err);
  }
  if (sub === 'export' || sub === 'show') {
    if (p.pos.length !== 1 || (sub === 'export' && !p.o['-o'])) return err(USAGE, 2);
    const t = readTraceFile(p.pos[0]);
    if (!t.ok) return err(t.error, 1);
    if (sub === 'export') {
      const link = p.o['--link'] ?? 'ethernet';
      if (link !== 'ethernet' && link !== 'sll') return err('--link must be ethernet or sll', 2);
      const format = p.o['--format'] ?? (/\.pcapng$/i.test(p.o['-o']) ? 'pcapng' : 'pcap');
      if (format !== 'pcap' && format !== 'pcapng') return err('--format must be pcap or pcapng', 2);
      writeFileSync(p.o['-o'], exportCapture(t.trace, { link, format }));
      return 0;
    }
    if (p.o['--html']) writeFileSync(p.o['--html'], ladderHtml(t.trace, p.pos[0]));
    else process.stdout.write(ladderText(t.trace));
    return 0;
  }
  return err(USAGE, 2);
}
