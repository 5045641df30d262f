// Message framing: start line, header lines (folding, CRLF or LF), body by Content-Length
// (RFC 3261 §7.1, §7.2, §7.3.1, §7.4.1, §7.5, §18.3, §20.14) and the request checks of §8.2.
// parseMessage never throws; headers themselves are parsed lazily by ./message.ts. A framing error
// in a request whose start line, Via, From, To, Call-ID and CSeq are readable returns the request
// as far as it was read (`partial`), so the transaction layer can answer 400 (§21.4.1). A control
// character in the header section (C0 but HT, DEL; CR and LF only as line ends) is such an error.

import type { ParseResult, RawHeader, SipMessage, SipRequest } from './types.ts';
import { ParsedRequest, ParsedResponse } from './message.ts';
import { commonName, headerKey } from './headers.ts';
import { clip, fail, isToken, ok, parseIntRange, TOKEN, trimWs } from './scan.ts';
import { controlError, findControl, withoutControls } from './control.ts';
import { errorText } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Enc = new TextEncoder();
const VERSION = /^SIP\/[0-9]+\.[0-9]+$/i;
const EMPTY = new Uint8Array(0);

/**
 * parseMessage's result: a ParseResult whose failure may carry `partial`, the request read as far
 * as possible, when only the framing is broken (bad header line, bad or short Content-Length) and
 * the headers a response needs (Via, From, To, Call-ID, CSeq) all parse.
 */
export type MessageParseResult = { ok: true; value: SipMessage } | { ok: false; error: string; partial?: SipRequest };

/** Split the header block into lines, unfolding continuation lines (LWS at line start). */
function splitHeaders(head: string, pos: number, lenient = false): ParseResult<RawHeader[]> {
  const headers: RawHeader[] = [];
  while (pos < head.length) {
    let e = head.indexOf('\n', pos);
    if (e < 0) e = head.length;
    const lineEnd = head.charCodeAt(e - 1) === 13 ? e - 1 : e;
    const c0 = head.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) {
      const last = headers[headers.length - 1];
      if (last === undefined) {
        if (!lenient) return fail(errorText('KDMQ_SIP_CONTINUATION_FIRST'));
        pos = e + 1;
        continue;
      }
      const cont = trimWs(head.slice(pos, lineEnd));
      if (cont.length > 0) last.value = last.value.length > 0 ? `${last.value} ${cont}` : cont;
    } else {
      let colon = pos;
      while (colon < lineEnd) {
        const c = head.charCodeAt(colon);
        if (c >= 128 || TOKEN[c] === 0) break;
        colon++;
      }
      const nameEnd = colon;
      while (colon < lineEnd && (head.charCodeAt(colon) === 32 || head.charCodeAt(colon) === 9)) colon++;
      if (nameEnd === pos || head.charCodeAt(colon) !== 58 || colon >= lineEnd) {
        if (!lenient) return fail(errorText('KDMQ_SIP_BAD_HEADER_LINE', clip(head.slice(pos, lineEnd))));
        pos = e + 1;
        continue;
      }
      // the value without its surrounding SP/HT (as trimWs gives it), sliced once
      let v0 = colon + 1;
      let v1 = lineEnd;
      while (v0 < v1 && (head.charCodeAt(v0) === 32 || head.charCodeAt(v0) === 9)) v0++;
      while (v1 > v0 && (head.charCodeAt(v1 - 1) === 32 || head.charCodeAt(v1 - 1) === 9)) v1--;
      headers.push({ name: commonName(head, pos, nameEnd), value: head.slice(v0, v1) });
    }
    pos = e + 1;
  }
  return ok(headers);
}

/** Content-Length value (all occurrences must agree); null when absent. */
function contentLength(headers: RawHeader[]): ParseResult<number | null> {
  let cl: number | null = null;
  for (const h of headers) {
    if (h.name.length !== 14 && h.name.length !== 1) continue;
    if (headerKey(h.name) !== 'content-length') continue;
    const n = parseIntRange(h.value, 0, 2 ** 31 - 1, 'Content-Length');
    if (!n.ok) return n;
    if (cl !== null && cl !== n.value) return fail(errorText('KDMQ_SIP_CONTENT_LENGTH_CONFLICT'));
    cl = n.value;
  }
  return ok(cl);
}

function startLine(line: string, headers: RawHeader[], body: Uint8Array): ParseResult<SipMessage> {
  if (line.length > 4 && line.charCodeAt(3) === 47 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    const sp = line.indexOf(' ');
    const version = sp < 0 ? line : line.slice(0, sp);
    if (!VERSION.test(version)) return fail(errorText('KDMQ_SIP_BAD_VERSION', clip(version)));
    const code = line.slice(sp + 1, sp + 4);
    if (sp < 0 || (line.length > sp + 4 && line.charCodeAt(sp + 4) !== 32)) return fail(errorText('KDMQ_SIP_BAD_STATUS_LINE', clip(line)));
    const status = parseIntRange(code, 100, 699, 'status code');
    if (!status.ok || code.length !== 3) return fail(errorText('KDMQ_SIP_BAD_STATUS_CODE', clip(code)));
    return ok(new ParsedResponse(status.value, line.slice(sp + 5), version, headers, body));
  }
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp2 < 0) return fail(errorText('KDMQ_SIP_BAD_REQUEST_LINE', clip(line)));
  const method = line.slice(0, sp1);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return fail(errorText('KDMQ_SIP_BAD_METHOD', clip(method)));
  if (uri.length === 0 || uri.indexOf('\t') >= 0) return fail(errorText('KDMQ_SIP_BAD_REQUEST_URI', clip(uri)));
  if (!VERSION.test(version)) return fail(errorText('KDMQ_SIP_BAD_VERSION', clip(version)));
  return ok(new ParsedRequest(method, uri, version, headers, body));
}

/** Index of the LF that ends the header block and where the body starts, or null. */
function findHeadEnd(b: Uint8Array, from: number): [number, number] | null {
  let p = from;
  for (;;) {
    const lf = b.indexOf(10, p);
    if (lf < 0) return null;
    const n = b[lf + 1];
    if (n === 10) return [lf, lf + 2];
    if (n === 13 && b[lf + 2] === 10) return [lf, lf + 3];
    p = lf + 1;
  }
}

/** A framing failure, with the partial request when a 400 can be formed from it. */
function salvage(error: string, line: string, headers: RawHeader[], body: Uint8Array): MessageParseResult {
  const m = startLine(line, headers, body);
  if (!m.ok || m.value.kind !== 'request') return { ok: false, error };
  const r = m.value;
  const answerable = r.topVia().ok && r.vias().ok && r.from().ok && r.to().ok && r.callId().ok && r.cseq().ok;
  return answerable ? { ok: false, error, partial: r } : { ok: false, error };
}

function firstLineEnd(head: string): number {
  const nl = head.indexOf('\n');
  return nl < 0 ? head.length : nl;
}

function startLineText(head: string, nl: number): string {
  return head.slice(0, head.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
}

/** A framing failure of the header section: the partial request from a lenient read of `head`. */
function salvageHead(error: string, head: string): MessageParseResult {
  const nl = firstLineEnd(head);
  const lenient = splitHeaders(head, nl + 1, true);
  return lenient.ok ? salvage(error, startLineText(head, nl), lenient.value, EMPTY) : { ok: false, error };
}

export function parseMessage(data: Uint8Array | string): MessageParseResult {
  const bytes = typeof data === 'string' ? utf8Enc.encode(data) : data;
  let start = 0;
  while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start++;
  if (start === bytes.length) return fail(errorText('KDMQ_SIP_EMPTY'));
  const ends = findHeadEnd(bytes, start);
  if (ends === null) return fail(errorText('KDMQ_SIP_NO_EMPTY_LINE'));
  const head = utf8.decode(bytes.subarray(start, ends[0]));
  if (findControl(bytes, start, ends[0]) >= 0) {
    // a 400 formed from the head without those chars (the sender's headers as they were before
    // one char was inserted); that request is never handed up
    const error = controlError(head) ?? errorText('KDMQ_SIP_CONTROL_CHARACTER');
    return salvageHead(error, withoutControls(head));
  }
  const nl = firstLineEnd(head);
  const line = startLineText(head, nl);
  const headers = splitHeaders(head, nl + 1);
  if (!headers.ok) return salvageHead(headers.error, head);
  const cl = contentLength(headers.value);
  if (!cl.ok) return salvage(cl.error, line, headers.value, EMPTY);
  const avail = bytes.length - ends[1];
  if (cl.value !== null && cl.value > avail) {
    return salvage(errorText('KDMQ_SIP_BODY_SHORT', avail, cl.value), line, headers.value, bytes.subarray(ends[1]));
  }
  const body = bytes.subarray(ends[1], cl.value === null ? bytes.length : ends[1] + cl.value);
  return startLine(line, headers.value, body);
}

/** The checks of RFC 3261 §8.2 a server needs before handling a request. */
export function validateRequest(m: SipRequest): ParseResult<true> {
  if (m.version.toUpperCase() !== 'SIP/2.0') return fail(errorText('KDMQ_SIP_UNSUPPORTED_VERSION', m.version));
  // in this order (the first failure is the error): To, From, Call-ID, Via, Max-Forwards, CSeq
  const to = m.to();
  if (!to.ok) return to;
  const from = m.from();
  if (!from.ok) return from;
  const callId = m.callId();
  if (!callId.ok) return callId;
  const vias = m.vias();
  if (!vias.ok) return vias;
  const mf = m.maxForwards();
  if (!mf.ok) return mf;
  const cseq = m.cseq();
  if (!cseq.ok) return cseq;
  if (cseq.value.method !== m.method) return fail(errorText('KDMQ_SIP_CSEQ_METHOD', cseq.value.method, m.method));
  return ok(true);
}
