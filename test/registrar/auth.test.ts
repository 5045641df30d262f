// Digest authentication of REGISTER (RFC 8760 SHA-256 and MD5): challenge, success, 403 on bad
// credentials or a foreign AoR, stale=true for an old nonce. node:crypto is the hash port here.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuth, parseDigest, parseUsers, type DigestAlg } from '../../src/registrar/auth.ts';
import { header, req, register, setup, SRC } from './helpers.ts';

const hash = (alg: DigestAlg, text: string) => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');
const USERS = parseUsers([
  '# users',
  'user1@lab.local:secret1',
  `bob@lab.local:md5:${hash('MD5', 'bob:lab.local:pw')}`,
  `bob@lab.local:sha256:${hash('SHA-256', 'bob:lab.local:pw')}`,
].join('\n'));

function withAuth() {
  return setup({}, (clock) => ({ auth: new DigestAuth({ users: USERS, hash, clock, secret: 'node-secret' }) }));
}

function authorization(alg: DigestAlg, user: string, pw: string, nonce: string, uri = 'sip:lab.local'): string {
  const H = (t: string) => hash(alg, t);
  const ha1 = H(`${user}:lab.local:${pw}`);
  const resp = H(`${ha1}:${nonce}:00000001:abc:auth:${H(`REGISTER:${uri}`)}`);
  return `Authorization: Digest username="${user}", realm="lab.local", nonce="${nonce}", uri="${uri}", response="${resp}", algorithm=${alg}, cnonce="abc", qop=auth, nc=00000001`;
}

function nonceOf(r: { headers: Array<[string, string]> }): string {
  return parseDigest(header(r, 'WWW-Authenticate')!)!.nonce!;
}

describe('digest authentication', () => {
  it('parses users files', () => {
    expect(USERS.get('user1@lab.local')?.password).toBe('secret1');
    expect(Object.keys(USERS.get('bob@lab.local')!.ha1!)).toEqual(['MD5', 'SHA-256']);
  });

  it('challenges with SHA-256 first, then MD5', () => {
    const { send } = withAuth();
    const r = send({});
    expect(r.status).toBe(401);
    const www = r.headers.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
    expect(www.map((v) => parseDigest(v)!.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(www[0]).toContain('realm="lab.local"');
  });

  for (const alg of ['SHA-256', 'MD5'] as const) {
    it(`accepts good ${alg} credentials (password and HA1 entries)`, () => {
      const { send, store } = withAuth();
      const n = nonceOf(send({}));
      expect(send({ extra: [authorization(alg, 'user1', 'secret1', n)] }).status).toBe(200);
      expect(send({ user: 'bob', extra: [authorization(alg, 'bob', 'pw', n)] }).status).toBe(200);
      expect(store.contactCount()).toBe(2);
    });
  }

  it('403 on a wrong password', () => {
    const { send, store } = withAuth();
    const n = nonceOf(send({}));
    expect(send({ extra: [authorization('SHA-256', 'user1', 'nope', n)] }).status).toBe(403);
    expect(store.contactCount()).toBe(0);
  });

  it('403 when a user registers another AoR', () => {
    const { reg } = withAuth();
    const n = nonceOf(reg.handleRegister(req(register({ user: 'bob' })), SRC));
    const text = register({ user: 'bob', extra: [authorization('MD5', 'user1', 'secret1', n)] });
    expect(reg.handleRegister(req(text), SRC).status).toBe(403);
  });

  it('401 stale=true for an old nonce with good credentials; a forged nonce gets a fresh challenge', () => {
    const { send, clock } = withAuth();
    const n = nonceOf(send({}));
    clock.advance(301_000);
    const r = send({ extra: [authorization('SHA-256', 'user1', 'secret1', n)] });
    expect(r.status).toBe(401);
    expect(header(r, 'WWW-Authenticate')).toContain('stale=true');
    const forged = send({ extra: [authorization('SHA-256', 'user1', 'secret1', 'abc.0123')] });
    expect([forged.status, header(forged, 'WWW-Authenticate')?.includes('stale')]).toEqual([401, false]);
  });
});
