// HEP captures and pcapng export: a capture of HEPv3 datagrams (pcap or pcapng, one or two capture
// agents) imports to the same SIP messages, ends and times as the capture of the SIP itself;
// exported pcapng reads back frame for frame as the pcap export (and tshark reads it).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCapture } from '../../src/trace/import.ts';
import { exportCapture, exportPcap, exportPcapng } from '../../src/trace/export.ts';
import { readCapture } from '../../src/trace/pcap.ts';
import { b64, parseEp, unb64, type Trace, type TraceRecord } from '../../src/trace/format.ts';
import { encodeHep } from '../../src/trace/hep.ts';

const FIX = '/work/shared/fixtures/kamailio-traces/register/capture.pcap';

function imported(buf: Uint8Array): Trace {
  const r = importCapture(buf);
  if (!r.ok) throw new Error(r.error);
  return r.trace;
}

const sip = imported(readFileSync(FIX));
const dgrams = sip.records.filter((r): r is TraceRecord & { r: 'dgram' } => r.r === 'dgram');

/** the trace's datagrams as HEP copies sent by agent `id` (from 127.0.0.50+id) to 127.0.0.99:9060 */
function hepTrace(agents: number[], shiftMs = 0): Trace {
  const records: TraceRecord[] = [];
  for (const r of dgrams) {
    for (const id of agents) {
      const a = parseEp(r.from)!;
      const b = parseEp(r.to)!;
      const us = Math.round(r.t * 1000);
      const hep = encodeHep({ family: 2, ipProto: 17, src: a.host, dst: b.host, sport: a.port, dport: b.port, sec: Math.floor(us / 1e6), usec: us % 1e6, protoType: 1, captureId: id, payload: unb64(r.data) }) as Uint8Array;
      records.push({ r: 'dgram', t: r.t + shiftMs * id, from: `127.0.0.${50 + id}:40000`, to: '127.0.0.99:9060', data: b64(hep) });
    }
  }
  return { header: { ...sip.header }, records };
}

/** datagram records, time in whole µs (HEP and the µs captures carry no more) */
const strip = (t: Trace) => t.records.filter((r) => r.r === 'dgram').map((r) => ({ ...r, t: Math.round(r.t * 1000) }));

describe('HEP capture import', () => {
  it('a pcap of HEP datagrams gives the inner SIP with its original ends and times, and the nodes', () => {
    const t = imported(exportPcap(hepTrace([1], 3)));
    expect(strip(t)).toEqual(strip(sip));
    expect(t.header.nodes).toEqual(sip.header.nodes);
    expect(t.header.source).toBe('pcap:pcap+hep');
  });

  it('pcapng too; two capture agents copying each datagram are merged into one', () => {
    const r = importCapture(exportPcapng(hepTrace([1, 2], 2)));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(strip(r.trace)).toEqual(strip(sip));
    expect(r.warnings).toContain(`${dgrams.length} HEP copies of datagrams another capture agent also sent were merged`);
  });

  it('HEP datagrams that are not SIP or not HEP are skipped, counted', () => {
    const t = hepTrace([1]);
    const bad = encodeHep({ family: 2, ipProto: 17, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, sec: 1, usec: 0, protoType: 5, captureId: 1, payload: new Uint8Array([1]) }) as Uint8Array;
    t.records.push({ r: 'dgram', t: 1, from: '127.0.0.51:40000', to: '127.0.0.99:9060', data: b64(bad) });
    t.records.push({ r: 'dgram', t: 1, from: '127.0.0.51:40000', to: '127.0.0.99:9060', data: b64(bad.subarray(0, 20)) });
    const r = importCapture(exportPcap(t));
    expect(r.ok && r.skipped).toBe(2);
  });
});

describe('pcapng export', () => {
  it('reads back frame for frame (time, link, bytes) as the pcap export, Ethernet and SLL', () => {
    for (const link of ['ethernet', 'sll'] as const) {
      const a = readCapture(exportPcap(sip, link));
      const b = readCapture(exportCapture(sip, { link, format: 'pcapng' }));
      expect(a.ok && b.ok).toBe(true);
      if (!a.ok || !b.ok) return;
      expect(b.format).toBe('pcapng');
      expect(b.frames.map((f) => [Math.round(f.t * 1000), f.link, Buffer.from(f.data).toString('hex')])).toEqual(a.frames.map((f) => [Math.round(f.t * 1000), f.link, Buffer.from(f.data).toString('hex')]));
    }
    expect(strip(imported(exportPcapng(sip)))).toEqual(strip(sip));
  });

  const tshark = spawnSync('tshark', ['-v']).status === 0;
  it.skipIf(!tshark)('tshark reads the pcapng: every SIP message, in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-pcapng-'));
    writeFileSync(join(dir, 'x.pcapng'), exportPcapng(sip));
    const r = spawnSync('tshark', ['-r', join(dir, 'x.pcapng'), '-d', 'udp.port==5090,sip', '-T', 'fields', '-e', 'sip.CSeq'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const cseqs = dgrams.map((d) => /\r\nCSeq:\s*([^\r]+)/i.exec(Buffer.from(d.data, 'base64').toString('latin1'))?.[1] ?? '');
    expect(r.stdout.trim().split('\n')).toEqual(cseqs);
  });
});
