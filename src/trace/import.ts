// `kdmq trace import`: a pcap/pcapng capture → one cluster trace. Decodes link, IP (with fragment
// reassembly) and UDP, keeps datagrams that are SIP, or HEPv3 carrying SIP (a capture of HEP
// traffic, as heplify or siptrace send it: the inner message with the addresses and time of its
// chunks, hep-import.ts), and names the nodes: the DMQ endpoints seen in KDMQ From URIs and
// Request-URIs, each with the other ports of its IP that receive requests.

import { parseMessage } from '../sip/index.ts';
import { b64, TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceNode, type TraceRecord } from './format.ts';
import { readCapture } from './pcap.ts';
import { linkToIp, parseIp, parseUdp } from './packet.ts';
import { Reassembler } from './reassembly.ts';
import { isHep3 } from './hep.ts';
import { HepCollector, SIP_START } from './hep-import.ts';

export type ImportResult = { ok: true; trace: Trace; skipped: number; warnings: string[] } | { ok: false; error: string };

function ep(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function importCapture(buf: Uint8Array): ImportResult {
  const cap = readCapture(buf);
  if (!cap.ok) return cap;
  const reasm = new Reassembler();
  const records: TraceRecord[] = [];
  let skipped = 0;
  const hep = new HepCollector();
  let hepSeen = false;
  for (const f of cap.frames) {
    const raw = linkToIp(f.link, f.data);
    if (typeof raw === 'string') {
      skipped++;
      continue;
    }
    const ip0 = parseIp(raw);
    if (typeof ip0 === 'string') {
      skipped++;
      continue;
    }
    const ip = reasm.push(ip0, f.index);
    if (!ip) continue;
    if (ip.proto !== 17) {
      skipped++;
      continue;
    }
    const udp = parseUdp(ip.payload);
    if (typeof udp === 'string') {
      skipped++;
      continue;
    }
    if (isHep3(udp.payload)) {
      hepSeen = true;
      const v = hep.add(udp.payload);
      if (v.kind === 'sip') records.push(v.record);
      else if (v.kind === 'skip') skipped++;
      continue;
    }
    const head = Buffer.from(udp.payload.subarray(0, 200)).toString('latin1');
    if (!SIP_START.test(head)) {
      skipped++;
      continue;
    }
    records.push({ r: 'dgram', t: f.t, from: ep(ip.src, udp.sport), to: ep(ip.dst, udp.dport), data: b64(udp.payload) });
  }
  if (records.length === 0) return { ok: false, error: `no SIP datagrams found in the capture (${cap.frames.length} frames, ${skipped} not SIP over UDP)` };
  // HEP copies come from several agents: order them by their own time
  if (hepSeen) records.sort((a, b) => a.t - b.t);
  const warnings = reasm.incomplete();
  if (hep.duplicates > 0) warnings.push(`${hep.duplicates} HEP copies of datagrams another capture agent also sent were merged`);
  return { ok: true, trace: clusterTrace(records, `pcap:${cap.format}${hepSeen ? '+hep' : ''}`), skipped, warnings };
}

/** a cluster trace of datagram records (in time order), its nodes found in them */
export function clusterTrace(records: TraceRecord[], source: string): Trace {
  const start = records.length > 0 ? records[0].t : 0;
  const end = records.length > 0 ? records[records.length - 1].t : 0;
  return { header: { format: TRACE_FORMAT, version: TRACE_VERSION, kind: 'cluster', source, start, nodes: findNodes(records) }, records: [...records, { r: 'end', t: end }] };
}

/** nodes = DMQ endpoints of KDMQ senders and receivers; their other request-receiving ports join them */
export function findNodes(records: TraceRecord[]): TraceNode[] {
  const dmq = new Set<string>();
  const servers = new Set<string>();
  for (const r of records) {
    if (r.r !== 'dgram') continue;
    const m = parseMessage(Buffer.from(r.data, 'base64'));
    if (!m.ok || m.value.kind !== 'request') continue;
    servers.add(r.to);
    if (m.value.method !== 'KDMQ') continue;
    dmq.add(r.to);
    const from = m.value.from();
    if (from.ok && from.value.uri.host) {
      const u = from.value.uri;
      const host = u.host.replace(/^\[|\]$/g, '');
      dmq.add(ep(host, u.port ?? 5060));
    }
  }
  const hostOf = (e: string) => e.slice(0, e.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const sorted = [...dmq].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return sorted.map((d, i) => {
    const others = [...servers].filter((s) => s !== d && hostOf(s) === hostOf(d) && !dmq.has(s)).sort();
    return { name: `node${i + 1}`, id: `sip:${d}`, endpoints: [d, ...others] };
  });
}
