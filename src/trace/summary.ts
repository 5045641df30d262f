// What replay prints on agreement: the node's final membership (dmq.list_nodes-style), its
// location store (ul.dump-like, one line per contact) and its htable contents; also returned as
// data for tests.

import type { App } from '../actors/node/install-app.ts';
import type { KdmqNode } from '../actors/node/create-node.ts';
import { toRecord } from '../actors/location/binding.ts';

export interface NodeState {
  nodes: Array<{ host: string; port: string; status: string; local: boolean }>;
  contacts: Array<{ aor: string; contact: string; callId: string; cseq: number; expires: number }>;
  htables: Record<string, Record<string, string | number>>;
}

export function nodeState(node: KdmqNode, app: App): NodeState {
  const nodes = node.list.views().map((v) => ({ host: v.host, port: v.port, status: v.status, local: v.local }));
  const contacts = Array.from(app.registrar.store.all(), (b) => {
    const r = toRecord(b) as unknown as Record<string, unknown>;
    return { aor: String(r.aor), contact: String(r.c), callId: String(r.callid), cseq: Number(r.cseq), expires: Number(r.expires) };
  }).sort((a, b) => `${a.aor} ${a.contact}`.localeCompare(`${b.aor} ${b.contact}`));
  const htables: NodeState['htables'] = {};
  for (const t of app.htable.store.listTables()) {
    const items: Record<string, string | number> = {};
    for (const slot of app.htable.store.dump(t.name) ?? []) for (const it of slot.items) items[it.name] = it.value.type === 0 ? it.value.intval : it.value.strval;
    htables[t.name] = Object.fromEntries(Object.entries(items).sort(([a], [b]) => a.localeCompare(b)));
  }
  return { nodes, contacts, htables };
}

export function formatState(s: NodeState): string {
  const out: string[] = ['## dmq.list_nodes'];
  for (const n of s.nodes) out.push(`{\n\thost: ${n.host}\n\tport: ${n.port}\n\tstatus: ${n.status}\n\tlocal: ${n.local ? 1 : 0}\n}`);
  out.push(`## ul.dump (${s.contacts.length} contacts)`);
  for (const c of s.contacts) out.push(`  ${c.aor}  ${c.contact}  Call-ID ${c.callId}  CSeq ${c.cseq}  expires ${c.expires}`);
  for (const [t, items] of Object.entries(s.htables)) {
    out.push(`## htable.dump ${t} (${Object.keys(items).length} items)`);
    for (const [k, v] of Object.entries(items)) out.push(`  ${k}=${v}`);
  }
  return out.join('\n') + '\n';
}
