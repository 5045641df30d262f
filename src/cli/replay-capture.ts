// `kdmq replay CAPTURE` on a whole cluster: every DMQ node's timeline (or only --as NODE's),
// `--check` the invariants' verdicts (exit 1 on a violation), `--expect FILE` with --as the
// comparison with an answer taken from the node (exit 1 different, 2 unusable), `--html FILE` the
// timelines and verdicts beside the ladder in one page.

import { readFileSync, writeFileSync } from 'node:fs';
import { asCluster } from '../trace/any-input.ts';
import type { Trace } from '../trace/format.ts';
import { buildHistory } from '../trace/history.ts';
import { nodeOfUri } from '../trace/history-frames.ts';
import { nodeTimeline, timelineHeader } from '../trace/timeline.ts';
import { checkCapture, formatVerdicts } from '../trace/replay-check.ts';
import { parseExpected } from '../trace/expect.ts';
import { compareExpected } from '../trace/expect-compare.ts';
import { ladderHtml } from '../trace/html.ts';

export interface CaptureOpts {
  file: string;
  as: string | null;
  exact: boolean;
  expect: string | null;
  check: boolean;
  html: string | null;
}

function expectFile(path: string): { ok: true; text: string } | { ok: false; error: string } {
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { ok: false, error: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

export function replayCapture(t0: Trace, o: CaptureOpts): number {
  const t = asCluster(t0);
  const h = buildHistory(t);
  if (h.nodes.length === 0) {
    process.stderr.write(`kdmq replay: ${o.file}: no DMQ node in it (no KDMQ request)\n`);
    return 2;
  }
  const only = o.as === null ? -1 : nodeOfUri(h, o.as);
  if (o.as !== null && only < 0) {
    process.stderr.write(`kdmq replay: --as ${o.as}: not a node of this capture (nodes: ${h.nodes.map((n) => n.id).join(', ')})\n`);
    return 2;
  }
  const parts = [timelineHeader(h, o.file), ...h.perNode.filter((n) => only < 0 || n.i === only).map((n) => nodeTimeline(h, n))];
  let code = 0;
  if (o.expect) {
    const f = expectFile(o.expect);
    const e = f.ok ? parseExpected(f.text) : f;
    const c = e.ok ? compareExpected(h, h.perNode[only], e.value) : e;
    if (!c.ok) {
      process.stderr.write(`kdmq replay: --expect ${o.expect}: ${c.error}\n`);
      return 2;
    }
    parts.push(`## --expect ${o.expect}\n${c.lines.join('\n')}`);
    if (!c.equal) code = 1;
  }
  if (o.check) {
    const vs = checkCapture(h);
    parts.push(`## --check: the invariants of specs/invariants.md on this capture\n${formatVerdicts(vs).trimEnd()}`);
    if (vs.some((v) => v.verdict === 'FAIL')) code = 1;
  }
  const text = parts.join('\n\n') + '\n';
  process.stdout.write(text);
  if (o.html) {
    try {
      writeFileSync(o.html, ladderHtml(t, `kdmq replay ${o.file}`, text));
    } catch (e) {
      process.stderr.write(`kdmq replay: cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
  }
  return code;
}
