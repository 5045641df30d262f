// usrloc body codec (protocol reference §5.3, §5.4, §5.6, §5.7): round trip, Kamailio's key order and
// srjson printing, first-key `multi` dispatch, refusals, batching under real byte limits, never-throws.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchUsrlocContacts,
  formatUsrlocBody,
  parseUsrlocBody,
  type UsrlocContact,
  type UsrlocMessage,
} from '../../../src/actors/channels/usrloc-body.ts';

const num = fc.oneof(fc.integer(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, -1, 4294967295), fc.maxSafeInteger());
const str = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'n/a', 'a"b\\c', '\u0001\n\t/é'));
const contactArb: fc.Arbitrary<UsrlocContact> = fc.record(
  {
    aor: str, ruid: str, c: str, received: str, path: str, callid: str, user_agent: str, instance: str,
    expires: num, cseq: num, flags: num, cflags: num, q: num, last_modified: num, methods: num, reg_id: num, server_id: num,
    sock: str,
  },
  { requiredKeys: ['aor', 'ruid', 'c', 'received', 'path', 'callid', 'user_agent', 'instance', 'expires', 'cseq', 'flags',
    'cflags', 'q', 'last_modified', 'methods', 'reg_id', 'server_id'] },
);
const messageArb: fc.Arbitrary<UsrlocMessage> = fc.oneof(
  fc.constant({ action: 0 as const }),
  fc.constant({ action: 3 as const }),
  fc.record({ action: fc.constantFrom(1 as const, 2 as const), contact: contactArb }),
  fc.record({ multi: fc.array(contactArb, { minLength: 1, maxLength: 4 }) }),
  // a batch of changes (replication outbox): deletes at some indices, as Kamailio runs each entry as its own action
  fc.array(contactArb, { minLength: 2, maxLength: 4 }).chain((multi) =>
    fc.uniqueArray(fc.integer({ min: 0, max: multi.length - 1 }), { minLength: 1 }).map((d) => ({ multi, deletes: [...d].sort((a, b) => a - b) }))),
);

const alice: UsrlocContact = {
  aor: 'alice', ruid: 'uloc-6b0808a0-2d22-1', c: 'sip:alice@127.0.0.1:5079;transport=udp', received: '', path: '',
  callid: 'reg-call-1@127.0.0.1', user_agent: 'test-ua/1.0', instance: '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>',
  expires: 1795692230, cseq: 1, flags: 0, cflags: 0, q: -1, last_modified: 1795688630, methods: 4294967295, reg_id: 1, server_id: 0,
};
const ALICE_TEXT =
  '{"action":1,"aor":"alice","ruid":"uloc-6b0808a0-2d22-1","c":"sip:alice@127.0.0.1:5079;transport=udp","received":"","path":"",' +
  '"callid":"reg-call-1@127.0.0.1","user_agent":"test-ua/1.0","instance":"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",' +
  '"expires":1795692230,"cseq":1,"flags":0,"cflags":0,"q":-1,"last_modified":1795688630,"methods":4294967295,"reg_id":1,"server_id":0}';

/** no null anywhere, no empty object anywhere */
function clean(v: unknown): boolean {
  if (v === null) return false;
  if (Array.isArray(v)) return v.every(clean);
  if (typeof v === 'object') return Object.keys(v as object).length > 0 && Object.values(v as object).every(clean);
  return true;
}

describe('usrloc body round trip and exact format', () => {
  it('parse(format(m)) = m, and the text never holds null or {}', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const text = formatUsrlocBody(m);
        expect(clean(JSON.parse(text))).toBe(true);
        const r = parseUsrlocBody(text);
        expect(r).toEqual({ ok: true, value: m });
        if (r.ok) expect(formatUsrlocBody(r.value)).toBe(text);
      }),
    );
  });

  it('writes §5.3 byte for byte, sock between received and path', () => {
    expect(formatUsrlocBody({ action: 1, contact: alice })).toBe(ALICE_TEXT);
    expect(formatUsrlocBody({ action: 1, contact: { ...alice, sock: 'udp:127.0.0.1:5071' } })).toContain(
      '"received":"","sock":"udp:127.0.0.1:5071","path":""',
    );
    expect(formatUsrlocBody({ action: 3 })).toBe('{"action":3}');
    expect(formatUsrlocBody({ multi: [alice, alice] })).toBe(`{"multi":{"1":${ALICE_TEXT},"2":${ALICE_TEXT}}}`);
  });

  it('escapes strings as srjson does and prints integral numbers without decimals', () => {
    const t = formatUsrlocBody({ action: 2, contact: { ...alice, aor: 'a"b\\c\u0001\n/é', expires: 2 ** 40, q: -1 } });
    expect(t).toContain('"aor":"a\\"b\\\\c\\u0001\\n/é"');
    expect(t).toContain('"expires":1099511627776');
  });

  it('an empty multi is written as the no-op {"action":0}, never {"multi":{}}', () => {
    expect(formatUsrlocBody({ multi: [] })).toBe('{"action":0}');
  });
});

describe('usrloc body reader', () => {
  it('decides multi by the FIRST key only', () => {
    expect(parseUsrlocBody(`{"multi":{"1":${ALICE_TEXT}},"action":3}`)).toEqual({ ok: true, value: { multi: [alice] } });
    expect(parseUsrlocBody(`{"action":3,"multi":{"1":${ALICE_TEXT}}}`)).toEqual({ ok: true, value: { action: 3 } });
  });

  it('tolerates unknown keys (newer versions send sockname, xavps)', () => {
    const t = ALICE_TEXT.replace('"server_id":0}', '"server_id":0,"sockname":"s1","xavps":{"a":[1]}}');
    expect(parseUsrlocBody(t)).toEqual({ ok: true, value: { action: 1, contact: alice } });
  });

  it('truncates fractions as the C cast does', () => {
    const r = parseUsrlocBody(ALICE_TEXT.replace('"cseq":1,', '"cseq":7.9,'));
    expect(r.ok && 'contact' in r.value && r.value.contact.cseq).toBe(7);
  });

  it('a multi entry may be a delete (action 2): its index is in `deletes`', () => {
    const text = `{"multi":{"1":${ALICE_TEXT},"2":${ALICE_TEXT.replace('"action":1', '"action":2')}}}`;
    expect(parseUsrlocBody(text)).toEqual({ ok: true, value: { multi: [alice, alice], deletes: [1] } });
    expect(formatUsrlocBody({ multi: [alice, alice], deletes: [1] })).toBe(text);
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"action":'],
    ['array', '[{"action":3}]'],
    ['number', '3'],
    ['null', 'null'],
    ['empty object', '{}'],
    ['no action', '{"aor":"x"}'],
    ['action as string', '{"action":"3"}'],
    ['unknown action', '{"action":4}'],
    ['missing key', ALICE_TEXT.replace('"path":"",', '')],
    ['null string', ALICE_TEXT.replace('"path":""', '"path":null')],
    ['number as string', ALICE_TEXT.replace('"cseq":1', '"cseq":"1"')],
    ['string as number', ALICE_TEXT.replace('"aor":"alice"', '"aor":7')],
    ['sock not a string', ALICE_TEXT.replace('"path"', '"sock":1,"path"')],
    ['multi not an object', '{"multi":[1]}'],
    ['multi entry not an object', '{"multi":{"1":5}}'],
    ['multi entry is a sync request', '{"multi":{"1":{"action":3}}}'],
    ['multi entry incomplete', '{"multi":{"1":{"action":1}}}'],
  ])('refuses %s', (_n, text) => {
    const r = parseUsrlocBody(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
  });

  it('never throws, on any string or JSON value', () => {
    const keys = fc.constantFrom('action', 'multi', 'aor', 'ruid', 'expires', '1', '__proto__', 'constructor');
    const jsonish = fc.oneof(
      fc.json(),
      fc.dictionary(keys, fc.jsonValue()).map((o) => JSON.stringify(o)),
      fc.dictionary(keys, fc.dictionary(keys, fc.jsonValue())).map((o) => JSON.stringify({ multi: o })),
      fc.string({ unit: 'binary' }),
    );
    fc.assert(fc.property(jsonish, (s) => typeof parseUsrlocBody(s).ok === 'boolean'), { numRuns: 1000 });
  });
});

describe('batchUsrlocContacts', () => {
  it('keeps every body within both limits, in order, greedily packed', () => {
    fc.assert(
      fc.property(
        fc.array(contactArb, { maxLength: 30 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 300, max: 6000 }),
        (contacts, maxContacts, maxBytes) => {
          const { bodies, tooLarge } = batchUsrlocContacts(contacts, maxContacts, maxBytes);
          const back: UsrlocContact[] = [];
          const sizes: number[] = [];
          for (const b of bodies) {
            expect(Buffer.byteLength(b, 'utf8')).toBeLessThanOrEqual(maxBytes);
            const r = parseUsrlocBody(b);
            if (!r.ok || !('multi' in r.value)) throw new Error(`not a multi body: ${b}`);
            expect(r.value.multi.length).toBeGreaterThan(0);
            expect(r.value.multi.length).toBeLessThanOrEqual(maxContacts);
            sizes.push(r.value.multi.length);
            back.push(...r.value.multi);
          }
          for (const c of tooLarge) expect(Buffer.byteLength(formatUsrlocBody({ multi: [c] }))).toBeGreaterThan(maxBytes);
          expect(back).toEqual(contacts.filter((c) => !tooLarge.includes(c)));
          // greedy: a body was closed only because the next contact did not fit
          let at = 0;
          for (let i = 0; i + 1 < bodies.length; i++) {
            const next = back[at + sizes[i]!]!;
            const grown = formatUsrlocBody({ multi: [...back.slice(at, at + sizes[i]!), next] });
            expect(sizes[i] === maxContacts || Buffer.byteLength(grown) > maxBytes).toBe(true);
            at += sizes[i]!;
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('clamps to 150 contacts per body', () => {
    const many = Array.from({ length: 700 }, (_, i) => ({ ...alice, ruid: `r-${i}` }));
    const { bodies, tooLarge } = batchUsrlocContacts(many, 1000, 100000);
    expect(tooLarge).toEqual([]);
    expect(bodies.map((b) => { const r = parseUsrlocBody(b); return r.ok && 'multi' in r.value ? r.value.multi.length : -1; }))
      .toEqual([150, 150, 150, 150, 100]);
  });

  it('clamps to 60000 bytes per body and fills it', () => {
    const big = Array.from({ length: 200 }, (_, i) => ({ ...alice, ruid: `r-${i}`, path: 'é'.repeat(500) }));
    const { bodies, tooLarge } = batchUsrlocContacts(big, 150, 100000);
    expect(tooLarge).toEqual([]);
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies.slice(0, -1)) {
      expect(Buffer.byteLength(b)).toBeLessThanOrEqual(60000);
      expect(Buffer.byteLength(b)).toBeGreaterThan(60000 - 1500);
    }
  });

  it('reports a contact too large for any body instead of sending it', () => {
    const huge = { ...alice, path: 'x'.repeat(70000) };
    expect(batchUsrlocContacts([alice, huge, alice], 10, 60000)).toEqual({
      bodies: [formatUsrlocBody({ multi: [alice, alice] })],
      tooLarge: [huge],
    });
  });
});
