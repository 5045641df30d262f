// The exhaustive explorer's network: a SimNetwork whose datagrams, once `auto` is off, wait in an
// in-flight list until the explorer delivers or drops each one (in any order). While `auto` is on
// (scenario setup) it behaves as SimNetwork. A send budget bounds the scope.

import type { Endpoint } from '../transport/transport.ts';
import { SimNetwork } from '../transport/sim-transport.ts';

export interface InFlight {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
  /** from → to + bytes: equal keys are interchangeable choices */
  key: string;
}

const latin1 = new TextDecoder('latin1');

export class ControlledNetwork extends SimNetwork {
  auto = true;
  readonly inFlight: InFlight[] = [];
  /** datagrams sent since `auto` went off (within and beyond the budget) */
  sent = 0;
  budget = Infinity;
  overBudget = 0;
  /** hosts whose datagrams vanish at once (the UA, crashed nodes): no choice to make */
  readonly sinks = new Set<string>();

  override transmit(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    if (this.auto) return super.transmit(from, to, data);
    if (this.sinks.has(to.host)) return;
    if (++this.sent > this.budget) {
      this.overBudget++;
      return;
    }
    const key = `${from.host}:${from.port}>${to.host}:${to.port}|${latin1.decode(data)}`;
    this.inFlight.push({ from: { ...from }, to: { ...to }, data: new Uint8Array(data), key });
  }

  deliverAt(i: number): void {
    const [d] = this.inFlight.splice(i, 1);
    this.deliver(d.from, d.to, d.data);
  }

  dropAt(i: number): void {
    this.inFlight.splice(i, 1);
  }
}
