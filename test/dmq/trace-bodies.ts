// Reads the KDMQ bodies out of the lab captures' sip.txt files (kamailio-dmq-protocol.md §0 [captured]).
// sip.txt shows each message after a `=== #n …` line with CRLF written as LF; the exact body is
// rebuilt by turning LF back into CRLF and cutting at Content-Length (checked, not assumed).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRACES_DIR = process.env.KDMQ_TRACES ?? '/work/shared/fixtures/kamailio-traces';
export const SNAPSHOT = new URL('./fixtures/kamailio-bodies.json', import.meta.url);

export interface TraceBody {
  /** e.g. `formation#12` (first occurrence) */
  where: string;
  kind: 'request' | 'response';
  /** R-URI user for requests; for replies the channel of the request with the same Call-ID */
  channel: string;
  contentType: string;
  body: string;
}

export function bodiesFromTrace(scenario: string, text: string): TraceBody[] {
  const out: TraceBody[] = [];
  const channelByCallId = new Map<string, string>();
  for (const part of text.split(/^=== /m).slice(1)) {
    const num = /^#(\d+)/.exec(part)?.[1] ?? '?';
    const msg = part.slice(part.indexOf('\n') + 1);
    // the last message of a file may end without the blank line
    const headEnd = msg.indexOf('\n\n') < 0 ? msg.trimEnd().length : msg.indexOf('\n\n');
    const head = msg.slice(0, headEnd).split('\n');
    const header = (name: string): string | undefined =>
      head.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.replace(/^[^:]*:\s*/, '');
    const start = head[0]!;
    const callId = header('Call-ID') ?? '';
    const isRequest = start.startsWith('KDMQ ');
    if (isRequest) channelByCallId.set(callId, /^KDMQ sip:([^@]+)@/.exec(start)?.[1] ?? '');
    if (!isRequest && !(header('CSeq') ?? '').endsWith(' KDMQ')) continue; // REGISTER traffic
    const cl = Number(header('Content-Length'));
    if (!Number.isInteger(cl)) throw new Error(`${scenario}#${num}: no Content-Length`);
    if (cl === 0) continue;
    const wire = Buffer.from(msg.slice(headEnd + 2).replace(/\n/g, '\r\n'), 'utf8');
    const body = wire.subarray(0, cl).toString('utf8');
    if (Buffer.byteLength(body) !== cl || !/^\s*$/.test(wire.subarray(cl).toString('utf8'))) {
      throw new Error(`${scenario}#${num}: body does not match Content-Length ${cl}`);
    }
    out.push({
      where: `${scenario}#${num}`,
      kind: isRequest ? 'request' : 'response',
      channel: isRequest ? channelByCallId.get(callId)! : channelByCallId.get(callId) ?? '',
      contentType: header('Content-Type') ?? '',
      body,
    });
  }
  return out;
}

/** Every distinct (channel, body) pair of every scenario, in capture order. */
export function bodiesFromTraces(dir = TRACES_DIR): TraceBody[] {
  const seen = new Set<string>();
  const out: TraceBody[] = [];
  for (const scenario of readdirSync(dir).sort()) {
    const file = join(dir, scenario, 'sip.txt');
    if (!existsSync(file)) continue;
    for (const b of bodiesFromTrace(scenario, readFileSync(file, 'utf8'))) {
      const key = `${b.channel}\n${b.body}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(b);
    }
  }
  return out;
}

export function snapshotBodies(): TraceBody[] {
  return JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as TraceBody[];
}
