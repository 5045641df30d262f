// Config for DMQ over TCP/TLS (src/config/schema.ts `tcp:`, `tls:`; load.ts cross checks): tcp:/tls:
// listens, `;transport=tcp|tls` in server_address and notification addresses, and errors that
// name the key.

import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.ts';
import { parseListen, localNodeId } from '../../src/actors/node/create-node.ts';

const load = (text: string) => loadConfigText(text);

describe('stream transport config', () => {
  it('accepts tcp:/tls: listens, a tcp server_address with its listen, and tcp notification addresses', () => {
    const r = load(
      'listen: [udp:127.0.0.1:5060, tcp:127.0.0.1:5090, "tls:[::1]:5091"]\n' +
        'tls: { certificate: /c.pem, private_key: /k.pem }\n' +
        'dmq: { server_address: "sip:127.0.0.1:5090;transport=tcp", notification_address: ["sip:127.0.0.2:5090;transport=tls"] }\n',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.tls).toMatchObject({ verify_peer: true, require_certificate: false });
    expect(r.config.tcp).toMatchObject({ max_connections: 2048, connection_lifetime: 120, max_message: 1_048_576, kamailio_rd_buf_size: 4096 });
    expect(r.config.listen.map(parseListen)).toEqual([
      { host: '127.0.0.1', port: 5060 },
      { host: '127.0.0.1', port: 5090, proto: 'tcp' },
      { host: '::1', port: 5091, proto: 'tls' },
    ]);
    expect(localNodeId(r.config)).toEqual({ host: '127.0.0.1', port: '5090', transport: 'tcp' });
  });

  it.each([
    ['listen: [sctp:127.0.0.1:5090]', /config key listen: "sctp:127.0.0.1:5090" is not udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT/],
    ['listen: [tls:127.0.0.1:5091]', /config key tls\.certificate: a tls: listen needs/],
    ['dmq: { server_address: "sip:127.0.0.1:5060;transport=tcp" }', /config key dmq\.server_address: .* needs the listen tcp:127\.0\.0\.1:5060/],
    ['dmq: { server_address: "sip:127.0.0.1:5060;transport=sctp" }', /config key dmq\.server_address: .*transport=tcp\|tls/],
    ['dmq: { notification_address: ["sip:127.0.0.2:5090;transport=ws"] }', /config key dmq\.notification_address: .* has transport "ws"/],
    ['tcp: { max_message: 10 }', /config key tcp\.max_message: expected an integer >= 1024/],
    ['tls: { verify_peer: maybe }', /config key tls\.verify_peer: expected true or false/],
  ])('refuses %s naming the key', (text, err) => {
    const r = load(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(err);
  });
});
