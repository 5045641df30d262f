// One answer to a usrloc sync request (protocol reference §5.7), built as it is sent: the
// bindings are snapshotted as references when the request arrives (cheap: no formatting), and a
// `multi` body is formatted only when the send window has room for it. So the 200 to the sync
// request leaves at once, the first batch follows it, and a node holding 100 000 bindings never
// blocks its event loop for the whole answer (formatting them all up front took 0.3–0.9 s, during
// which REGISTERs and replication on the answering node waited). At most `window` bodies are in
// flight; the receiver's own reply pace sets the rate (an unpaced sender loses 40 % of datagrams
// on loopback). A binding removed after the snapshot is skipped; one updated since is sent as it
// is now (its update is also broadcast on its own; the receiver's conflict rules order the two).

import { batchUsrlocContacts, type UsrlocContact } from './usrloc-body.ts';
import { toRecord, type Binding } from '../location/binding.ts';

export interface BatchLimits {
  maxContacts: number;
  maxBytes: number;
  /** ceilings replacing Kamailio's 150 contacts / 60 000 bytes (kdmq peers over TCP/TLS) */
  caps?: { contacts: number; bytes: number };
}

export interface SyncAnswerResult {
  /** contacts put into bodies */
  contacts: number;
  /** bodies sent */
  datagrams: number;
  answered: number;
  failed: number;
  /** contacts whose own body would exceed maxBytes: not sent */
  tooLarge: UsrlocContact[];
}

export interface SyncAnswerOptions {
  snapshot: Binding[];
  /** still stored (not removed since the snapshot) */
  live: (b: Binding) => boolean;
  limits: BatchLimits;
  window: number;
  send: (body: string, done: (code: number) => void) => void;
  onFinish: (r: SyncAnswerResult) => void;
}

const DEFAULT_CAP_CONTACTS = 150;

export function sendSyncAnswer(o: SyncAnswerOptions): void {
  const r: SyncAnswerResult = { contacts: 0, datagrams: 0, answered: 0, failed: 0, tooLarge: [] };
  const chunk = Math.max(1, Math.min(o.limits.caps?.contacts ?? DEFAULT_CAP_CONTACTS, Math.floor(o.limits.maxContacts) || 1));
  let cursor = 0;
  /** formatted bodies not yet sent (a chunk split by the byte limit gives more than one) */
  let ready: string[] = [];
  let inFlight = 0;
  let finished = false;

  const nextBody = (): string | undefined => {
    while (ready.length === 0 && cursor < o.snapshot.length) {
      const records: UsrlocContact[] = [];
      while (records.length < chunk && cursor < o.snapshot.length) {
        const b = o.snapshot[cursor++];
        if (o.live(b)) records.push(toRecord(b));
      }
      if (records.length === 0) break;
      const out = batchUsrlocContacts(records, o.limits.maxContacts, o.limits.maxBytes, o.limits.caps);
      r.contacts += records.length - out.tooLarge.length;
      for (const c of out.tooLarge) r.tooLarge.push(c);
      ready = out.bodies;
    }
    return ready.shift();
  };

  const finishIfDone = (): void => {
    if (finished || inFlight > 0 || ready.length > 0 || cursor < o.snapshot.length) return;
    finished = true;
    o.snapshot = []; // let go of the references
    o.onFinish(r);
  };

  const pump = (): void => {
    while (inFlight < o.window) {
      const body = nextBody();
      if (body === undefined) break;
      inFlight++;
      r.datagrams++;
      o.send(body, (code) => {
        inFlight--;
        if (code >= 200 && code < 300) r.answered++;
        else r.failed++;
        pump();
      });
    }
    finishIfDone();
  };
  pump();
}
