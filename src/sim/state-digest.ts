// The exhaustive explorer's state identity (src/sim/explore.ts): a digest of everything reachable
// from the simulated world — every node's fields (lists, tombstones, queues, pending sets, caches,
// random generator state), every xstate actor's snapshot and scheduled events, the transaction
// layers, the network's in-flight datagrams — in the order each collection holds it (iteration
// order can decide what is sent first), plus the virtual clock's pending timers in firing order,
// each tied to the object that holds its id. Nothing is sorted or skipped by name, so a field
// added later is covered without touching this file. What it cannot see: state held only in
// closures or suspended async functions (it shows only through the timers and objects they share).

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Actor, type AnyActorLogic } from 'xstate';
import type { VirtualClock } from '../ports/virtual-clock.ts';

interface ClockEntry {
  due: number;
  seq: number;
  fn: () => void;
  i: number;
}

export interface DigestOptions {
  /** the shared clock: its pending timers are part of the state; reaching it emits no fields */
  clock: VirtualClock;
  /** objects reached but not walked (e.g. the monitor's trace lines): each is one fixed token */
  opaque?: ReadonlySet<object>;
  /** where state lives only in a closure: extra objects to walk when `obj` is reached */
  extra?: (obj: object) => unknown;
  /** also give the text (one line per token, after its path) for tests and for finding a difference; the hash is the same */
  text?: boolean;
}

export interface Digest {
  hash: string;
  text?: string;
}

const TYPED = Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView;

/** name of a timer's callback, or a short hash of its source: tells timers of different owners apart */
function fnKind(fn: () => void, kinds: WeakMap<object, string>): string {
  let k = kinds.get(fn);
  if (k === undefined) {
    const src = Function.prototype.toString.call(fn);
    k = `${fn.name}/${createHash('sha1').update(src).digest('hex').slice(0, 8)}`;
    kinds.set(fn, k);
  }
  return k;
}

const FN_KINDS = new WeakMap<object, string>();

class Walker {
  private readonly out: string[] = [];
  /** text mode: each token's path */
  private readonly paths: string[] = [];
  private readonly ids = new Map<object, number>();
  private readonly live: Set<ClockEntry>;
  private readonly heap: ClockEntry[];
  private readonly now: number;
  private path: string[] = [];

  constructor(private readonly o: DigestOptions) {
    this.heap = (o.clock as unknown as { heap: ClockEntry[] }).heap;
    this.live = new Set(this.heap);
    this.now = o.clock.now();
  }

  private emit(tok: string): void {
    this.out.push(tok);
    if (this.o.text) this.paths.push(this.path.join('.'));
  }

  at(label: string, v: unknown): void {
    this.path.push(label);
    this.value(v);
    this.path.pop();
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        return this.emit(Object.is(v, -0) ? 'n-0' : `n${v}`);
      case 'string':
        return this.emit(`s${v.length}:${v}`);
      case 'boolean':
        return this.emit(v ? 'T' : 'F');
      case 'undefined':
        return this.emit('u');
      case 'bigint':
        return this.emit(`b${v}`);
      case 'symbol':
        return this.emit(`y${String(v.description)}`);
      case 'function':
        return this.emit('f');
    }
    if (v === null) return this.emit('N');
    this.object(v as object);
  }

  private object(v: object): void {
    const seen = this.ids.get(v);
    if (seen !== undefined) return this.emit(`@${seen}`);
    this.ids.set(v, this.ids.size);
    if (v === this.o.clock) return this.emit('clock');
    if (this.o.opaque?.has(v)) return this.emit('opaque');
    if (this.live.has(v as ClockEntry)) return this.emit(`timer+${(v as ClockEntry).due - this.now}`);
    if (isDeadEntry(v)) return this.emit('timer-done');
    if (v instanceof Actor) this.actor(v);
    else if (v instanceof Map) this.map(v);
    else if (v instanceof Set) this.list('set', v.values(), v.size);
    else if (Array.isArray(v)) this.list('arr', v.values(), v.length);
    else if (ArrayBuffer.isView(v)) this.bytes(v);
    else if (v instanceof ArrayBuffer) this.emit(`ab${v.byteLength}:${Buffer.from(v).toString('latin1')}`);
    else if (v instanceof Date) this.emit(`date${v.getTime()}`);
    else if (v instanceof RegExp) this.emit(`re${v}`);
    else if (v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise) this.emit(v.constructor.name);
    else this.fields(v);
    const more = this.o.extra?.(v);
    if (more !== undefined) this.at('+', more);
  }

  private bytes(v: ArrayBufferView): void {
    const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    this.emit(`${v instanceof TYPED ? v.constructor.name : 'view'}${v.byteLength}:${b.toString('latin1')}`);
  }

  private map(m: Map<unknown, unknown>): void {
    this.emit(`map${m.size}`);
    let i = 0;
    for (const [k, x] of m) {
      this.at(`k${i}`, k);
      this.at(typeof k === 'string' ? k : `v${i}`, x);
      i++;
    }
  }

  private list(kind: string, it: Iterable<unknown>, n: number): void {
    this.emit(`${kind}${n}`);
    let i = 0;
    for (const x of it) this.at(String(i++), x);
  }

  private fields(v: object): void {
    const keys = Object.keys(v);
    this.emit(`{${v.constructor?.name ?? ''}:${keys.length}`);
    for (const k of keys) this.at(k, (v as Record<string, unknown>)[k]);
  }

  /** an xstate actor: its snapshot (not its machine definition) and the events it has scheduled */
  private actor(a: Actor<AnyActorLogic>): void {
    const s = a.getSnapshot() as Record<string, unknown>;
    this.emit(`actor:${a.id === a.sessionId ? '' : a.id}`); // a session id comes from a process-wide counter
    for (const k of ['status', 'value', 'context', 'children', 'historyValue', 'output', 'error', 'input']) {
      if (k in s) this.at(k, s[k]);
    }
    const sched = (a.system as unknown as { _snapshot?: { _scheduledEvents?: Record<string, { source: unknown; id: string; event: unknown; delay: number }> } })._snapshot?._scheduledEvents ?? {};
    for (const e of Object.values(sched)) {
      if (e.source !== a) continue;
      this.at(`after:${e.id}`, [e.event, e.delay]);
    }
  }

  /** the clock's live timers in firing order, each named by the object holding it (or its callback's kind) */
  timers(): void {
    const order = [...this.heap].sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.path = ['clock'];
    this.emit(`now${this.now} pending${order.length}`);
    for (const e of order) {
      const id = this.ids.get(e);
      this.emit(`+${e.due - this.now}:${id !== undefined ? `@${id}` : fnKind(e.fn, FN_KINDS)}`);
    }
  }

  digest(): Digest {
    const hash = createHash('sha256').update(this.out.join('\n')).digest('hex').slice(0, 32);
    return this.o.text ? { hash, text: this.out.map((t, i) => `${this.paths[i]} ${t}`).join('\n') } : { hash };
  }
}

function isDeadEntry(v: object): boolean {
  const e = v as Partial<ClockEntry>;
  return e.i === -1 && typeof e.fn === 'function' && typeof e.due === 'number' && typeof e.seq === 'number';
}

/** digest of `roots` (walked in this order) and the clock's pending timers */
export function digestState(roots: ReadonlyArray<readonly [string, unknown]>, o: DigestOptions): Digest {
  const w = new Walker(o);
  for (const [label, v] of roots) w.at(label, v);
  w.timers();
  return w.digest();
}
