// Acceptance: replaying kdmq --as one node of each lab capture of a real Kamailio 5.6.3 cluster
// ends with the membership and the location/htable content that node had, as the fixtures' RPC
// dumps say (list_nodes.txt, ul_*.txt, dumps.txt, htable_node3.txt).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importCapture } from '../../src/trace/import.ts';
import { setupAs } from '../../src/trace/as-node.ts';
import { runReplay, stopReplay } from '../../src/trace/replay.ts';
import { nodeState, type NodeState } from '../../src/trace/summary.ts';

const FIX = '/work/shared/fixtures/kamailio-traces';

async function replayAs(capture: string, as: string): Promise<NodeState> {
  const r = importCapture(readFileSync(`${FIX}/${capture}/capture.pcap`));
  if (!r.ok) throw new Error(r.error);
  const s = setupAs(r.trace, as);
  if (!s.ok) throw new Error(s.error);
  const run = await runReplay(s.setup);
  const st = nodeState(run.node, run.app);
  await stopReplay(run);
  return st;
}

/** host → status from a kamcmd dmq.list_nodes dump section */
function listNodes(text: string, section: string): Record<string, string> {
  const part = text.split('## ').find((p) => p.startsWith(section))!;
  const out: Record<string, string> = {};
  for (const m of part.matchAll(/host: (\S+)[\s\S]*?status: (\S+)/g)) out[m[1]] = m[2];
  return out;
}

const membership = (s: NodeState) => Object.fromEntries(s.nodes.map((n) => [n.host, n.status]));

/** AoR → sorted contact addresses from a kamcmd ul.dump */
function ulDump(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let aor = '';
  for (const l of text.split('\n')) {
    const a = /AoR: (\S+)/.exec(l);
    if (a) aor = a[1];
    const c = /Address: (\S+)/.exec(l);
    if (c) out.push([aor, c[1]]);
  }
  return out.sort((x, y) => `${x[0]} ${x[1]}`.localeCompare(`${y[0]} ${y[1]}`));
}

const contacts = (s: NodeState) => s.contacts.map((c) => [c.aor, c.contact] as [string, string]);

describe('replay --as a Kamailio node', () => {
  it('formation: as node1, every node lists the others active (list_nodes.txt)', async () => {
    const st = await replayAs('formation', 'sip:127.0.0.11:5090');
    expect(membership(st)).toEqual(listNodes(readFileSync(`${FIX}/formation/list_nodes.txt`, 'utf8'), 'node1'));
  });

  it('register: as node1 (REGISTERs) and as node2 (replicated), the 7 contacts of step E', async () => {
    const want = ulDump(readFileSync(`${FIX}/register/ul_E_refresh_node1.txt`, 'utf8'));
    expect(want.length).toBe(7);
    for (const as of ['sip:127.0.0.11:5090', 'sip:127.0.0.12:5090']) {
      const st = await replayAs('register', as);
      expect(contacts(st), as).toEqual(want);
      expect(Object.values(membership(st)), as).toEqual(['active', 'active', 'active']);
    }
    expect(ulDump(readFileSync(`${FIX}/register/ul_E_refresh_node2.txt`, 'utf8'))).toEqual(want);
  });

  it('htable: as node3 (restarted, initial sync), the table of dumps.txt', async () => {
    const st = await replayAs('htable', 'sip:127.0.0.13:5090');
    const dumps = readFileSync(`${FIX}/htable/dumps.txt`, 'utf8');
    const last = dumps.split('## ').filter((p) => p.startsWith('after node3 restart: node3')).pop()!;
    const want = Object.fromEntries([...last.matchAll(/^ {2}(\S+?)=(\S+)$/gm)].map((m) => [m[1], /^\d+$/.test(m[2]) ? Number(m[2]) : m[2]]));
    expect(want).toEqual({ city: 'Paris', counter: 43, fromnode2: 'yes' });
    expect(st.htables.lab).toEqual(want);
    expect(Object.values(membership(st))).toEqual(['active', 'active', 'active']);
  });

  it('failure: as node3 (killed, restarted), all active again with its 5 contacts and htable (after-restart dumps)', async () => {
    const st = await replayAs('failure', 'sip:127.0.0.13:5090');
    expect(membership(st)).toEqual(listNodes(readFileSync(`${FIX}/failure/list_nodes_after.txt`, 'utf8'), 'node3'));
    expect(contacts(st)).toEqual(ulDump(readFileSync(`${FIX}/failure/ul_node3.txt`, 'utf8')));
    const ht = readFileSync(`${FIX}/failure/htable_node3.txt`, 'utf8');
    const want = Object.fromEntries([...ht.matchAll(/name: (\S+)\s+value: (\S+)\s+type: (\S+)/g)].map((m) => [m[1], m[3] === 'int' ? Number(m[2]) : m[2]]));
    expect(st.htables.lab).toEqual(want);
    const st1 = await replayAs('failure', 'sip:127.0.0.11:5090');
    expect(membership(st1)).toEqual(listNodes(readFileSync(`${FIX}/failure/list_nodes_after.txt`, 'utf8'), 'node1'));
  });
});
