// The client transaction's top Via (transactions.ts viaPrefix keeps the last `SIP/2.0/<PROTO>
// <host:port>;branch=` made): whatever sequence of sockets and destinations requests go out with,
// including an endpoint object changed in place, each Via is exactly the one formatted afresh.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../src/sip/types.ts';
import type { Endpoint } from '../../src/transport/transport.ts';
import { hostPort } from '../../src/transport/via-route.ts';
import { kdmq, layerOnClock, parse } from './fixtures.ts';

const sockets: Endpoint[] = [
  { host: '127.0.0.1', port: 5090 },
  { host: '127.0.0.1', port: 5091 },
  { host: '127.0.0.2', port: 5090 },
  { host: '::1', port: 5090 },
  { host: '127.0.0.1', port: 5090, proto: 'tcp' },
];
const peers: Endpoint[] = [{ host: '127.0.0.9', port: 5090 }, { host: '127.0.0.9', port: 5090, proto: 'tls' }];

describe('the client transaction\'s top Via', () => {
  it('is the freshly formatted Via for every request', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(sockets.length - 1), fc.nat(peers.length - 1), fc.boolean()), { maxLength: 12 }), fc.boolean(), (sends, rport) => {
      const { sent, layer, done } = layerOnClock({ rport });
      const mutable: Endpoint = { host: '127.0.0.1', port: 5090 };
      for (const [s, p, mutate] of sends) {
        // the same object with other values must not get the Via of its old values
        let from = sockets[s];
        if (mutate) {
          mutable.host = sockets[s].host;
          mutable.port = sockets[s].port;
          mutable.proto = sockets[s].proto;
          from = mutable;
        }
        const to = peers[p];
        const h = layer.request(kdmq(`c${sent.length}`), from, to, done);
        const proto = (to.proto ?? from.proto ?? 'udp').toUpperCase();
        const req = parse(sent[sent.length - 1].data) as SipRequest;
        expect(req.getAll('via')).toEqual([`SIP/2.0/${proto} ${hostPort(from)};branch=${h.branch}${rport ? ';rport' : ''}`]);
      }
    }), { numRuns: 100 });
  });
});
