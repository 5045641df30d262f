// The fuzz campaign's replication check (bench/figures/fuzz-campaign.ts). While the fuzz datagrams
// run, a well-formed UA on its own loopback address registers `ack-…` users one at a time,
// round-robin on the three nodes (Kamailio, kdmq a, kdmq b), and later changes some of them on
// another node (a second contact; the first contact removed), each change acknowledged with a 200
// before the next: the acked set is what those 200s say each contact is (there or removed), with
// the node that acked it (plus the 80 snapshot users registered before the campaign). After the
// campaign every node's exact contents (AoR → contact addresses) are read from the node itself
// (kdmq: ul.dump over its JSON-RPC; Kamailio: kamcmd ul.dump, or ul.lookup per AoR when the dump is
// "reply too big") and compared: ack- and snap- AoRs with the acked set, split by which system
// acked the change (a change Kamailio acked and never replicated is Kamailio's loss, not kdmq's),
// fz- AoRs (changed by the fuzz itself, no acked set) node with node.

import { SipUa } from '../../test/support/sip-ua.ts';
import type { FuzzCluster } from '../../test/support/fuzz-campaign.ts';
import { parseUlDump, type UlAor } from '../../test/support/kamcmd-parse.ts';
import { normKamailio, normKdmq, type NormDump } from '../../test/support/ul-compare.ts';

/** AoR → contact addresses */
export type Contents = Map<string, Set<string>>;

/** one acknowledged contact state: there or removed, and which system's 200 said so */
export interface AckedContact {
  present: boolean;
  by: 'kamailio' | 'kdmq' | 'before';
}
/** AoR → contact address → its acked state */
export type Acked = Map<string, Map<string, AckedContact>>;

export interface AckedLoad {
  /** what the acknowledged REGISTERs say */
  acked: Acked;
  registers: number;
  /** REGISTERs not answered 200 (each retried on the next node; not part of the acked set) */
  refused: number;
}

const CONTACT = (u: string, n: number) => `sip:${u}@127.0.0.10:${8000 + n}`;

/**
 * Sends acked REGISTERs until `stop()` resolves: users ack-0000…, one new user per round and,
 * once 20 users exist, one change of an older user on another node (add contact 2 to even users,
 * remove contact 1 from odd ones). At most `maxUsers` users. Returns what the 200s acked.
 */
export async function ackedLoad(c: FuzzCluster, ip: string, until: Promise<unknown>, maxUsers = 300, gapMs = 50): Promise<AckedLoad> {
  const nodes = [`${c.kam.ip}:${c.kam.sipPort}`, ...c.kdmq.map((k) => `${k.ip}:${k.sipPort}`)];
  const ua = await SipUa.open(ip);
  const acked: Acked = new Map();
  let done = false;
  void until.finally(() => (done = true));
  let registers = 0, refused = 0, cseq = 0;
  /** one change, on `node` or (not answered 200) the next; records the acked state */
  const send = async (node: number, user: string, contact: string, expires: number): Promise<void> => {
    for (let k = 0; k < nodes.length; k++) {
      registers++;
      const at = (node + k) % nodes.length;
      const r = await ua.register({ target: nodes[at], user, callId: `ack-${user}-${++cseq}@${ip}`, cseq: 1, contacts: [`<${contact}>;expires=${expires}`] }, 8000).catch(() => ({ status: 0 }));
      if (r.status === 200) {
        if (!acked.has(user)) acked.set(user, new Map());
        acked.get(user)!.set(contact, { present: expires > 0, by: at === 0 ? 'kamailio' : 'kdmq' });
        return;
      }
      // not answered: the change may or may not have been made, so the contact's state is unknown
      // until a later change is acked (the next node is asked the same)
      refused++;
    }
  };
  try {
    for (let i = 0; !done && i < maxUsers; i++) {
      const u = `ack-${String(i).padStart(4, '0')}`;
      await send(i % 3, u, CONTACT(u, 1), 3600);
      const j = i - 20;
      const v = `ack-${String(j).padStart(4, '0')}`;
      // the change goes to another node than the one that took the first REGISTER
      if (j >= 0 && j % 2 === 0) await send((j + 1) % 3, v, CONTACT(v, 2), 3600);
      if (j >= 0 && j % 2 === 1) await send((j + 2) % 3, v, CONTACT(v, 1), 0);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    await ua.close();
  }
  return { acked, registers, refused };
}

/** contents from a normalised dump, leaving out contacts that expire within `marginS` of `nowS` */
function contentsOf(d: NormDump, nowS: number, marginS: number): Contents {
  const out: Contents = new Map();
  for (const c of d.values()) {
    const exp = c.Expires;
    if (typeof exp === 'number' && exp < nowS + marginS) continue;
    const aor = String(c.AoR);
    if (!out.has(aor)) out.set(aor, new Set());
    out.get(aor)!.add(String(c.Address));
  }
  return out;
}

/** Kamailio's contents: kamcmd ul.dump, or ul.lookup per AoR of `aors` (8 at a time) when it is too big */
async function kamContents(c: FuzzCluster, aors: string[], marginS: number): Promise<Contents> {
  try {
    const at = Date.now();
    return contentsOf(normKamailio(await c.kam.ulDump(), at), at / 1000, marginS);
  } catch (e) {
    if (!/reply too big|creating aor/i.test(String(e))) throw e;
  }
  const out: Contents = new Map();
  for (let i = 0; i < aors.length; i += 8) {
    const rs = await Promise.all(aors.slice(i, i + 8).map(async (u) => ({ r: await c.kam.kamcmd('ul.lookup', 'location', u), at: Date.now() })));
    for (const { r, at } of rs) {
      if (r.code !== 0 || r.timedOut || !r.stdout.trimStart().startsWith('{')) continue; // not found
      const body = r.stdout.trim().split('\n').slice(1).join('\n');
      const parsed: UlAor[] = parseUlDump(`Domains: {\nDomain: {\nDomain: location\nAoRs: {\nInfo: {\n${body}\n}\n}\n}\n`);
      for (const [k, v] of contentsOf(normKamailio(parsed, at), at / 1000, marginS)) out.set(k, v);
    }
  }
  return out;
}

/** every node's contents, [Kamailio, kdmq a, kdmq b]; `aors` = every AoR that may exist */
export async function readContents(c: FuzzCluster, aors: string[], marginS = 20): Promise<Contents[]> {
  const kd = await Promise.all(c.kdmq.map(async (k) => {
    const at = Date.now();
    return contentsOf(normKdmq(await k.rpc('ul.dump'), at), at / 1000, marginS);
  }));
  return [await kamContents(c, aors, marginS), ...kd];
}

export interface ContentsDiff {
  /** AoRs (of those compared) whose contact set differs */
  aors: number;
  /** contacts expected but missing, and present but not expected */
  missing: number;
  extra: number;
  examples: string[];
}

/** `got` against `want`, over the AoRs that `keep` selects */
export function diffContents(want: Contents, got: Contents, keep: (aor: string) => boolean): ContentsDiff {
  const d: ContentsDiff = { aors: 0, missing: 0, extra: 0, examples: [] };
  const all = new Set([...want.keys(), ...got.keys()].filter(keep));
  for (const aor of all) {
    const w = want.get(aor) ?? new Set<string>();
    const g = got.get(aor) ?? new Set<string>();
    const miss = [...w].filter((x) => !g.has(x));
    const more = [...g].filter((x) => !w.has(x));
    if (miss.length === 0 && more.length === 0) continue;
    d.aors++;
    d.missing += miss.length;
    d.extra += more.length;
    if (d.examples.length < 3) d.examples.push(`${aor}: missing [${miss.join(' ')}] extra [${more.join(' ')}]`);
  }
  return d;
}

/**
 * A node's contents against the acked states whose 200 came from `by` (and the snapshot): a
 * contact acked there and missing, or acked removed and there; plus, on every call, contacts of
 * acked AoRs that no REGISTER ever named (extra). A contact whose only change was not answered
 * is not in `acked` and not judged.
 */
export function diffAcked(acked: Acked, got: Contents, by: Array<AckedContact['by']>, keep: (aor: string) => boolean): ContentsDiff {
  const d: ContentsDiff = { aors: 0, missing: 0, extra: 0, examples: [] };
  const bad = new Set<string>();
  const note = (aor: string, what: string) => {
    bad.add(aor);
    if (d.examples.length < 3) d.examples.push(`${aor}: ${what}`);
  };
  for (const [aor, cs] of acked) {
    const g = got.get(aor) ?? new Set<string>();
    for (const [c, st] of cs) {
      if (!by.includes(st.by) || st.present === g.has(c)) continue;
      if (st.present) d.missing++;
      else d.extra++;
      note(aor, `${st.present ? 'missing' : 'removed but there'} ${c} (acked by ${st.by})`);
    }
    for (const c of g) if (!cs.has(c)) (d.extra++, note(aor, `never registered ${c}`));
  }
  for (const aor of got.keys()) if (keep(aor) && !acked.has(aor)) (d.extra += got.get(aor)!.size, note(aor, 'AoR never registered'));
  d.aors = bad.size;
  return d;
}
