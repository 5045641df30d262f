// The parsed message objects behind SipRequest / SipResponse (RFC 3261 §7, §20): raw header lines
// found once by the parser, each typed accessor parsed on first call and cached. Accessors return
// ParseResult values and never throw.

import type {
  ContactValue, CSeq, NameAddr, ParseResult, RawHeader, SipRequest, SipResponse, SipUri, Via,
} from './types.ts';
import { parseContacts, parseCSeq, parseNameAddr, parseVia, headerKey } from './headers.ts';
import { fail, ok, parseIntRange } from './scan.ts';
import { parseUri } from './uri.ts';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

abstract class MessageBase {
  /** lookup key (headerKey) of each header line, made on the first lookup */
  private keys: string[] | undefined;
  // each typed accessor's result, parsed on its first call (undefined: not parsed yet)
  private viaList: ParseResult<Via[]> | undefined;
  private fromAddr: ParseResult<NameAddr> | undefined;
  private toAddr: ParseResult<NameAddr> | undefined;
  private callIdValue: ParseResult<string> | undefined;
  private cseqValue: ParseResult<CSeq> | undefined;
  private contactList: ParseResult<ContactValue[]> | undefined;
  private maxForwardsValue: ParseResult<number | null> | undefined;
  private expiresValue: ParseResult<number | null> | undefined;
  private text: string | undefined;

  constructor(
    readonly headers: readonly RawHeader[],
    readonly body: Uint8Array,
  ) {}

  private headerKeys(): string[] {
    let keys = this.keys;
    if (keys === undefined) {
      keys = new Array<string>(this.headers.length);
      for (let i = 0; i < keys.length; i++) keys[i] = headerKey(this.headers[i].name);
      this.keys = keys;
    }
    return keys;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const keys = this.headerKeys();
    const out: string[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) out.push(this.headers[i].value);
    return out;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    const keys = this.headerKeys();
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.headers[i].value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The single value of a header that may appear once; error when missing or repeated. */
  private single(name: string, missingOk: boolean): ParseResult<string | undefined> {
    const key = headerKey(name);
    const keys = this.headerKeys();
    let value: string | undefined;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      if (value !== undefined) return fail(`several ${name} headers`);
      value = this.headers[i].value;
    }
    if (value === undefined && !missingOk) return fail(`missing ${name} header`);
    return ok(value);
  }

  private nameAddr(name: string): ParseResult<NameAddr> {
    const v = this.single(name, false);
    if (!v.ok) return v;
    const r = parseNameAddr(v.value ?? '');
    return r.ok ? r : fail(`bad ${name}: ${r.error}`);
  }

  vias(): ParseResult<Via[]> {
    return (this.viaList ??= this.parseVias());
  }

  private parseVias(): ParseResult<Via[]> {
    const all = this.getAll('via');
    if (all.length === 0) return fail('missing Via header');
    if (all.length === 1) return parseVia(all[0]);
    const out: Via[] = [];
    for (const v of all) {
      const r = parseVia(v);
      if (!r.ok) return r;
      for (const x of r.value) out.push(x);
    }
    return ok(out);
  }

  topVia(): ParseResult<Via> {
    const v = this.vias();
    return v.ok ? ok(v.value[0]) : v;
  }

  from(): ParseResult<NameAddr> {
    return (this.fromAddr ??= this.nameAddr('From'));
  }

  to(): ParseResult<NameAddr> {
    return (this.toAddr ??= this.nameAddr('To'));
  }

  callId(): ParseResult<string> {
    return (this.callIdValue ??= this.parseCallId());
  }

  private parseCallId(): ParseResult<string> {
    const v = this.single('Call-ID', false);
    if (!v.ok) return v;
    const id = v.value ?? '';
    if (id.length === 0 || /[\s]/.test(id)) return fail(`bad Call-ID '${id}'`);
    return ok(id);
  }

  cseq(): ParseResult<CSeq> {
    if (this.cseqValue === undefined) {
      const v = this.single('CSeq', false);
      this.cseqValue = v.ok ? parseCSeq(v.value ?? '') : v;
    }
    return this.cseqValue;
  }

  contacts(): ParseResult<ContactValue[]> {
    return (this.contactList ??= this.parseContactList());
  }

  private parseContactList(): ParseResult<ContactValue[]> {
    const out: ContactValue[] = [];
    for (const v of this.getAll('contact')) {
      const r = parseContacts(v);
      if (!r.ok) return r;
      for (const c of r.value) out.push(c);
    }
    if (out.length > 1 && out.some((c) => c.star)) return fail('Contact * must stand alone');
    return ok(out);
  }

  private optionalInt(name: string, max: number): ParseResult<number | null> {
    const v = this.single(name, true);
    if (!v.ok) return v;
    return v.value === undefined ? ok(null) : parseIntRange(v.value, 0, max, name);
  }

  maxForwards(): ParseResult<number | null> {
    return (this.maxForwardsValue ??= this.optionalInt('Max-Forwards', 255));
  }

  expires(): ParseResult<number | null> {
    return (this.expiresValue ??= this.optionalInt('Expires', 2 ** 32 - 1));
  }

  contentType(): string | undefined {
    return this.get('content-type');
  }

  /** the body as UTF-8 text, decoded once (a KDMQ body is read by the checker and its channel) */
  bodyText(): string {
    // an empty body (every reply on a data channel) needs no decoder call
    return (this.text ??= this.body.length === 0 ? '' : utf8.decode(this.body));
  }
}

export class ParsedRequest extends MessageBase implements SipRequest {
  readonly kind = 'request' as const;
  constructor(
    readonly method: string,
    readonly requestUriText: string,
    readonly version: string,
    headers: readonly RawHeader[],
    body: Uint8Array,
  ) {
    super(headers, body);
  }

  private uri: ParseResult<SipUri> | undefined;

  requestUri(): ParseResult<SipUri> {
    return (this.uri ??= parseUri(this.requestUriText));
  }
}

export class ParsedResponse extends MessageBase implements SipResponse {
  readonly kind = 'response' as const;
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly version: string,
    headers: readonly RawHeader[],
    body: Uint8Array,
  ) {
    super(headers, body);
  }
}
