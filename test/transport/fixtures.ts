// Shared helpers for the transport tests: SIP requests as text, and a TransactionLayer wired to a
// VirtualClock with every outgoing datagram captured (time, from, to, bytes).

import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { parseMessage } from '../../src/sip/index.ts';
import type { OutgoingRequest, SipMessage } from '../../src/sip/types.ts';
import { TransactionLayer } from '../../src/transport/transactions.ts';
import type { ClientOutcome, ServerTx, TransactionLayerOptions } from '../../src/transport/transactions.ts';
import type { Endpoint } from '../../src/transport/transport.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function kdmq(callId: string, cseq = 1): OutgoingRequest {
  return {
    method: 'KDMQ',
    uri: 'sip:notification_peer@127.0.0.2:5090',
    headers: [
      ['Max-Forwards', '70'],
      ['From', '<sip:notification_peer@127.0.0.1:5090>;tag=from1'],
      ['To', '<sip:notification_peer@127.0.0.2:5090>'],
      ['Call-ID', callId],
      ['CSeq', `${cseq} KDMQ`],
      ['Content-Type', 'text/plain'],
    ],
    body: 'sip:127.0.0.1:5090;status=active\r\n',
  };
}

/** a whole request as text, with the given top Via and optional replaced/extra header lines */
export function requestText(via: string, extra: Partial<Record<string, string | null>> = {}): string {
  const h: Record<string, string | null> = {
    Via: via,
    'Max-Forwards': '70',
    From: '<sip:a@127.0.0.1>;tag=f1',
    To: '<sip:b@127.0.0.2>',
    'Call-ID': 'call-1',
    CSeq: '1 KDMQ',
    ...extra,
  };
  const lines = Object.entries(h).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
  return `KDMQ sip:notification_peer@127.0.0.2:5090 SIP/2.0\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

export function parse(data: Uint8Array | string): SipMessage {
  const r = parseMessage(data);
  if (!r.ok) throw new Error(`test fixture does not parse: ${r.error}`);
  return r.value;
}

export interface Sent {
  at: number;
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
}

export function layerOnClock(over: Partial<TransactionLayerOptions> = {}) {
  const clock = new VirtualClock(0);
  const sent: Sent[] = [];
  const handedUp: Array<{ text: string; tx: ServerTx }> = [];
  const outcomes: Array<{ at: number; outcome: ClientOutcome }> = [];
  const layer = new TransactionLayer({
    clock,
    random: new SeededRandom('tx-test'),
    send: (from, to, data) => sent.push({ at: clock.now(), from, to, data }),
    onRequest: (req, tx) => handedUp.push({ text: req.method, tx }),
    ...over,
  });
  const done = (outcome: ClientOutcome): void => {
    outcomes.push({ at: clock.now(), outcome });
  };
  return { clock, sent, handedUp, outcomes, layer, done };
}
