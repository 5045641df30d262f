// Watches a simulated world as it runs: records the trace (every delivered datagram, every node
// status change, every plan step) as JSON lines with a running hash, and feeds each observed
// event to the safety checkers of src/sim/invariants.ts, keeping the violations found.

import type { StatusChange } from '../actors/node-list.ts';
import type { BindingVersion } from '../actors/binding-machine.ts';
import type { BindingChange } from '../registrar/store.ts';
import type { SimDelivery } from '../transport/sim-transport.ts';
import * as inv from './invariants.ts';

const latin1 = new TextDecoder('latin1');

export interface MonitorOptions {
  /** keep the trace lines in memory (the hash is always kept) */
  record: boolean;
  now: () => number;
}

export class Monitor {
  readonly violations: inv.Violation[] = [];
  readonly lines: string[] = [];
  hash = 0x811c9dc5;
  datagrams = 0;
  private readonly cseqs = new Map<number, Map<string, number>>();
  private readonly deletes = new Map<number, Map<string, BindingVersion>>();

  constructor(private readonly o: MonitorOptions) {}

  /** one trace line; the hash covers every line whether kept or not */
  note(rec: Record<string, unknown>): void {
    const line = JSON.stringify({ t: this.o.now(), ...rec });
    let h = this.hash;
    for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193) >>> 0;
    this.hash = h;
    if (this.o.record) this.lines.push(line);
  }

  violate(id: string, detail: string, node?: number): void {
    const v: inv.Violation = { inv: id, kind: inv.INVARIANTS[id].kind, at: this.o.now(), node, detail };
    this.violations.push(v);
    this.note({ k: 'violation', inv: id, node, detail });
  }

  firstSafety(): inv.Violation | undefined {
    return this.violations.find((v) => v.kind === 'safety');
  }

  /** a node (re)started: its stored state is new */
  started(node: number): void {
    this.cseqs.set(node, new Map());
    this.deletes.set(node, new Map());
  }

  onDatagram(d: SimDelivery): void {
    this.datagrams++;
    const text = latin1.decode(d.data);
    this.note({ k: 'dgram', from: `${d.from.host}:${d.from.port}`, to: `${d.to.host}:${d.to.port}`, data: text });
    const sep = text.indexOf('\r\n\r\n');
    const body = sep < 0 ? 0 : d.data.byteLength - (sep + 4);
    const size = inv.checkDatagramSize(d.data.byteLength, body);
    if (size) this.violate('INV-06', size);
    const list = inv.checkNodeListOnWire(text);
    if (list) this.violate('INV-07', `${d.from.host}:${d.from.port} → ${d.to.host}:${d.to.port}: ${list}`);
  }

  onStatus(node: number, c: StatusChange): void {
    this.note({ k: 'status', node, key: c.key, from: c.from, to: c.to, ev: c.event });
    const bad = inv.checkStatusChange(c);
    if (bad) this.violate('INV-01', bad, node);
  }

  onData(node: number, channel: string, sender: string, status: string | undefined, isLocal: boolean): void {
    const bad = inv.checkDataSender(channel, sender, status, isLocal);
    if (bad) this.violate('INV-03', bad, node);
  }

  /** a replicated delete reached node's usrloc channel (even for a binding it does not hold) */
  onReplicatedDelete(node: number, contact: BindingChange['contact']): void {
    inv.checkNoResurrection(this.deletes.get(node) ?? new Map(), { kind: 'delete', contact, origin: 'replicated' });
  }

  onBinding(node: number, c: BindingChange): void {
    const a = inv.checkCseqMonotonic(this.cseqs.get(node) ?? new Map(), c);
    if (a) this.violate('INV-04', a, node);
    const b = inv.checkNoResurrection(this.deletes.get(node) ?? new Map(), c);
    if (b) this.violate('INV-05', b, node);
  }
}
