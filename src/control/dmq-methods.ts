// dmq.* and core.* RPC methods with Kamailio 5.6.3's result shapes (kamailio-rpc-examples.md):
// dmq.list_nodes (host, port, proto, resolved_ip, status, last_notification, local, and kdmq's kamailio_version),
// dmq.remove, core.version, core.uptime, core.psx-style extras are not offered.

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import { parseUri } from '../sip/index.ts';
import { keysFromConfig } from '../actors/dmq/kdmq-auth.ts';
import { rpcError, register, type RpcRegistry } from './rpc.ts';

export const KDMQ_VERSION = '0.1.0';

/** ctime(3)-style time as Kamailio prints it: "Thu Nov 26 11:59:22 2026" (UTC) */
export function ctime(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export function registerDmqMethods(reg: RpcRegistry, node: NodeHandle, now: () => number): void {
  register(reg, 'dmq.list_nodes', 'List the DMQ nodes', () =>
    node.list.views().map((v) => ({
      host: v.host,
      port: v.port,
      proto: v.transport ?? '*',
      resolved_ip: v.resolvedIp,
      status: v.status,
      last_notification: 0,
      local: v.local ? 1 : 0,
      // the node's Kamailio version (its Server/User-Agent or dmq.kamailio_versions), '' when unknown (kdmq, local)
      kamailio_version: v.local ? '' : (node.list.versions.versionOf(v.key) ?? ''),
    })),
  );
  register(reg, 'dmq.remove', 'Remove a DMQ node', (p) => {
    if (typeof p[0] !== 'string') throw rpcError('KDMQ_RPC_INVALID_PARAMS');
    const u = parseUri(p[0]);
    if (!u.ok) throw rpcError('KDMQ_RPC_FAILURE');
    const t = u.value.params.find(([n]) => n === 'transport')?.[1] ?? null;
    const id = { host: u.value.host, port: u.value.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null };
    if (!node.list.isLocal(id)) node.list.send(id, { type: 'node.remove' });
    return 'Ok. DMQ node removed.';
  });
  register(reg, 'dmq.keyring', 'Signed KDMQ: the key ids (never the secrets), the first signs', () => {
    if (!node.auth) throw rpcError('KDMQ_RPC_SIGNING_OFF');
    return node.auth.keyIds();
  });
  register(reg, 'dmq.keyring_set', 'Signed KDMQ: replace the key ring with ID:SECRET params, the first signs, all verify (rotation)', (p) => {
    if (!node.auth) throw rpcError('KDMQ_RPC_SIGNING_OFF');
    if (p.length === 0 || !p.every((x) => typeof x === 'string')) throw rpcError('KDMQ_RPC_INVALID_PARAMS');
    const keys = keysFromConfig({ keyring: p as string[] });
    if (typeof keys === 'string' || keys === null) throw rpcError('KDMQ_RPC_INVALID_KEYS', keys ?? 'no key');
    node.auth.setKeys(keys);
    return node.auth.keyIds();
  });
  register(reg, 'core.version', 'Returns the version string of the server', () => `kdmq ${KDMQ_VERSION} (${process.arch}/${process.platform}) `);
  register(reg, 'core.uptime', 'Returns uptime information', () => {
    const up = Math.floor((now() - node.startedAt) / 1000);
    return { now: ctime(now()), up_since: ctime(node.startedAt), uptime: up };
  });
}
