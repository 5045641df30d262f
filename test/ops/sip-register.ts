// A minimal SIP UA for the operations tests: one REGISTER over UDP from a fresh loopback port,
// resolving with the status line of the final response.
import { createSocket } from 'node:dgram';

export interface RegisterOpts {
  /** the AoR's user part ('' for a To with no user: the registrar answers 400) */
  user: string;
  /** the node's SIP address */
  ip: string;
  port?: number;
  expires?: number;
  /** the contact's user part (default: user) */
  contactUser?: string;
}

export function sendRegister(o: RegisterOpts): Promise<string> {
  const port = o.port ?? 5060;
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error(`no reply to REGISTER ${o.user}`))), 3000);
    s.on('message', (m) => {
      const status = m.toString().split('\r\n')[0];
      if (/^SIP\/2\.0 1\d\d/.test(status)) return; // provisional: wait for the final one
      clearTimeout(t);
      s.close();
      resolve(status);
    });
    s.bind(0, o.ip, () => {
      const p = s.address().port;
      const aor = o.user === '' ? `sip:${o.ip}` : `sip:${o.user}@${o.ip}`;
      const c = o.contactUser ?? (o.user || 'nobody');
      s.send(
        [`REGISTER sip:${o.ip} SIP/2.0`, `Via: SIP/2.0/UDP ${o.ip}:${p};branch=z9hG4bK${c}${p}`, 'Max-Forwards: 70', `From: <${aor}>;tag=1`, `To: <${aor}>`,
          `Call-ID: ${c}-${p}@ops`, 'CSeq: 1 REGISTER', `Contact: <sip:${c}@${o.ip}:${p}>`, `Expires: ${o.expires ?? 600}`, 'Content-Length: 0', '', ''].join('\r\n'),
        port,
        o.ip,
      );
    });
  });
}
