// The SIP message model shared by the parser, the writer, the transaction layer and the actors.
// RFC 3261 §7 (messages), §19.1 (URIs), §20 (headers), §25 (grammar). Parsing never throws:
// every fallible step returns a ParseResult whose error text becomes a 400 reason phrase.

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Ordered parameter list; names lower-cased, values as written (null when the param has no `=`). */
export type Params = Array<[name: string, value: string | null]>;

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** unescaped user part, null when absent */
  user: string | null;
  password: string | null;
  /** host as written (IPv6 keeps its brackets), case preserved: DMQ compares host strings */
  host: string;
  /** numeric port, null when absent */
  port: number | null;
  /** port exactly as written, '' when absent: DMQ node identity uses the string */
  portText: string;
  params: Params;
  /** URI headers (after `?`), unescaped */
  headers: Array<[name: string, value: string]>;
}

/** name-addr or addr-spec with the header parameters that follow it (From, To, Contact, Route…). */
export interface NameAddr {
  displayName: string | null;
  uri: SipUri;
  /** the URI text exactly as written */
  uriText: string;
  params: Params;
}

export interface Via {
  /** e.g. 'SIP/2.0' */
  protocol: string;
  /** upper-cased: UDP, TCP, TLS, SCTP, WS, WSS */
  transport: string;
  host: string;
  port: number | null;
  params: Params;
  branch: string | null;
  received: string | null;
  /** undefined: absent; null: present without value; number: present with value */
  rport: number | null | undefined;
  maddr: string | null;
  ttl: number | null;
}

export interface CSeq {
  seq: number;
  method: string;
}

export type ContactValue =
  | { star: true }
  | ({
      star: false;
      /** q in [0,1], null when absent */
      q: number | null;
      expires: number | null;
      /** +sip.instance value with its quotes removed, null when absent */
      instance: string | null;
      regId: number | null;
    } & NameAddr);

/** A header line as it stands in the message: name as written, value unfolded and trimmed. */
export interface RawHeader {
  name: string;
  value: string;
}

interface MessageBase {
  /** every header line in order (a header on several lines gives several entries) */
  readonly headers: readonly RawHeader[];
  readonly body: Uint8Array;
  /** all values of a header by canonical or compact name, case-insensitive, comma lists NOT split */
  getAll(name: string): string[];
  /** first value of a header, undefined when absent */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** every Via value, comma-separated values split, in order */
  vias(): ParseResult<Via[]>;
  topVia(): ParseResult<Via>;
  from(): ParseResult<NameAddr>;
  to(): ParseResult<NameAddr>;
  callId(): ParseResult<string>;
  cseq(): ParseResult<CSeq>;
  contacts(): ParseResult<ContactValue[]>;
  maxForwards(): ParseResult<number | null>;
  expires(): ParseResult<number | null>;
  contentType(): string | undefined;
  bodyText(): string;
}

export interface SipRequest extends MessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly requestUriText: string;
  requestUri(): ParseResult<SipUri>;
  readonly version: string;
}

export interface SipResponse extends MessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly version: string;
}

export type SipMessage = SipRequest | SipResponse;

/** What the writer takes: a message spelled out. Header order is kept as given. */
export interface OutgoingRequest {
  method: string;
  uri: string;
  headers: Array<[name: string, value: string]>;
  body?: Uint8Array | string;
}
export interface OutgoingResponse {
  status: number;
  reason: string;
  headers: Array<[name: string, value: string]>;
  body?: Uint8Array | string;
}
