// Field-by-field comparison of usrloc dumps: Kamailio's `kamcmd ul.dump` (parsed by
// kamcmd-parse.ts) and kdmq's JSON-RPC `ul.dump` (Kamailio's result shape) are normalised to one
// contact record per (AoR, Ruid) holding the fields replicated over DMQ (protocol §5.3), then
// diffed; differences print as one readable line each.
import type { UlAor } from './kamcmd-parse.ts';

/** ul.dump fields compared: every one is carried by the usrloc DMQ record (§5.3). */
export const COMPARED_FIELDS = [
  'AoR', 'Address', 'Expires', 'Q', 'Call-ID', 'CSeq', 'User-Agent', 'Received', 'Path', 'Flags', 'CFlags',
  'Methods', 'Ruid', 'Instance', 'Reg-Id', 'Server-Id', 'Last-Modified',
] as const;

/** ul.dump fields NOT compared, and why. */
export const EXCLUDED_FIELDS: Record<string, string> = {
  Socket: 'not replicated (replicate_socket_info=0): the origin shows its socket, every peer "[not set]"',
  State: 'usrloc DB sync state (CS_NEW with db_mode 0), local, not replicated',
  'Tcpconn-Id': 'local TCP connection id (-1 for UDP/replicated), not replicated',
  Keepalive: 'local NAT-keepalive state, not replicated',
  'Last-Keepalive': 'local keepalive timestamp, not replicated (Kamailio sets it to its own receive time)',
  'KA-Roundtrip': 'local keepalive round-trip, not replicated',
  HashID: 'derived from the AoR (core_hash), not a stored field; AoR is compared',
};

export type NormContact = Record<(typeof COMPARED_FIELDS)[number], string | number>;
/** key `${AoR} ${Ruid}` → contact */
export type NormDump = Map<string, NormContact>;

const NOT_SET = '[not set]';

function absExpires(v: unknown, nowSec: number): number | string {
  if (v === 'permanent' || v === Infinity) return 'permanent';
  if (v === 'expired') return 'expired';
  const n = Number(v);
  return Number.isFinite(n) ? n + nowSec : String(v);
}

function norm(aor: string, f: Record<string, unknown>, nowSec: number): NormContact {
  const s = (k: string): string => {
    const v = f[k];
    return v === undefined || v === null || v === '' ? NOT_SET : String(v);
  };
  const n = (k: string): number | string => {
    const v = Number(f[k]);
    return Number.isFinite(v) ? v : s(k);
  };
  const methods = n('Methods');
  return {
    AoR: aor,
    Address: s('Address'),
    Expires: absExpires(f.Expires, nowSec),
    Q: n('Q'),
    'Call-ID': s('Call-ID'),
    CSeq: n('CSeq'),
    'User-Agent': s('User-Agent'),
    Received: s('Received'),
    Path: s('Path'),
    Flags: n('Flags'),
    CFlags: n('CFlags'),
    // kamcmd prints the unsigned bitmask as a signed int (-1); JSON-RPC as unsigned
    Methods: typeof methods === 'number' ? methods >>> 0 : methods,
    Ruid: s('Ruid'),
    Instance: s('Instance'),
    'Reg-Id': n('Reg-Id'),
    'Server-Id': n('Server-Id'),
    'Last-Modified': n('Last-Modified'),
  };
}

/** Kamailio: parsed `kamcmd ul.dump`, taken at wall time `atMs` (Expires is relative). */
export function normKamailio(aors: UlAor[], atMs: number): NormDump {
  const out: NormDump = new Map();
  const now = Math.floor(atMs / 1000);
  for (const a of aors) for (const c of a.contacts) {
    const n = norm(a.aor, c.raw, now);
    out.set(`${n.AoR} ${n.Ruid}`, n);
  }
  return out;
}

interface KdmqDump {
  Domains: Array<{ Domain: { AoRs: Array<{ Info: { AoR: string; Contacts: Array<{ Contact: Record<string, unknown> }> } }> } }>;
}

/** kdmq: JSON-RPC `ul.dump` result, taken at wall time `atMs`. */
export function normKdmq(result: unknown, atMs: number): NormDump {
  const out: NormDump = new Map();
  const now = Math.floor(atMs / 1000);
  for (const d of (result as KdmqDump).Domains) for (const a of d.Domain.AoRs) for (const c of a.Info.Contacts) {
    const n = norm(a.Info.AoR, c.Contact, now);
    out.set(`${n.AoR} ${n.Ruid}`, n);
  }
  return out;
}

/**
 * Differences of `other` against the reference dump, one line each: missing and extra contacts,
 * then every differing field. Expires may differ by `expiresToleranceSec` (dumps are not atomic).
 */
export function diffDumps(refName: string, ref: NormDump, otherName: string, other: NormDump, expiresToleranceSec = 1): string[] {
  const out: string[] = [];
  for (const [k, r] of ref) {
    const o = other.get(k);
    if (!o) {
      out.push(`${otherName} lacks ${r.AoR} ${r.Address} (ruid ${r.Ruid}) present on ${refName}`);
      continue;
    }
    for (const f of COMPARED_FIELDS) {
      const a = r[f];
      const b = o[f];
      if (f === 'Expires' && typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= expiresToleranceSec) continue;
      if (a !== b) out.push(`${r.AoR} ${r.Ruid} ${f}: ${refName}=${JSON.stringify(a)} ${otherName}=${JSON.stringify(b)}`);
    }
  }
  for (const [k, o] of other) if (!ref.has(k)) out.push(`${otherName} has extra ${o.AoR} ${o.Address} (ruid ${o.Ruid}) not on ${refName}`);
  return out;
}

/** Contacts of a dump as a short table (for logs). */
export function showDump(name: string, d: NormDump): string {
  const rows = [...d.values()].map((c) => `  ${COMPARED_FIELDS.map((f) => `${f}=${c[f]}`).join(' | ')}`);
  return `## ${name}: ${d.size} contacts\n${rows.join('\n')}`;
}
