// Serialise requests and responses with CRLF line ends and a correct Content-Length (RFC 3261
// §7, §20.14), and build a response from a request (§8.2.6.2: Via, From, To+tag, Call-ID, CSeq).
// A header value holding CR or LF is a programming error and throws (house rule 5).

import type { OutgoingRequest, OutgoingResponse, SipMessage, SipRequest } from './types.ts';
import { headerKey } from './headers.ts';
import { SlabPool } from './slab.ts';

const utf8Enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * Encoded text bodies, by text: one body often goes out many times (a node list to every peer each
 * round, a usrloc change to every active node, an anti-entropy digest of 1024 buckets, ~16.4 K
 * chars, sent again while unchanged). Emptied when it would hold more than 256 bodies or
 * MEMO_BUDGET_CHARS; larger bodies (sync batches, each sent once) bypass it.
 * Kept process-wide on purpose (issue #16 item 2): a pure function of immutable text, the same
 * bytes for every node, bounded, and the bytes never leave this module (each is copied into the
 * message), so no node can change what another reads. It serves production too: one node sends
 * the same body to each of its peers.
 */
const encoded: Map<string, Readonly<Uint8Array>> = new Map();
const MEMO_MAX_CHARS = 32_768;
const MEMO_BUDGET_CHARS = 1_048_576;
/** chars of the bodies in `encoded` */
let encodedChars = 0;

/**
 * Where message bytes come from: views into shared slabs, one pool per lifetime so a slab is not
 * held by one long-lived message among short-lived ones. A sent request is held by its client
 * transaction until answered (usually milliseconds); a final response is held by its server
 * transaction for timer J (about 37 s) to answer retransmissions. A message's `.buffer` is its
 * whole slab: read the bytes through the view (or byteOffset and byteLength), as with Node's pool.
 */
const requestBytes = new SlabPool();
const responseBytes = new SlabPool();
/** memoised bodies (`encoded`), held until the memo is cleared */
const bodyBytesPool = new SlabPool();

/** assemble's encoding buffer (grown on demand; only read back within one call) */
let scratch = new Uint8Array(8192);

function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return EMPTY;
  if (typeof body !== 'string') return body;
  if (body.length > MEMO_MAX_CHARS) return utf8Enc.encode(body);
  let b = encoded.get(body);
  if (b === undefined) {
    b = encodeBody(body);
    if (encoded.size >= 256 || encodedChars + body.length > MEMO_BUDGET_CHARS) {
      encoded.clear();
      encodedChars = 0;
    }
    encoded.set(body, b);
    encodedChars += body.length;
  }
  return b;
}

/**
 * UTF-8 bytes of a memoised body. An ASCII body (kdmq's JSON, unless a value holds other chars)
 * has one byte per char and goes into a slab of bodyBytesPool. Any other char takes 2 or more
 * bytes for its 1 or 2 UTF-16 units, so such a body does not fit whole: it gets its own buffer.
 */
function encodeBody(body: string): Uint8Array {
  const b = bodyBytesPool.alloc(body.length);
  const { read, written } = utf8Enc.encodeInto(body, b);
  return read === body.length && written === body.length ? b : utf8Enc.encode(body);
}

function checkLine(s: string, what: string): void {
  if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) throw new Error(`CR or LF in SIP ${what}: ${JSON.stringify(s)}`);
}

function isContentLength(name: string): boolean {
  return (name.length === 14 || name.length === 1) && headerKey(name) === 'content-length';
}

/**
 * Join start line, headers and body. Content-Length headers get the body length; one is added
 * at the end when absent (unless addLength is false and none is present). `via`, when given, is
 * written first as a Via header (the transaction layer's own, without copying the header list).
 * The bytes come from pool.
 */
function assemble(
  start: string, headers: ReadonlyArray<readonly [string, string]>, body: Uint8Array, addLength: boolean, pool: SlabPool,
  via?: string,
): Uint8Array {
  checkLine(start, 'start line');
  let text = `${start}\r\n`;
  if (via !== undefined) {
    checkLine(via, 'header value');
    text += `Via: ${via}\r\n`;
  }
  let hasLength = false;
  for (const [name, value] of headers) {
    checkLine(name, 'header name');
    checkLine(value, 'header value');
    if (isContentLength(name)) {
      hasLength = true;
      const written = /^[0-9]+$/.test(value) && Number(value) === body.length;
      text += `${name}: ${written ? value : body.length}\r\n`;
    } else {
      text += `${name}: ${value}\r\n`;
    }
  }
  if (!hasLength && addLength) text += `Content-Length: ${body.length}\r\n`;
  text += '\r\n';
  // an ASCII head (the usual case) has one byte per char: it is encoded straight into the message
  const direct = pool.alloc(text.length + body.length);
  const enc = utf8Enc.encodeInto(text, direct);
  if (enc.read === text.length && enc.written === text.length) {
    if (body.length > 0) direct.set(body, text.length);
    return direct;
  }
  // any other char takes 2 or 3 bytes: the head is encoded into a reused scratch buffer and copied
  // once into a message of the right size (that first view is left unused)
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const { written } = utf8Enc.encodeInto(text, scratch);
  const out = pool.alloc(written + body.length);
  out.set(scratch.subarray(0, written), 0);
  if (body.length > 0) out.set(body, written);
  return out;
}

/** `via`: a Via header value written before r.headers (the client transaction's own top Via) */
export function writeRequest(r: OutgoingRequest, via?: string): Uint8Array {
  return assemble(`${r.method} ${r.uri} SIP/2.0`, r.headers, bodyBytes(r.body), true, requestBytes, via);
}

export function writeResponse(r: OutgoingResponse): Uint8Array {
  return assemble(`SIP/2.0 ${r.status} ${r.reason}`, r.headers, bodyBytes(r.body), true, responseBytes);
}

/**
 * Re-serialise a parsed message: start line, headers in order (folded lines come out unfolded),
 * body. A wrong Content-Length is corrected; none is added when the message had none (a UDP
 * message framed by the datagram), so parse(writeMessage(m)) gives m back.
 */
export function writeMessage(m: SipMessage): Uint8Array {
  const start = m.kind === 'request'
    ? `${m.method} ${m.requestUriText} ${m.version}`
    : `${m.version} ${m.status} ${m.reason}`;
  const headers = m.headers.map((h) => [h.name, h.value] as const);
  return assemble(start, headers, m.body, false, m.kind === 'request' ? requestBytes : responseBytes);
}

function hasTag(to: string): boolean {
  return /;\s*tag\s*=/i.test(to.slice(Math.max(0, to.lastIndexOf('>'))));
}

/** A response to req: Via (all, in order), From, To (+tag), Call-ID, CSeq, opts.headers, Content-Length. */
export function responseTo(
  req: SipRequest,
  status: number,
  reason: string,
  opts: { toTag?: string; headers?: Array<[string, string]>; body?: Uint8Array | string } = {},
): OutgoingResponse {
  const headers: Array<[string, string]> = [];
  for (const v of req.getAll('via')) headers.push(['Via', v]);
  const from = req.get('from');
  if (from !== undefined) headers.push(['From', from]);
  let to = req.get('to');
  if (to !== undefined) {
    const parsed = req.to();
    const tagged = parsed.ok ? parsed.value.params.some(([n]) => n === 'tag') : hasTag(to);
    if (!tagged && opts.toTag !== undefined) to = `${to};tag=${opts.toTag}`;
    headers.push(['To', to]);
  }
  const callId = req.get('call-id');
  if (callId !== undefined) headers.push(['Call-ID', callId]);
  const cseq = req.get('cseq');
  if (cseq !== undefined) headers.push(['CSeq', cseq]);
  if (opts.headers !== undefined) for (const h of opts.headers) headers.push(h);
  const body = bodyBytes(opts.body);
  if (!headers.some(([n]) => isContentLength(n))) headers.push(['Content-Length', String(body.length)]);
  return opts.body === undefined ? { status, reason, headers } : { status, reason, headers, body: opts.body };
}
