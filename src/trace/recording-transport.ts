// The recorder: a Transport wrapper and a Resolver wrapper that pass everything through unchanged
// and hand each input (datagram in, bind result, DNS answer) and each output (datagram out, for
// comparison only) to a TraceSink, so the node code never knows it is recorded (DESIGN rule 8).

import type { Clock } from '../ports/clock.ts';
import type { DnsAnswer, Resolver, SrvRecord } from '../ports/resolver.ts';
import type { Datagram, Endpoint, Transport, TransportStats } from '../transport/transport.ts';
import { b64, DatagramRecord, epText, type TraceRecord } from './format.ts';

export interface TraceSink {
  write(r: TraceRecord): void;
}

/** a sink that keeps records in memory (tests, the simulator, the bench) */
export class MemorySink implements TraceSink {
  readonly records: TraceRecord[] = [];
  write(r: TraceRecord): void {
    this.records.push(r);
  }
}

export class RecordingTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly clock: Clock,
    private readonly sink: TraceSink,
  ) {}

  get stats(): TransportStats {
    return this.inner.stats;
  }

  async bind(local: Endpoint): Promise<Endpoint> {
    try {
      const ep = await this.inner.bind(local);
      this.sink.write({ r: 'bind', t: this.clock.now(), req: epText(local), ep: epText(ep) });
      return ep;
    } catch (e) {
      this.sink.write({ r: 'bind', t: this.clock.now(), req: epText(local), ep: null, error: (e as Error).message });
      throw e;
    }
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    this.sink.write(new DatagramRecord('out', this.clock.now(), epText(from), epText(to), b64(data)));
    this.inner.send(from, to, data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.inner.onDatagram((d) => {
      this.sink.write(new DatagramRecord('in', this.clock.now(), epText(d.local), epText(d.remote), b64(d.data)));
      handler(d);
    });
  }

  endpoints(): Endpoint[] {
    return this.inner.endpoints();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export class RecordingResolver implements Resolver {
  constructor(
    private readonly inner: Resolver,
    private readonly clock: Clock,
    private readonly sink: TraceSink,
  ) {}

  private async rec<T>(q: 'a' | 'aaaa' | 'srv', name: string, p: Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> {
    const asked = this.clock.now();
    const answer = await p;
    this.sink.write({ r: 'dns', t: this.clock.now(), asked, q, name, answer: answer as DnsAnswer<unknown> });
    return answer;
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.rec('a', name, this.inner.a(name));
  }

  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.rec('aaaa', name, this.inner.aaaa(name));
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.rec('srv', name, this.inner.srv(name));
  }
}
