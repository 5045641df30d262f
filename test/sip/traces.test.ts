// Every message Kamailio 5.6.3 sent in the lab captures (kamailio-traces/*/sip.txt) parses, and the
// KDMQ key headers are right: channel from the R-URI user, From host/port = sender, CSeq method
// KDMQ, Content-Length = body length; writeMessage gives the captured bytes back (RFC 3261 §7).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage, validateRequest, writeMessage } from '../../src/sip/index.ts';
import type { ParseResult } from '../../src/sip/index.ts';
import { splitTrace } from './trace-text.ts';

const ROOT = '/work/shared/fixtures/kamailio-traces';
const SCENARIOS = ['formation', 'register', 'htable', 'failure'];
const CHANNELS = ['notification_peer', 'usrloc', 'htable'];

function val<T>(r: ParseResult<T>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
const endpoint = (host: string, portText: string) => `${host}:${portText}`;

describe.each(SCENARIOS)('kamailio trace %s', (scenario) => {
  const msgs = splitTrace(readFileSync(`${ROOT}/${scenario}/sip.txt`, 'utf8'));

  it('splits into messages of the announced sizes', () => {
    const announced = /(\d+) UDP\/SIP messages/.exec(readFileSync(`${ROOT}/${scenario}/sip.txt`, 'utf8'));
    expect(msgs.length).toBe(Number(announced?.[1]));
    for (const t of msgs) expect(t.data.length, `#${t.index}`).toBe(t.bytes);
  });

  it('every message parses, has its start line and writes back byte for byte', () => {
    for (const t of msgs) {
      const m = val(parseMessage(t.data));
      const start = m.kind === 'request' ? `${m.method} ${m.requestUriText} ${m.version}` : `${m.version} ${m.status} ${m.reason}`;
      expect(start, `#${t.index}`).toBe(t.startLine);
      expect(writeMessage(m), `#${t.index}`).toEqual(t.data);
      expect(Number(m.get('content-length')), `#${t.index}`).toBe(m.body.length);
    }
  });

  it('KDMQ requests carry channel, sender and CSeq right', () => {
    let n = 0;
    for (const t of msgs) {
      const m = val(parseMessage(t.data));
      if (m.kind !== 'request' || m.method !== 'KDMQ') continue;
      n++;
      expect(val(validateRequest(m))).toBe(true);
      const ruri = val(m.requestUri());
      expect(CHANNELS).toContain(ruri.user);
      expect(endpoint(ruri.host, ruri.portText)).toBe(t.dst);
      const from = val(m.from());
      expect(from.uri.user).toBe(ruri.user);
      expect(endpoint(from.uri.host, from.uri.portText)).toBe(t.src);
      expect(from.params.some(([k, v]) => k === 'tag' && v !== null && v.length > 0)).toBe(true);
      expect(val(m.to()).uri.user).toBe(ruri.user);
      expect(val(m.cseq()).method).toBe('KDMQ');
      const via = val(m.topVia());
      expect(`${via.host}:${via.port}`).toBe(t.src);
      expect(via.branch?.startsWith('z9hG4bK')).toBe(true);
      expect(val(m.maxForwards())).toBeGreaterThanOrEqual(1);
      if (ruri.user === 'usrloc' && m.body.length > 0) expect(m.contentType()).toBe('application/json');
      if (ruri.user === 'notification_peer') {
        for (const line of m.bodyText().split('\r\n').slice(0, -1)) expect(line).toMatch(/^sip:[\d.]+:\d+;status=\w+$/);
      }
    }
    expect(n).toBeGreaterThan(0);
  });

  it('responses to KDMQ go back to the top Via and keep the request CSeq', () => {
    for (const t of msgs) {
      const m = val(parseMessage(t.data));
      if (m.kind !== 'response') continue;
      const cseq = val(m.cseq());
      expect(['KDMQ', 'REGISTER']).toContain(cseq.method);
      const via = val(m.topVia());
      expect(`${via.host}:${via.port}`).toBe(t.dst);
      expect(val(m.callId()).length).toBeGreaterThan(0);
      expect(val(m.to()).params.some(([k]) => k === 'tag')).toBe(true);
    }
  });
});
