// KdmqClient keeps, per listed host, its bare form and whether it is an IP literal (a pure
// function of the host text): the endpoints it sends to and the names it resolves must be what
// the uncached rule gives, first time and cached, for IPv4, bracketed IPv6 and host names.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KdmqClient } from '../../../src/actors/dmq/kdmq-client.ts';
import { isIpLiteralHost } from '../../../src/actors/membership/node-list-body.ts';
import { SeededRandom } from '../../../src/ports/random.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import type { Resolver } from '../../../src/ports/resolver.ts';
import type { TransportInEvent } from '../../../src/transport/transport-actor.ts';

const host = fc.oneof(
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((p) => p.join('.')),
  fc.constantFrom('[::1]', '[fe80::2]', '[2001:db8::1]', '::1', '[::ffff:1.2.3.4]', '[zz::1]', '[1.2.3.4]'),
  fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/),
);

describe('KdmqClient host handling', () => {
  it('sends to IP literals without brackets and resolves the rest, cached or not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(host, { minLength: 1, maxLength: 12 }), async (hosts) => {
        const sent: TransportInEvent[] = [];
        const asked: string[] = [];
        const resolver = { a: async (name: string) => (asked.push(name), { ok: false as const, error: 'nx' }) } as unknown as Resolver;
        const client = new KdmqClient({
          clock: new VirtualClock(0),
          random: new SeededRandom('h'),
          resolver,
          local: { host: '127.0.0.1', port: '5090', transport: null },
          socket: { host: '127.0.0.1', port: 5090 },
          send: (e) => sent.push(e),
          onTimeout: () => {},
          statusOfKey: () => 'active',
          flow: { inFlight: 1000, queue: 1000 },
        });
        const expectedTo: Array<{ host: string; port: number }> = [];
        const expectedAsked: string[] = [];
        for (const h of [...hosts, ...hosts]) {
          client.send({ to: { host: h, port: '5091', transport: null }, channel: 'usrloc', body: '{}', contentType: 'application/json', maxForwards: 1 });
          if (isIpLiteralHost(h)) expectedTo.push({ host: h.replace(/^\[|\]$/g, ''), port: 5091 });
          else expectedAsked.push(h);
        }
        await Promise.resolve();
        expect(sent.map((e) => (e.type === 'transport.request' ? e.to : null))).toEqual(expectedTo);
        expect(asked).toEqual(expectedAsked);
      }),
      { numRuns: 200 },
    );
  });
});
