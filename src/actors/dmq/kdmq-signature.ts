// The X-KDMQ-Sig header between kdmq nodes (issue "Hostile networks" item 2): an HMAC-SHA256 over
// the request line, From, To, Call-ID, CSeq, Content-Type, a timestamp, the key id and the body.
// `X-KDMQ-Sig: kid=<id>;ts=<unix seconds>;sig=<64 hex>`. Kamailio ignores unknown headers, so
// signed requests are harmless to it. Pure: the HMAC itself is the caller's (crypto port).

export const SIG_HEADER = 'X-KDMQ-Sig';

export interface SigFields {
  kid: string;
  ts: number;
  sig: string;
}

/** what the signature covers, each header value as written (trimmed) */
export interface SignedParts {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: string;
  contentType: string;
  body: string;
}

export const KID_RE = /^[A-Za-z0-9._-]{1,32}$/;

/** the exact bytes the HMAC is computed over (one field per line, the body last) */
export function canonical(p: SignedParts, kid: string, ts: number): string {
  return [`${p.method} ${p.uri}`, p.from, p.to, p.callId, p.cseq, p.contentType, String(ts), kid, p.body].map((s, i) => (i < 8 ? s.trim() : s)).join('\n');
}

export function formatSig(f: SigFields): string {
  return `kid=${f.kid};ts=${f.ts};sig=${f.sig}`;
}

/** parse a header value; null when any field is missing or malformed (never throws) */
export function parseSig(v: string | undefined): SigFields | null {
  if (v === undefined || v.length > 200) return null;
  const m = new Map<string, string>();
  for (const part of v.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    m.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const kid = m.get('kid');
  const ts = m.get('ts');
  const sig = m.get('sig');
  if (kid === undefined || !KID_RE.test(kid) || ts === undefined || !/^\d{1,12}$/.test(ts) || sig === undefined || !/^[0-9a-f]{64}$/.test(sig)) return null;
  return { kid, ts: Number(ts), sig };
}

/** constant-time comparison of two equal-length hex strings */
export function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
