// `--expect`: a node's final state as the capture shows it (its tables rebuilt from what it sent and
// accepted, its membership from its last node list) against the answer taken from that node. A
// difference is something the capture proves: a binding, item or active node the capture says the
// node holds that the answer lacks (or the reverse when the node's state is known whole), or a
// field that differs. What the answer holds beyond a capture that began after the node did is
// "unexplained", never equal by silence.

import { clock } from './history-frames.ts';
import type { History, NodeHistory } from './history.ts';
import type { ExpContact, Expected } from './expect.ts';

interface Found {
  diffs: string[];
  notes: string[];
  error?: string;
}

export type CompareResult = { ok: true; equal: boolean; lines: string[] } | { ok: false; error: string };

const unknownBefore = (h: History, since: number | null, what: string) =>
  since === null ? `the ${what} this node held before the capture began (${clock(h.start)}) are unknown: ` : '';

function contacts(h: History, n: NodeHistory, want: ExpContact[]): Found {
  const diffs: string[] = [];
  const notes: string[] = [];
  const key = (aor: string, c: string) => `${aor} ${c}`;
  const have = new Map(n.tables.allBindings().map((b) => [key(b.aor, b.c), b]));
  const seen = new Set<string>();
  for (const w of want) {
    const k = key(w.aor, w.c);
    seen.add(k);
    const b = have.get(k);
    if (!b) {
      if (n.knownSince.usrloc === null) notes.push(`unexplained: ${k} is in the answer, not in the capture (${unknownBefore(h, null, 'bindings')}it may predate it)`);
      else diffs.push(`${k}: in the answer, but the capture shows ${n.node.name} never holding it (its bindings are known whole since ${clock(n.knownSince.usrloc)})`);
      continue;
    }
    const fields: Array<[string, unknown, unknown]> = [['Call-ID', w.callid, b.callid], ['CSeq', w.cseq, b.cseq], ['Ruid', w.ruid, b.ruid], ['Last-Modified', w.lastModified, b.last_modified]];
    for (const [f, a, x] of fields) if (a !== undefined && a !== x) diffs.push(`${k}: ${f} ${a} in the answer, ${x} in the capture`);
  }
  for (const [k, b] of have) if (!seen.has(k)) diffs.push(`${k}: missing from the answer; the capture shows ${n.node.name} holding it (Call-ID ${b.callid}, CSeq ${b.cseq}, ruid ${b.ruid})`);
  return { diffs, notes };
}

function membership(h: History, n: NodeHistory, want: Extract<Expected, { kind: 'dmq.list_nodes' }>['nodes']): Found {
  const local = want.find((x) => x.local);
  const self = n.node.id.replace(/^sip:/, '');
  if (local && `${local.host}:${local.port}` !== self) return { diffs: [], notes: [], error: `the answer is not from ${n.node.name} (${n.node.id}): its local entry is ${local.host}:${local.port}` };
  const last = n.lists[n.lists.length - 1];
  if (!last) return { diffs: [], notes: [], error: `${n.node.name} sent no node list in the capture: its membership cannot be compared` };
  const active = new Set(want.filter((x) => !x.local && x.status === 'active').map((x) => `sip:${x.host}:${x.port}`));
  const diffs: string[] = [];
  for (const id of last.active) if (!active.has(id)) diffs.push(`${id}: active in ${n.node.name}'s last list (#${last.f.n} at ${clock(last.f.t)}), ${want.find((x) => `sip:${x.host}:${x.port}` === id)?.status ?? 'absent'} in the answer`);
  for (const id of active) if (!last.active.includes(id)) diffs.push(`${id}: active in the answer, not in ${n.node.name}'s last list (#${last.f.n} at ${clock(last.f.t)})`);
  return { diffs, notes: [] };
}

function htable(h: History, n: NodeHistory, want: Record<string, string | number>): Found {
  const tables = [...n.tables.htable];
  const overlap = (m: Map<string, unknown>) => Object.keys(want).filter((k) => m.has(k)).length;
  const best = tables.sort((a, b) => overlap(b[1]) - overlap(a[1]))[0];
  const [name, have]: [string, Map<string, string | number>] = best ?? ['(none)', new Map()];
  const diffs: string[] = [];
  const notes = [`compared with table ${name} (the table of the capture whose keys the answer shares most)`];
  for (const [k, v] of Object.entries(want)) {
    if (!have.has(k)) {
      if (n.knownSince.htable === null) notes.push(`unexplained: ${k}=${v} is in the answer, not in the capture (${unknownBefore(h, null, 'htable items')}it may predate it)`);
      else diffs.push(`${name} ${k}: in the answer (${v}), not held in the capture (its items are known whole since ${clock(n.knownSince.htable)})`);
    } else if (have.get(k) !== v) diffs.push(`${name} ${k}: ${v} in the answer, ${have.get(k)} in the capture`);
  }
  for (const [k, v] of have) if (!(k in want)) diffs.push(`${name} ${k}=${v}: missing from the answer; the capture shows ${n.node.name} holding it`);
  return { diffs, notes };
}

export function compareExpected(h: History, n: NodeHistory, e: Expected): CompareResult {
  const r: Found = e.kind === 'ul.dump' ? contacts(h, n, e.contacts) : e.kind === 'dmq.list_nodes' ? membership(h, n, e.nodes) : htable(h, n, e.items);
  if (r.error) return { ok: false, error: r.error };
  const what = e.kind === 'ul.dump' ? `${e.contacts.length} contacts (AoR, Contact, Call-ID, CSeq, Ruid, Last-Modified compared; Expires is the seconds left when the answer was taken: not compared)`
    : e.kind === 'dmq.list_nodes' ? `${e.nodes.length} nodes (active ones compared: a node list says nothing of pending or disabled nodes)`
    : `${Object.keys(e.items).length} items`;
  const known = e.kind === 'ul.dump' ? n.knownSince.usrloc : e.kind === 'htable.dump' ? n.knownSince.htable : 0;
  const lines = [`expected ${e.kind} of ${n.node.name} ${n.node.id}: ${what}`];
  if (known === null) lines.push(`the state before the capture is unknown: ${n.node.name} did not start in it and sent no complete sync answer; only what the capture shows is compared`);
  lines.push(...r.notes.map((x) => `  note: ${x}`));
  if (r.diffs.length === 0) lines.push(`equal: the answer holds what the capture shows ${n.node.name} holding at ${clock(h.end)}`);
  else lines.push(`different: ${r.diffs.length} difference${r.diffs.length > 1 ? 's' : ''}`, ...r.diffs.map((d) => `  - ${d}`));
  return { ok: true, equal: r.diffs.length === 0, lines };
}
