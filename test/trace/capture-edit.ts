// Test helper: hand-edits a real capture (a fixture of /work/shared/fixtures/kamailio-traces or one
// a test recorded) the way an engineer would in a text editor: a datagram's text changed, a copy
// of one sent again later as a new transaction (a new Via branch), then written back as a pcap.

import { readFileSync } from 'node:fs';
import { importCapture } from '../../src/trace/import.ts';
import { b64, unb64, type Trace, type TraceRecord } from '../../src/trace/format.ts';

export const FIX = '/work/shared/fixtures/kamailio-traces';

export function fixtureTrace(name: string): Trace {
  const r = importCapture(readFileSync(`${FIX}/${name}/capture.pcap`));
  if (!r.ok) throw new Error(r.error);
  return r.trace;
}

type Dgram = Extract<TraceRecord, { r: 'dgram' }>;
const dgrams = (t: Trace) => t.records.filter((r): r is Dgram => r.r === 'dgram');
export const text = (r: Dgram): string => Buffer.from(unb64(r.data)).toString('latin1');

/** the SIP datagram numbered n (#1 = first), as the timeline numbers them */
export function frameOf(t: Trace, n: number): Dgram {
  const d = dgrams(t)[n - 1];
  if (!d) throw new Error(`no frame #${n}`);
  return d;
}

/** the number of the first datagram whose text matches */
export function findFrame(t: Trace, re: RegExp, after = 0): number {
  const i = dgrams(t).findIndex((d, k) => k + 1 > after && re.test(text(d)));
  if (i < 0) throw new Error(`no frame matching ${re}`);
  return i + 1;
}

/** Content-Length set to the body's length */
export function withLength(msg: string): string {
  const sep = msg.indexOf('\r\n\r\n');
  const body = sep < 0 ? '' : msg.slice(sep + 4);
  return msg.replace(/\r\nContent-Length:\s*\d+/i, `\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}`);
}

/** frame n's text replaced by edit(text) */
export function editFrame(t: Trace, n: number, edit: (s: string) => string): Trace {
  const target = frameOf(t, n);
  return { ...t, records: t.records.map((r) => (r === target ? { ...target, data: b64(Buffer.from(withLength(edit(text(target))), 'latin1')) } : r)) };
}

/** a copy of frame n (edited), sent again as a new transaction `afterMs` after frame `at` */
export function resend(t: Trace, n: number, at: number, afterMs: number, edit: (s: string) => string = (s) => s): Trace {
  const src = frameOf(t, n);
  const anchor = frameOf(t, at);
  const data = withLength(edit(text(src)).replace(/branch=([^;\r\n]+)/, `branch=$1edited${at}`));
  const copy: Dgram = { r: 'dgram', t: anchor.t + afterMs, from: src.from, to: src.to, data: b64(Buffer.from(data, 'latin1')) };
  const records = [...t.records];
  const i = records.indexOf(anchor);
  let j = i + 1;
  while (j < records.length && records[j].t <= copy.t && records[j].r === 'dgram') j++;
  records.splice(j, 0, copy);
  return { ...t, records };
}
