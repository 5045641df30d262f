// ctl's `binrpc` socket strings (parse_listen_id of ctl/ctrl_socks.c 5.6.3): "unix:/path" and
// "unixs:/path" (unix stream), "unixd:/path" (unix datagram), "tcp:IP:PORT", "udp:IP:PORT",
// "tcp:PORT" (any address), "[v6]:PORT"; without a protocol a name with "/" is a unix stream
// socket and HOST:PORT is udp (ctl's default). A missing port is 2049. Pure: a spec or an error.

export const DEFAULT_CTL_PORT = 2049;

export type CtlSocketSpec =
  | { proto: 'unix'; path: string; text: string }
  | { proto: 'unixd'; path: string; text: string }
  | { proto: 'tcp'; host: string; port: number; text: string }
  | { proto: 'udp'; host: string; port: number; text: string };

const UNIX_PATH_MAX = 104; // kamcmd's limit (sun_path is 108 on Linux)

export function parseCtlSocket(text: string): CtlSocketSpec | string {
  const m = /^(tcp|udp|unixd|unixs|unix):(.*)$/i.exec(text);
  const proto = m?.[1].toLowerCase();
  const rest = m ? m[2] : text;
  if (rest === '') return `"${text}": no address`;
  if (proto === 'unix' || proto === 'unixs' || proto === 'unixd' || (!proto && rest.includes('/') && !/^\[/.test(rest))) {
    if (Buffer.byteLength(rest) > UNIX_PATH_MAX) return `"${text}": a unix socket path has at most ${UNIX_PATH_MAX} bytes`;
    return proto === 'unixd' ? { proto: 'unixd', path: rest, text } : { proto: 'unix', path: rest, text };
  }
  const p = proto === 'tcp' ? 'tcp' : 'udp';
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d*))?$/.exec(rest);
  if (v6) [host, portText] = [v6[1], v6[2]];
  else if (/^\d+$/.test(rest) && proto) [host, portText] = ['*', rest];
  else {
    const i = rest.indexOf(':');
    [host, portText] = i < 0 ? [rest, undefined] : [rest.slice(0, i), rest.slice(i + 1)];
  }
  const port = portText === undefined || portText === '' ? DEFAULT_CTL_PORT : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return `"${text}": bad port "${portText}"`;
  if (!/^(\*|[0-9a-fA-F:.]+|[\w.-]+)$/.test(host)) return `"${text}": bad address "${host}"`;
  const h = host === '*' ? '0.0.0.0' : host;
  return p === 'tcp' ? { proto: 'tcp', host: h, port, text } : { proto: 'udp', host: h, port, text };
}
