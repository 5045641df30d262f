// Property: any sequence of REGISTERs (random contacts, Call-IDs, CSeqs, expires, `*`) for a few
// AoRs, with virtual time passing, leaves the store equal to a plain reference model of
// RFC 3261 §10.3 built from the same sequence (and gives the same status codes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG, setup } from './helpers.ts';

type Op =
  | { t: 'reg'; user: string; callId: string; cseq: number; contacts: Array<[string, number | null]>; hdr: number | null }
  | { t: 'star'; user: string; callId: string; cseq: number; hdr: number | null }
  | { t: 'wait'; s: number };

interface MB { callId: string; cseq: number; expires: number }
const cfg = { ...CONFIG, default_expires: 200, min_expires: 60, max_expires: 600, max_contacts: 3 };

/** the reference model: AoR → contact → binding, nothing else */
class Model {
  m = new Map<string, Map<string, MB>>();
  now = 0;
  live(user: string): Map<string, MB> {
    const b = this.m.get(user) ?? new Map<string, MB>();
    for (const [c, x] of b) if (x.expires <= this.now) b.delete(c);
    this.m.set(user, b);
    return b;
  }
  apply(op: Op): number {
    if (op.t === 'wait') { this.now += op.s; return 0; }
    const b = this.live(op.user);
    if (op.t === 'star') {
      if (op.hdr !== 0) return 400;
      for (const x of b.values()) if (x.callId === op.callId && op.cseq <= x.cseq) return 400;
      b.clear();
      return 200;
    }
    const next = new Map(b);
    const seen = new Set<string>();
    for (const [c, p] of [...op.contacts].reverse()) {
      if (seen.has(c)) continue;
      seen.add(c);
      let e = p ?? op.hdr ?? cfg.default_expires;
      if (e !== 0 && e < cfg.min_expires) return 423;
      e = Math.min(e, cfg.max_expires);
      const cur = b.get(c);
      if (cur && cur.callId === op.callId && op.cseq <= cur.cseq) return 400;
      if (e === 0) next.delete(c);
      else next.set(c, { callId: op.callId, cseq: op.cseq, expires: this.now + e });
    }
    if (next.size > cfg.max_contacts) return 503;
    this.m.set(op.user, next);
    return 200;
  }
  dump(): string[] {
    const out: string[] = [];
    for (const u of this.m.keys()) for (const [c, x] of this.live(u)) out.push(`${u} ${c} ${x.callId} ${x.cseq} ${x.expires}`);
    return out.sort();
  }
}

const user = fc.constantFrom('alice', 'bob', 'carol');
const callId = fc.constantFrom('c1', 'c2', 'c3');
const cseq = fc.integer({ min: 1, max: 6 });
const exp = fc.constantFrom(0, 30, 60, 120, 200, 900);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    t: fc.constant('reg' as const), user, callId, cseq, hdr: fc.option(exp, { nil: null }),
    contacts: fc.array(fc.tuple(fc.constantFrom('sip:a@h1', 'sip:b@h1', 'sip:c@h2', 'sip:d@h2'), fc.option(exp, { nil: null })), { minLength: 1, maxLength: 3 }),
  }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('star' as const), user, callId, cseq, hdr: fc.option(fc.constantFrom(0, 60), { nil: null }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('wait' as const), s: fc.integer({ min: 1, max: 150 }) }) },
);

describe('REGISTER sequences vs the reference model', () => {
  it('store and replies equal the model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { send, clock, store } = setup(cfg, { save_received: false });
        const model = new Model();
        model.now = clock.now() / 1000;
        for (const o of ops) {
          const want = model.apply(o);
          if (o.t === 'wait') clock.advance(o.s * 1000);
          else {
            const contacts = o.t === 'star' ? ['*'] : o.contacts.map(([c, p]) => (p === null ? `<${c}>` : `<${c}>;expires=${p}`));
            const r = send({ user: o.user, callId: o.callId, cseq: o.cseq, contacts, expires: o.hdr });
            expect(r.status).toBe(want);
          }
          const got = [...store.all()].map((b) => `${b.aor} ${b.c} ${b.callId} ${b.cseq} ${b.expires}`).sort();
          expect(got).toEqual(model.dump());
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 400) },
    );
  });
});
