// The trace line encoder: a recorder's datagram record (DatagramRecord, written with a template
// instead of JSON.stringify) gives exactly the bytes JSON.stringify gives, for any endpoint text,
// time and base64 payload, and the decoder reads it back as the same record.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DatagramRecord, b64, decodeTrace, encodeLine, epText, TRACE_FORMAT, TRACE_VERSION } from '../../src/trace/format.ts';

const ep = fc.oneof(
  fc.record({ host: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ host: fc.ipV6(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ host: fc.string(), port: fc.integer({ min: 0, max: 65535 }) }), // odd text: the JSON path
);

describe('encodeLine for recorded datagrams', () => {
  it('writes the bytes JSON.stringify writes, for any endpoint, time and payload', () => {
    fc.assert(fc.property(fc.constantFrom('in' as const, 'out' as const), fc.oneof(fc.nat(), fc.double({ noNaN: true })), ep, ep, fc.uint8Array({ maxLength: 1500 }), (r, t, l, m, data) => {
      const rec = new DatagramRecord(r, t, epText(l), epText(m), b64(data));
      const plain = { r, t, local: epText(l), remote: epText(m), data: b64(data) };
      expect(encodeLine(rec)).toBe(JSON.stringify(plain) + '\n');
    }), { numRuns: 500 });
  });

  it('is read back as the same record', () => {
    const rec = new DatagramRecord('in', 1234.5, '127.0.0.1:5060', '[::1]:5090', b64(new TextEncoder().encode('KDMQ sip:x SIP/2.0\r\n\r\n')));
    const header = { format: TRACE_FORMAT, version: TRACE_VERSION, kind: 'node', source: 'test', start: 0, node: { id: 'n', config: {}, seed: { node: '', app: '' } } };
    const t = decodeTrace(JSON.stringify(header) + '\n' + encodeLine(rec));
    expect(t.ok && t.value.records).toEqual([{ r: 'in', t: 1234.5, local: '127.0.0.1:5060', remote: '[::1]:5090', data: rec.data }]);
  });
});
