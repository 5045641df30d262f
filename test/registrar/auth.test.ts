// Digest authentication of REGISTER (RFC 8760 SHA-256 and MD5) as Kamailio's auth_check +
// auth_challenge: challenge, success, 401 again for a wrong password or an unknown user, 403 for a
// foreign AoR, stale=true for an old or replayed nonce (nc), 500 when the subscriber store fails.
// node:crypto is the hash port here.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuth, parseDigest, parseUsers, type AuthOptions, type DigestAlg } from '../../src/registrar/auth.ts';
import { MemorySubscribers } from '../../src/registrar/subscribers.ts';
import type { LogLevel } from '../../src/ports/log.ts';
import { header, req, register, setup, SRC } from './helpers.ts';

const hash = (alg: DigestAlg, text: string) => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');
const USERS = parseUsers([
  '# users',
  'user1@lab.local:secret1',
  `bob@lab.local:md5:${hash('MD5', 'bob:lab.local:pw')}`,
  `bob@lab.local:sha256:${hash('SHA-256', 'bob:lab.local:pw')}`,
].join('\n'));

function withAuth(o: Partial<AuthOptions> = {}) {
  const logs: Array<[LogLevel, string, Record<string, unknown> | undefined]> = [];
  let auth!: DigestAuth;
  const s = setup({}, (clock) => {
    auth = new DigestAuth({ users: USERS, hash, clock, secret: 'node-secret', algorithms: ['SHA-256', 'MD5'], log: { log: (l, m, f) => logs.push([l, m, f]) }, ...o });
    return { auth };
  });
  return { ...s, auth, logs };
}

interface Cred { user: string; pw: string; nonce: string; alg?: DigestAlg; uri?: string; nc?: string; qop?: boolean; realm?: string; username?: string }

function authorization(c: Cred): string {
  const alg = c.alg ?? 'MD5';
  const H = (t: string) => hash(alg, t);
  const realm = c.realm ?? 'lab.local';
  const uri = c.uri ?? 'sip:lab.local';
  const username = c.username ?? c.user;
  const ha1 = H(`${username}:${realm}:${c.pw}`);
  const nc = c.nc ?? '00000001';
  const qop = c.qop ?? true;
  const resp = qop ? H(`${ha1}:${c.nonce}:${nc}:abc:auth:${H(`REGISTER:${uri}`)}`) : H(`${ha1}:${c.nonce}:${H(`REGISTER:${uri}`)}`);
  const q = qop ? `, cnonce="abc", qop=auth, nc=${nc}` : '';
  return `Authorization: Digest username="${username}", realm="${realm}", nonce="${c.nonce}", uri="${uri}", response="${resp}", algorithm=${alg}${q}`;
}

function nonceOf(r: { headers: Array<[string, string]> }): string {
  return parseDigest(header(r, 'WWW-Authenticate')!)!.nonce!;
}

describe('digest authentication', () => {
  it('parses users files', () => {
    expect(USERS.get('user1@lab.local')?.password).toBe('secret1');
    expect(Object.keys(USERS.get('bob@lab.local')!.ha1!)).toEqual(['MD5', 'SHA-256']);
  });

  it('challenges with the configured algorithms in order, qop=auth, a new nonce each time; MD5 alone by default', () => {
    const { send } = withAuth();
    const r = send({});
    expect(r.status).toBe(401);
    const www = r.headers.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
    expect(www.map((v) => parseDigest(v)!.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(www[0]).toContain('realm="lab.local"');
    expect(parseDigest(www[0])!.qop).toBe('auth');
    expect(nonceOf(send({}))).not.toBe(nonceOf(r));
    const d = withAuth({ algorithms: undefined });
    expect(d.send({}).headers.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => parseDigest(v)!.algorithm)).toEqual(['MD5']);
  });

  for (const alg of ['SHA-256', 'MD5'] as const) {
    it(`accepts good ${alg} credentials (password and HA1 entries)`, () => {
      const { send, store } = withAuth();
      const n = nonceOf(send({}));
      expect(send({ extra: [authorization({ alg, user: 'user1', pw: 'secret1', nonce: n })] }).status).toBe(200);
      const m = nonceOf(send({ user: 'bob' })); // a nonce serves one client: nc 1 of n is used
      expect(send({ user: 'bob', extra: [authorization({ alg, user: 'bob', pw: 'pw', nonce: m })] }).status).toBe(200);
      expect(store.contactCount()).toBe(2);
    });
  }

  it('a wrong password or an unknown user gets a fresh 401 challenge (Kamailio: auth_check -2/-3, then auth_challenge)', () => {
    const { send, store, auth } = withAuth();
    const n = nonceOf(send({}));
    const r = send({ extra: [authorization({ alg: 'SHA-256', user: 'user1', pw: 'nope', nonce: n })] });
    expect(r.status).toBe(401);
    expect(header(r, 'WWW-Authenticate')).not.toContain('stale');
    expect(nonceOf(r)).not.toBe(n);
    expect(send({ user: 'carol', extra: [authorization({ user: 'carol', pw: 'x', nonce: n })] }).status).toBe(401);
    expect(store.contactCount()).toBe(0);
    expect(auth.stats.failures).toMatchObject({ bad_password: 1, unknown_user: 1 });
  });

  it('403 when a user registers another AoR', () => {
    const { reg } = withAuth();
    const n = nonceOf(reg.handleRegister(req(register({ user: 'bob' })), SRC));
    const text = register({ user: 'bob', extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n })] });
    expect(reg.handleRegister(req(text), SRC).status).toBe(403);
  });

  it('401 stale=true for an old nonce with good credentials; a forged nonce gets a fresh challenge', () => {
    const { send, clock } = withAuth();
    const n = nonceOf(send({}));
    clock.advance(301_000);
    const r = send({ extra: [authorization({ alg: 'SHA-256', user: 'user1', pw: 'secret1', nonce: n })] });
    expect(r.status).toBe(401);
    expect(header(r, 'WWW-Authenticate')).toContain('stale=true');
    const forged = send({ extra: [authorization({ alg: 'SHA-256', user: 'user1', pw: 'secret1', nonce: 'abc.0.0123' })] });
    expect([forged.status, header(forged, 'WWW-Authenticate')?.includes('stale')]).toEqual([401, false]);
  });

  it('refuses a replayed nc (stale=true) and accepts a higher one; without qop a nonce serves once', () => {
    const { send } = withAuth();
    const n = nonceOf(send({}));
    const one = authorization({ user: 'user1', pw: 'secret1', nonce: n });
    expect(send({ cseq: 2, extra: [one] }).status).toBe(200);
    const replay = send({ cseq: 3, extra: [one] });
    expect([replay.status, header(replay, 'WWW-Authenticate')?.includes('stale=true')]).toEqual([401, true]);
    expect(send({ cseq: 4, extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n, nc: '00000003' })] }).status).toBe(200);
    expect(send({ cseq: 5, extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n, nc: '00000002' })] }).status).toBe(401);
    const m = nonceOf(send({}));
    const plain = authorization({ user: 'user1', pw: 'secret1', nonce: m, qop: false });
    expect(send({ cseq: 6, extra: [plain] }).status).toBe(200);
    expect(send({ cseq: 7, extra: [plain] }).status).toBe(401);
  });

  it('a nonce issued before this start is stale even with the same secret', () => {
    const a = withAuth();
    const n = nonceOf(a.send({}));
    a.clock.advance(2000);
    const b = new DigestAuth({ users: USERS, hash, clock: a.clock, secret: 'node-secret' });
    const r = b.check(req(register({ extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n })] })), 'user1@lab.local');
    expect(r.ok ? 200 : [r.result.status, header(r.result, 'WWW-Authenticate')?.includes('stale=true')]).toEqual([401, true]);
  });

  it('the store failing gives 500 and a log line at most every 10 s with the count of the others; recovery is at once', () => {
    const src = new MemorySubscribers(USERS);
    const { send, logs, clock } = withAuth({ users: undefined, source: src });
    const n = nonceOf(send({}));
    src.failWith = 'database is locked';
    const cred = (nc: string) => [authorization({ user: 'user1', pw: 'secret1', nonce: n, nc })];
    expect(send({ extra: cred('00000001') }).status).toBe(500);
    expect(send({ extra: cred('00000002') }).status).toBe(500);
    clock.advance(10_000);
    expect(send({ extra: cred('00000003') }).status).toBe(500);
    const errors = logs.filter(([l]) => l === 'error');
    expect(errors.map(([, m, f]) => [m, f?.error, f?.suppressed])).toEqual([
      ['auth: subscriber lookup failed, REGISTER answered 500', 'database is locked', 0],
      ['auth: subscriber lookup failed, REGISTER answered 500', 'database is locked', 1],
    ]);
    src.failWith = null;
    expect(send({ extra: cred('00000004') }).status).toBe(200);
  });

  it('a username with @domain: HA1 over the whole username; the user part must be the AoR user; sipsak\'s "user@" works with a password', () => {
    const { send } = withAuth();
    const n = nonceOf(send({}));
    expect(send({ extra: [authorization({ user: 'user1', username: 'user1@lab.local', pw: 'secret1', nonce: n })] }).status).toBe(200);
    expect(send({ cseq: 2, extra: [authorization({ user: 'user1', username: 'user1@', pw: 'secret1', nonce: n, nc: '00000002' })] }).status).toBe(200);
    // bob has HA1s only: H(bob@lab.local:…) is not among them
    expect(send({ user: 'bob', extra: [authorization({ user: 'bob', username: 'bob@lab.local', pw: 'pw', nonce: n })] }).status).toBe(401);
  });

  it('a fixed realm: challenged with it, credentials for another realm are not looked at', () => {
    const users = parseUsers('user1@example.org:secret1');
    const { send } = withAuth({ users, realm: 'example.org' });
    const r = send({});
    expect(header(r, 'WWW-Authenticate')).toContain('realm="example.org"');
    const n = nonceOf(r);
    expect(send({ extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n, realm: 'example.org' })] }).status).toBe(200);
    const other = send({ cseq: 2, extra: [authorization({ user: 'user1', pw: 'secret1', nonce: n, realm: 'lab.local', nc: '00000002' })] });
    expect(other.status).toBe(401);
  });

  it('an algorithm not offered gets a challenge; an Authorization without its parameters gets 400', () => {
    const { send } = withAuth({ algorithms: ['MD5'] });
    const n = nonceOf(send({}));
    expect(send({ extra: [authorization({ alg: 'SHA-256', user: 'user1', pw: 'secret1', nonce: n })] }).status).toBe(401);
    expect(send({ extra: [`Authorization: Digest username="user1", realm="lab.local", nonce="${n}"`] }).status).toBe(400);
    expect(send({ extra: [`Authorization: Digest username="user1", realm="lab.local", nonce="${n}", uri="sip:lab.local", response="00", qop=auth`] }).status).toBe(400);
  });
});
