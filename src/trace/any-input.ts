// What `kdmq replay` reads: a kdmq trace (JSON lines), a pcap or pcapng capture of SIP or of HEP
// (imported as `kdmq trace import` does), or a raw stream of HEPv3 packets one after the other.
// `asCluster` turns a node trace (one node's in/out) into the cluster form the timeline reads.

import { decodeTrace, type Trace, type TraceRecord } from './format.ts';
import { clusterTrace, findNodes, importCapture } from './import.ts';
import { HepCollector } from './hep-import.ts';

export type AnyInput = { ok: true; trace: Trace; warnings: string[]; kind: 'trace' | 'capture' | 'hep' } | { ok: false; error: string };

function rawHep(buf: Uint8Array): AnyInput {
  const hep = new HepCollector();
  const records: TraceRecord[] = [];
  let off = 0;
  let skipped = 0;
  while (off + 6 <= buf.byteLength) {
    const len = (buf[off + 4] << 8) | buf[off + 5];
    if (buf[off] !== 0x48 || buf[off + 1] !== 0x45 || buf[off + 2] !== 0x50 || buf[off + 3] !== 0x33 || len < 6 || off + len > buf.byteLength) {
      return { ok: false, error: `HEP stream: no HEPv3 packet at byte ${off}` };
    }
    const v = hep.add(buf.subarray(off, off + len));
    if (v.kind === 'sip') records.push(v.record);
    else if (v.kind === 'skip') skipped++;
    off += len;
  }
  if (records.length === 0) return { ok: false, error: `HEP stream: no SIP in ${skipped} packets` };
  records.sort((a, b) => a.t - b.t);
  const warnings = off < buf.byteLength ? [`HEP stream: ${buf.byteLength - off} bytes after the last packet ignored`] : [];
  return { ok: true, trace: clusterTrace(records, 'hep'), warnings, kind: 'hep' };
}

export function readAnyInput(buf: Uint8Array): AnyInput {
  let i = 0;
  while (i < buf.byteLength && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x7b) {
    const d = decodeTrace(buf);
    return d.ok ? { ok: true, trace: d.value, warnings: [], kind: 'trace' } : { ok: false, error: d.error };
  }
  if (buf.byteLength >= 4 && buf[0] === 0x48 && buf[1] === 0x45 && buf[2] === 0x50 && buf[3] === 0x33) return rawHep(buf);
  const r = importCapture(buf);
  return r.ok ? { ok: true, trace: r.trace, warnings: r.warnings, kind: 'capture' } : { ok: false, error: r.error };
}

/** a node trace's datagrams in and out as a cluster trace (the timeline's form); cluster traces as they are */
export function asCluster(t: Trace): Trace {
  if (t.header.kind === 'cluster') return t;
  const records: TraceRecord[] = t.records.flatMap((r): TraceRecord[] =>
    r.r === 'in' ? [{ r: 'dgram', t: r.t, from: r.remote, to: r.local, data: r.data }] : r.r === 'out' ? [{ r: 'dgram', t: r.t, from: r.local, to: r.remote, data: r.data }] : r.r === 'end' ? [r] : [],
  );
  return { header: { ...t.header, kind: 'cluster', node: undefined, nodes: findNodes(records) }, records };
}
