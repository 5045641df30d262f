// RFC 3261 §10.3, one describe per step, REGISTER texts in, replies and store contents out.
import { describe, expect, it } from 'vitest';
import { header, req, register, setup, SRC, T0 } from './helpers.ts';

describe('§10.3 step 1-2: Request-URI and Require', () => {
  it('accepts any Request-URI domain', () => {
    const { send } = setup();
    expect(send({ domain: 'other.example' }).status).toBe(200);
  });
  it('rejects an unsupported Require with 420 and Unsupported', () => {
    const { send, store } = setup();
    const r = send({ extra: ['Require: gruu, path'] });
    expect(r.status).toBe(420);
    expect(header(r, 'Unsupported')).toBe('gruu');
    expect(store.contactCount()).toBe(0);
  });
});

describe('§10.3 step 5: AoR from To', () => {
  it('use_domain=false keys by user only', () => {
    const { send, store } = setup();
    send({ user: 'alice', domain: 'LAB.local' });
    expect([...store.aors.keys()]).toEqual(['alice']);
  });
  it('use_domain=true keys by user@host with the host lower-cased', () => {
    const { send, store } = setup({ use_domain: true });
    send({ user: 'Alice', domain: 'LAB.Local' });
    expect([...store.aors.keys()]).toEqual(['Alice@lab.local']);
  });
  it('a To without user is a 400', () => {
    const { reg } = setup();
    const text = register({}).replace('To: <sip:user1@lab.local>', 'To: <sip:lab.local>');
    expect(reg.handleRegister(req(text), SRC).status).toBe(400);
  });
});

describe('§10.3 step 6: Contact *', () => {
  it('* with Expires 0 removes every binding', () => {
    const { send, store } = setup();
    send({ contacts: ['<sip:a@1.1.1.1>', '<sip:b@1.1.1.1>'] });
    const r = send({ cseq: 2, contacts: ['*'], expires: 0 });
    expect(r.status).toBe(200);
    expect(header(r, 'Contact')).toBeUndefined();
    expect(store.contactCount()).toBe(0);
  });
  it('* with Expires other than 0 is a 400', () => {
    const { send } = setup();
    const r = send({ contacts: ['*'], expires: 300 });
    expect(r.status).toBe(400);
    expect(header(r, 'P-Registrar-Error')).toBe('* used in contact and expires is not zero');
  });
  it('* with other contacts is a 400', () => {
    const { send } = setup();
    expect(send({ contacts: ['*', '<sip:a@1.1.1.1>'], expires: 0 }).status).toBe(400);
  });
  it('* with the same Call-ID and a CSeq not higher fails and keeps everything', () => {
    const { send, store } = setup();
    send({ cseq: 5 });
    expect(send({ cseq: 5, contacts: ['*'], expires: 0 }).status).toBe(400);
    expect(store.contactCount()).toBe(1);
  });
});

describe('§10.3 step 7: each contact', () => {
  it('expires: contact param, else Expires header, else default_expires', () => {
    const { send, store } = setup({ default_expires: 1200 });
    send({ contacts: ['<sip:a@1.1.1.1>;expires=100', '<sip:b@1.1.1.1>'], expires: 200 });
    send({ user: 'u2', contacts: ['<sip:c@1.1.1.1>'], expires: null });
    const now = T0 / 1000;
    expect(store.get('user1').map((b) => [b.c, b.expires - now]).sort()).toEqual([['sip:a@1.1.1.1', 100], ['sip:b@1.1.1.1', 200]]);
    expect(store.get('u2')[0].expires - now).toBe(1200);
  });
  it('below min_expires (not 0) → 423 with Min-Expires, nothing stored', () => {
    const { send, store } = setup({ min_expires: 60 });
    const r = send({ expires: 30 });
    expect([r.status, r.reason, header(r, 'Min-Expires')]).toEqual([423, 'Interval Too Brief', '60']);
    expect(store.contactCount()).toBe(0);
  });
  it('above max_expires → clamped', () => {
    const { send, store } = setup({ max_expires: 3600 });
    const r = send({ expires: 7200 });
    expect(header(r, 'Contact')).toBe('<sip:user1@127.0.0.20:5070>;expires=3600');
    expect(store.get('user1')[0].expires).toBe(T0 / 1000 + 3600);
  });
  it('Expires 0 removes that contact only', () => {
    const { send, store, changes } = setup();
    send({ contacts: ['<sip:a@1.1.1.1>', '<sip:b@1.1.1.1>'] });
    send({ cseq: 2, contacts: ['<sip:a@1.1.1.1>'], expires: 0 });
    expect(store.get('user1').map((b) => b.c)).toEqual(['sip:b@1.1.1.1']);
    expect(changes.map((c) => c.kind)).toEqual(['insert', 'insert', 'delete']);
  });
  it('same Call-ID with a CSeq not higher → 400 Invalid CSeq number, no change (atomic)', () => {
    const { send, store } = setup();
    send({ cseq: 3, contacts: ['<sip:a@1.1.1.1>'] });
    const r = send({ cseq: 3, contacts: ['<sip:new@1.1.1.1>', '<sip:a@1.1.1.1>'], expires: 600 });
    expect([r.status, header(r, 'P-Registrar-Error')]).toEqual([400, 'Invalid CSeq number']);
    expect(store.get('user1').map((b) => [b.c, b.cseq, b.expires - T0 / 1000])).toEqual([['sip:a@1.1.1.1', 3, 300]]);
    expect(send({ cseq: 2, contacts: ['<sip:a@1.1.1.1>'] }).status).toBe(400);
  });
  it('a new Call-ID for a known contact replaces the binding (same ruid)', () => {
    const { send, store, changes } = setup();
    send({ callId: 'one', cseq: 9 });
    const ruid = store.get('user1')[0].ruid;
    expect(send({ callId: 'two', cseq: 1, expires: 600 }).status).toBe(200);
    const b = store.get('user1')[0];
    expect([b.ruid, b.callId, b.cseq, store.contactCount()]).toEqual([ruid, 'two', 1, 1]);
    expect(changes.at(-1)?.kind).toBe('update');
  });
  it('stores received when the source differs from the contact host:port', () => {
    const { send, store } = setup();
    send({ contacts: ['<sip:a@10.0.0.1:5070>'] }, { host: '192.0.2.7', port: 40000 });
    send({ user: 'u2', contacts: ['<sip:u2@127.0.0.20:5070>'] });
    expect(store.get('user1')[0].received).toBe('sip:192.0.2.7:40000');
    expect(store.get('u2')[0].received).toBe('');
    const r = send({ cseq: 2, contacts: ['<sip:a@10.0.0.1:5070>'] }, { host: '192.0.2.7', port: 40000 });
    expect(header(r, 'Contact')).toBe('<sip:a@10.0.0.1:5070>;expires=300;received="sip:192.0.2.7:40000"');
  });
  it('stores Path only with Supported: path, and echoes it', () => {
    const { send, store } = setup();
    send({ extra: ['Path: <sip:edge.example;lr>'] });
    expect(store.get('user1')[0].path).toBe('');
    const r = send({ cseq: 2, extra: ['Supported: path', 'Path: <sip:edge.example;lr>'] });
    expect(store.get('user1')[0].path).toBe('<sip:edge.example;lr>');
    expect(header(r, 'Path')).toBe('<sip:edge.example;lr>');
  });
  it('+sip.instance/reg-id match by instance, not by URI (RFC 5626)', () => {
    const { send, store } = setup();
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
    send({ contacts: [`<sip:a@1.1.1.1:5000>;${inst}`] });
    send({ cseq: 2, contacts: [`<sip:a@1.1.1.1:6000>;${inst}`] });
    const list = store.get('user1');
    expect(list.map((b) => [b.c, b.instance, b.regId])).toEqual([
      ['sip:a@1.1.1.1:6000', '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>', 1],
    ]);
  });
  it('q, User-Agent (n/a when absent), methods from Allow', () => {
    const { reg, store } = setup();
    const text = register({ contacts: ['<sip:a@1.1.1.1>;q=0.5'], extra: ['Allow: INVITE, ACK, BYE, FOO'] }).replace('User-Agent: sipp-lab\r\n', '');
    reg.handleRegister(req(text), SRC);
    const b = store.get('user1')[0];
    expect([b.q, b.userAgent, b.methods]).toEqual([500, 'n/a', 1 | 4 | 8 | 524288]);
  });
  it('max_contacts: one too many → 503 Too many registered contacts, nothing stored', () => {
    const { send, store } = setup({ max_contacts: 2 });
    send({ contacts: ['<sip:a@1.1.1.1>', '<sip:b@1.1.1.1>'] });
    const r = send({ cseq: 2, contacts: ['<sip:c@1.1.1.1>'] });
    expect([r.status, r.reason, header(r, 'P-Registrar-Error')]).toEqual([503, 'Service Unavailable', 'Too many registered contacts']);
    expect(store.contactCount()).toBe(2);
    expect(send({ cseq: 3, contacts: ['<sip:a@1.1.1.1>;expires=0', '<sip:c@1.1.1.1>'] }).status).toBe(200);
  });
  it('ruids are unique per node and deterministic given the ports', () => {
    const a = setup();
    const b = setup();
    for (const s of [a, b]) s.send({ contacts: ['<sip:a@1.1.1.1>', '<sip:b@1.1.1.1>'] });
    const ra = a.store.get('user1').map((x) => x.ruid);
    expect(ra).toEqual(b.store.get('user1').map((x) => x.ruid));
    expect(new Set(ra).size).toBe(2);
    expect(ra[0]).toMatch(/^uloc-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/);
  });
});

describe('§10.3 step 8: the 200 OK', () => {
  it('lists every current binding with its remaining expires and a Date', () => {
    const { send, clock } = setup({}, { save_received: false });
    send({ contacts: ['<sip:user1@127.0.0.20:5070>'] });
    clock.advance(6_000);
    const r = send({ cseq: 2, contacts: ['<sip:user1@127.0.0.20:5075>'] });
    // trace register/D: old contact first with what is left, the new one after it
    expect(header(r, 'Contact')).toBe('<sip:user1@127.0.0.20:5070>;expires=294, <sip:user1@127.0.0.20:5075>;expires=300');
    expect(header(r, 'Date')).toBe(new Date(T0 + 6_000).toUTCString());
  });
  it('a two-contact REGISTER lists them as Kamailio does (trace register/B)', () => {
    const { send, store } = setup({}, { save_received: false });
    const r = send({ user: 'multi1', contacts: ['<sip:multi1@127.0.0.20:5071>, <sip:multi1@127.0.0.20:5072>'] });
    expect(header(r, 'Contact')).toBe('<sip:multi1@127.0.0.20:5072>;expires=300, <sip:multi1@127.0.0.20:5071>;expires=300');
    const [x, y] = store.get('multi1');
    expect(x.ruid < y.ruid).toBe(true);
  });
});
