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
  private keys: string[] | undefined;
  private cache: Map<string, ParseResult<unknown>> | undefined;

  constructor(
    readonly headers: readonly RawHeader[],
    readonly body: Uint8Array,
  ) {}

  getAll(name: string): string[] {
    const key = headerKey(name);
    let keys = this.keys;
    if (keys === undefined) {
      keys = this.headers.map((h) => headerKey(h.name));
      this.keys = keys;
    }
    const out: string[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) out.push(this.headers[i].value);
    return out;
  }

  get(name: string): string | undefined {
    const all = this.getAll(name);
    return all.length > 0 ? all[0] : undefined;
  }

  has(name: string): boolean {
    return this.getAll(name).length > 0;
  }

  protected memo<T>(key: string, compute: () => ParseResult<T>): ParseResult<T> {
    this.cache ??= new Map();
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit as ParseResult<T>;
    const r = compute();
    this.cache.set(key, r);
    return r;
  }

  /** The single value of a header that may appear once; error when missing or repeated. */
  private single(name: string, missingOk: boolean): ParseResult<string | undefined> {
    const all = this.getAll(name);
    if (all.length > 1) return fail(`several ${name} headers`);
    if (all.length === 0 && !missingOk) return fail(`missing ${name} header`);
    return ok(all[0]);
  }

  private nameAddr(name: string): ParseResult<NameAddr> {
    return this.memo(name, () => {
      const v = this.single(name, false);
      if (!v.ok) return v;
      const r = parseNameAddr(v.value ?? '');
      return r.ok ? r : fail(`bad ${name}: ${r.error}`);
    });
  }

  vias(): ParseResult<Via[]> {
    return this.memo('Via', () => {
      const all = this.getAll('via');
      if (all.length === 0) return fail('missing Via header');
      const out: Via[] = [];
      for (const v of all) {
        const r = parseVia(v);
        if (!r.ok) return r;
        for (const x of r.value) out.push(x);
      }
      return ok(out);
    });
  }

  topVia(): ParseResult<Via> {
    const v = this.vias();
    return v.ok ? ok(v.value[0]) : v;
  }

  from(): ParseResult<NameAddr> {
    return this.nameAddr('From');
  }

  to(): ParseResult<NameAddr> {
    return this.nameAddr('To');
  }

  callId(): ParseResult<string> {
    return this.memo('Call-ID', () => {
      const v = this.single('Call-ID', false);
      if (!v.ok) return v;
      const id = v.value ?? '';
      if (id.length === 0 || /[\s]/.test(id)) return fail(`bad Call-ID '${id}'`);
      return ok(id);
    });
  }

  cseq(): ParseResult<CSeq> {
    return this.memo('CSeq', () => {
      const v = this.single('CSeq', false);
      return v.ok ? parseCSeq(v.value ?? '') : v;
    });
  }

  contacts(): ParseResult<ContactValue[]> {
    return this.memo('Contact', () => {
      const out: ContactValue[] = [];
      for (const v of this.getAll('contact')) {
        const r = parseContacts(v);
        if (!r.ok) return r;
        for (const c of r.value) out.push(c);
      }
      if (out.length > 1 && out.some((c) => c.star)) return fail('Contact * must stand alone');
      return ok(out);
    });
  }

  private optionalInt(name: string, max: number): ParseResult<number | null> {
    return this.memo(name, () => {
      const v = this.single(name, true);
      if (!v.ok) return v;
      return v.value === undefined ? ok(null) : parseIntRange(v.value, 0, max, name);
    });
  }

  maxForwards(): ParseResult<number | null> {
    return this.optionalInt('Max-Forwards', 255);
  }

  expires(): ParseResult<number | null> {
    return this.optionalInt('Expires', 2 ** 32 - 1);
  }

  contentType(): string | undefined {
    return this.get('content-type');
  }

  private text: string | undefined;

  /** the body as UTF-8 text, decoded once (a KDMQ body is read by the checker and its channel) */
  bodyText(): string {
    return (this.text ??= utf8.decode(this.body));
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

  requestUri(): ParseResult<SipUri> {
    return this.memo('Request-URI', () => parseUri(this.requestUriText));
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
