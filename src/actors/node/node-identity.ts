// Who a node is and where it listens, from its config: the listen sockets, its own DMQ identity
// (dmq.server_address, protocol reference §1.4), its notification addresses as node ids, and the
// socket its KDMQ requests leave from. Pure.

import type { KdmqConfig } from '../../config/types.ts';
import type { Endpoint } from '../../transport/transport.ts';
import { parseUri } from '../../sip/index.ts';
import type { NodeId } from '../membership/node-list.ts';

export function parseListen(l: string): Endpoint {
  const m = /^(udp|tcp|tls):(\[([0-9a-fA-F:.]+)\]|([\d.]+)):(\d+)$/.exec(l)!;
  const ep: Endpoint = { host: m[3] ?? m[4], port: Number(m[5]) };
  if (m[1] !== 'udp') ep.proto = m[1] as 'tcp' | 'tls';
  return ep;
}

export function localNodeId(config: KdmqConfig): NodeId {
  const addr = config.dmq.server_address ?? `sip:${parseListen(config.listen[0]).host}:${parseListen(config.listen[0]).port}`;
  const u = parseUri(addr);
  if (!u.ok) throw new Error(`dmq.server_address: ${u.error}`); // validated before: broken invariant
  const t = u.value.params.find(([n]) => n === 'transport')?.[1] ?? null;
  return { host: u.value.host, port: u.value.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null };
}

export function seedIds(config: KdmqConfig): NodeId[] {
  const out: NodeId[] = [];
  for (const a of config.dmq.notification_address) {
    const u = parseUri(a);
    if (!u.ok) continue;
    const t = u.value.params.find(([n]) => n === 'transport')?.[1] ?? null;
    out.push({ host: u.value.host, port: u.value.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null });
  }
  return out;
}

/** the bound socket matching the node's own DMQ address (host, port, transport), else the first */
export function dmqSocketOf(local: NodeId, endpoints: readonly Endpoint[]): Endpoint {
  const bare = local.host.replace(/^\[|\]$/g, '');
  const proto = local.transport ?? 'udp';
  const port = local.port || '5060';
  return (
    endpoints.find((e) => e.host === bare && String(e.port) === port && (e.proto ?? 'udp') === proto) ??
    endpoints.find((e) => e.host === bare && String(e.port) === port) ??
    endpoints[0]
  );
}
