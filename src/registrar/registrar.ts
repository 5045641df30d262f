// REGISTER processing as Kamailio's save("location"), step by step after RFC 3261 §10.3
// (steps 1–8), with Path (RFC 3327), +sip.instance/reg-id (RFC 5626) and optional digest
// authentication (RFC 8760). Plans every binding change first and commits only when all of
// them succeed (§10.3 "committed if and only if all binding updates and additions succeed").
import type { BindingEvent } from '../actors/location/binding-machine.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { ContactValue, SipRequest } from '../sip/types.ts';
import type { DigestAuth } from './auth.ts';
import { Binding, detach, methodsMask } from '../actors/location/binding.ts';
import { EI, fail, ok, type RegisterResult } from './reply.ts';
import { LocationStore, type BindingChange, type TakeEvent } from '../actors/location/store.ts';
import type { LimitGuard } from '../actors/channels/limits.ts';
import type { Faults } from '../ports/faults.ts';

export interface RegistrarConfig {
  default_expires: number;
  min_expires: number;
  /** 0 = no upper bound */
  max_expires: number;
  /** 0 = unlimited */
  max_contacts: number;
  use_domain: boolean;
}

export interface RegistrarOptions {
  clock: Clock;
  random: Random;
  config: RegistrarConfig;
  nodeId: string;
  onChange?: (c: BindingChange) => void;
  auth?: DigestAuth;
  /** how long deletes are remembered against late replicated updates (default 300 s) */
  tombstone_seconds?: number;
  /** core server_id stored with local bindings (default 0) */
  server_id?: number;
  /** the local socket ul.dump shows for local bindings, e.g. `udp:127.0.0.1:5060` */
  socket?: string;
  /**
   * store `received` when the source differs from the Contact's host:port (default true);
   * false = Kamailio without fix_nated_register, as in the lab traces
   */
  save_received?: boolean;
  /** limits.max_bindings (per node) and the refusal counters; absent = no node-wide limit */
  limits?: LimitGuard;
  /** the node's planted faults, for its location store (src/ports/faults.ts); absent = none */
  faults?: Faults;
}

export type { RegisterResult };

/** what every binding change of one REGISTER shares */
interface SaveContext {
  aor: string;
  callId: string;
  cseq: number;
  path: string;
  source: { host: string; port: number };
  req: SipRequest;
}

type Plan =
  | { op: 'insert'; b: Binding }
  | { op: 'update'; cur: Binding; ev: TakeEvent }
  | { op: 'remove'; cur: Binding };

export class Registrar {
  readonly store: LocationStore;
  readonly config: RegistrarConfig;
  readonly socket: string;
  private readonly ruidPrefix: string;
  private seq = 0;

  constructor(private readonly opts: RegistrarOptions) {
    this.config = opts.config;
    this.socket = opts.socket ?? '[not set]';
    this.store = new LocationStore(opts.clock, { tombstoneSeconds: opts.tombstone_seconds, onChange: opts.onChange, maxBindings: opts.limits?.config.max_bindings, faults: opts.faults });
    // Kamailio: uloc-<startup time hex>-<pid hex>-<counter hex>; the node id stands for the pid
    const startSec = Math.floor(opts.clock.now() / 1000);
    this.ruidPrefix = `uloc-${startSec.toString(16)}-${fnv32(opts.nodeId).toString(16)}-`;
  }

  /** a new ruid, unique per node (start time + node id + a counter) and deterministic given the ports */
  nextRuid(): string {
    return this.ruidPrefix + (++this.seq).toString(16);
  }

  /** the AoR key of a To/From URI as usrloc stores it (`use_domain`: user@host, host lower-cased) */
  aorOf(user: string | null, host: string): string | null {
    if (user === null || user === '') return null;
    return this.config.use_domain ? `${user}@${host.toLowerCase()}` : user;
  }

  handleRegister(req: SipRequest, source: { host: string; port: number }): RegisterResult {
    const r = this.process(req, source);
    if (r.status === 200) this.store.acceptedRegs++;
    else if (r.status !== 401) this.store.rejectedRegs++;
    return r;
  }

  private process(req: SipRequest, source: { host: string; port: number }): RegisterResult {
    this.store.runDue();
    // step 1: any Request-URI domain is ours (no domain list, as the lab's Kamailio)
    if (!req.requestUri().ok) return fail(400, 'Bad Request-URI');
    // step 2: Require may name only what we support
    const unsupported = requireTokens(req).filter((t) => t !== 'path');
    if (unsupported.length > 0) return fail(420, undefined, [['Unsupported', unsupported.join(', ')]]);
    // step 5 (first, the AoR is needed by 3 and 4): the To URI gives the AoR
    const to = req.to();
    if (!to.ok) return fail(400, EI.TO_MISS);
    const aor = this.aorOf(to.value.uri.user, to.value.uri.host);
    if (aor === null) return fail(400, EI.AOR);
    // steps 3 and 4: authentication, and the user may register only its own AoR
    if (this.opts.auth !== undefined) {
      const a = this.opts.auth.check(req, `${to.value.uri.user}@${to.value.uri.host.toLowerCase()}`);
      if (!a.ok) return a.result;
    }
    const callId = req.callId();
    if (!callId.ok) return fail(400, EI.CID_MISS);
    const cseq = req.cseq();
    if (!cseq.ok) return fail(400, EI.CS_MISS);
    const contacts = req.contacts();
    if (!contacts.ok) return fail(400, contacts.error.includes('*') ? EI.STAR_CONT : EI.PARSE_CONT);
    const hdrExpires = req.expires();
    if (!hdrExpires.ok) return fail(400, EI.PARSE_EXP);
    const path = req.getAll('supported').some((v) => hasToken(v, 'path')) ? req.getAll('path').join(',') : '';
    // step 6: `*`
    if (contacts.value.length === 1 && contacts.value[0].star) {
      if (hdrExpires.value !== 0) return fail(400, EI.STAR_EXP);
      return this.star(aor, callId.value, cseq.value.seq);
    }
    if (contacts.value.length === 0) return ok(this.store.get(aor), this.opts.clock.now(), '');
    // step 7: plan every binding change, then commit all or nothing
    const ctx = { aor: detach(aor), callId: detach(callId.value), cseq: cseq.value.seq, path, source, req };
    const plans = this.planContacts(ctx, contacts.value, hdrExpires.value);
    if (!Array.isArray(plans)) return plans;
    const refused = this.refusal(aor, plans);
    if (refused !== null) return refused;
    for (const p of plans) this.commit(p);
    return ok(this.store.get(aor), this.opts.clock.now(), path);
  }

  /** step 7: one plan per Contact (last first, duplicates once), or the error that refuses the whole REGISTER */
  private planContacts(ctx: SaveContext, contacts: readonly ContactValue[], hdrExpires: number | null): Plan[] | RegisterResult {
    const plans: Plan[] = [];
    const seen = new Set<string>();
    for (let i = contacts.length - 1; i >= 0; i--) {
      // Kamailio 5.6.3 handles the Contact list last-first (trace register/B: ruid order)
      const c = contacts[i];
      if (c.star) return fail(400, EI.STAR_CONT);
      const key = c.instance !== null ? `i:${c.instance}:${c.regId ?? 0}` : `u:${c.uriText}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let expires = c.expires ?? hdrExpires ?? this.config.default_expires;
      if (expires !== 0 && expires < this.config.min_expires) {
        return fail(423, undefined, [['Min-Expires', String(this.config.min_expires)]]);
      }
      if (this.config.max_expires > 0 && expires > this.config.max_expires) expires = this.config.max_expires;
      const p = this.planContact(ctx, c, expires);
      if (p === 'cseq') return fail(400, EI.INV_CSEQ);
      if (p !== null) plans.push(p);
    }
    return plans;
  }

  /** the limits before any change: registrar.max_contacts per AoR, limits.max_bindings, admission control; null = go ahead */
  private refusal(aor: string, plans: readonly Plan[]): RegisterResult | null {
    if (this.config.max_contacts > 0) {
      const n = this.store.get(aor).length + plans.reduce((a, p) => a + (p.op === 'insert' ? 1 : p.op === 'remove' ? -1 : 0), 0);
      if (n > this.config.max_contacts) {
        if (this.opts.limits) this.opts.limits.refusals.contacts_per_aor++;
        return fail(503, EI.TOO_MANY);
      }
    }
    const maxBindings = this.opts.limits?.config.max_bindings ?? 0;
    const inserts = plans.filter((p) => p.op === 'insert').length;
    if (maxBindings > 0 && inserts > 0 && this.store.contactCount() + inserts > maxBindings) {
      const r = this.opts.limits!.refuse('bindings', 60);
      return { status: r.status, reason: r.reason, headers: [...r.headers, ['P-Registrar-Error', 'Too many contacts on this node (limits.max_bindings)']] };
    }
    if (plans.length > 0) {
      // admission control: a change answered 200 is owed to every active node, so refuse first
      // when the slowest live one is too far behind (specs/replication.md R1)
      const r = this.opts.limits?.admitChange();
      if (r) return { status: r.status, reason: r.reason, headers: r.headers };
    }
    return null;
  }

  private planContact(
    ctx: SaveContext,
    c: Extract<ContactValue, { star: false }>,
    expires: number,
  ): Plan | 'cseq' | null {
    const instance = c.instance ?? '';
    const regId = c.regId ?? 0;
    const cur = this.store.match(ctx.aor, c.uriText, instance, regId);
    const nowSec = Math.floor(this.opts.clock.now() / 1000);
    const lastModified = writeTime(nowSec, ctx.callId, cur ?? this.store.tombOfContact(ctx.aor, c.uriText));
    if (expires === 0) {
      if (cur === undefined) return null;
      const version = { callId: ctx.callId, cseq: ctx.cseq, lastModified, ruid: cur.ruid, expires: nowSec };
      const ev: BindingEvent = { type: 'binding.remove', origin: 'local', version, nowSec, tombstoneSeconds: this.store.tombstoneSeconds };
      return this.store.accepts(cur, ev) ? { op: 'remove', cur } : 'cseq';
    }
    const b = new Binding({
      aor: ctx.aor, ruid: cur?.ruid ?? '', c: detach(c.uriText), received: this.opts.save_received === false ? '' : receivedOf(c, ctx.source),
      path: ctx.path, callId: ctx.callId, userAgent: ctx.req.get('user-agent') ?? 'n/a', instance: detach(instance),
      expires: nowSec + expires, cseq: ctx.cseq, flags: 0, cflags: 0, q: c.q === null ? -1 : Math.round(c.q * 1000), lastModified,
      methods: methodsMask(ctx.req.getAll('allow')), regId, serverId: this.opts.server_id ?? 0, replicated: false,
    }, this.store.traits);
    if (cur === undefined) return { op: 'insert', b };
    const type = cur.callId === ctx.callId ? 'binding.refresh' : 'binding.update';
    const ev: TakeEvent = { type, version: b, nowSec };
    return this.store.accepts(cur, ev) ? { op: 'update', cur, ev } : 'cseq';
  }

  /** step 6: `*` with Expires 0 removes every binding; a same-Call-ID binding needs a higher CSeq */
  private star(aor: string, callId: string, cseq: number): RegisterResult {
    const nowSec = Math.floor(this.opts.clock.now() / 1000);
    const all = [...this.store.get(aor)];
    if (all.length > 0) {
      const r = this.opts.limits?.admitChange();
      if (r) return { status: r.status, reason: r.reason, headers: r.headers };
    }
    for (const cur of all) {
      const version = { callId, cseq, lastModified: writeTime(nowSec, callId, cur), ruid: cur.ruid, expires: nowSec };
      if (!this.store.accepts(cur, { type: 'binding.remove', origin: 'local', version, nowSec, tombstoneSeconds: this.store.tombstoneSeconds })) return fail(400, EI.INV_CSEQ);
    }
    for (const cur of all) this.store.remove(cur, 'local');
    return ok([], this.opts.clock.now(), '');
  }

  private commit(p: Plan): void {
    if (p.op === 'remove') this.store.remove(p.cur, 'local');
    else if (p.op === 'update') this.store.update(p.cur, p.ev, 'local');
    else {
      p.b.ruid = this.nextRuid();
      this.store.insert(p.b, 'local');
    }
  }
}

/**
 * last_modified of a local write (specs/registrar.md, "Conflict order"): the node's clock, but
 * never at or below the version the write supersedes when the Call-ID differs (then replicas order
 * the two by last_modified alone). `prev` is the binding being updated, or the tombstone of a
 * deleted one for this contact. Without this, a node whose clock is behind the node that deleted
 * the contact would store the new REGISTER while every replica refused it as older than the
 * tombstone (found by kdmq check: test/sim/regressions.test.ts). Like a hybrid logical clock, the
 * value runs ahead of the node's clock by at most the clock skew plus one second.
 */
export function writeTime(nowSec: number, callId: string, prev: { callId: string; lastModified: number } | undefined): number {
  if (prev === undefined) return nowSec;
  return Math.max(nowSec, prev.callId === callId ? prev.lastModified : prev.lastModified + 1);
}

/** `sip:ip:port` of the source when it differs from the Contact's host:port, else '' */
function receivedOf(c: Extract<ContactValue, { star: false }>, src: { host: string; port: number }): string {
  const host = src.host.includes(':') && !src.host.startsWith('[') ? `[${src.host}]` : src.host;
  const cport = c.uri.port ?? (c.uri.scheme === 'sips' ? 5061 : 5060);
  if (c.uri.host.toLowerCase() === host.toLowerCase() && cport === src.port) return '';
  return `sip:${host}:${src.port}`;
}

function requireTokens(req: SipRequest): string[] {
  return req.getAll('require').flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

function hasToken(v: string, token: string): boolean {
  return v.split(',').some((t) => t.trim().toLowerCase() === token);
}

function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}
