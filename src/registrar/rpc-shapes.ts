// Kamailio 5.6.3 JSON-RPC result shapes of the location store (kamailio-rpc-examples.md): ul.dump
// (full and brief), ul.lookup, ul.rm, ul.rm_contact, and the usrloc:/registrar: counters of
// stats.get_statistics. Pure functions of the store; the RPC server wraps them in JSON-RPC 2.0.
import type { Binding } from '../actors/location/binding.ts';
import type { RegistrarConfig } from './registrar.ts';
import type { LocationStore } from '../actors/location/store.ts';
import { ERRORS, errorText, type ErrorCode } from '../errors.ts';

export type RpcOutcome<T> = { result: T } | { error: { code: number; message: string; kdmqCode: ErrorCode } };

/** the catalog's fault (specs/errors.md) as an outcome */
function fault(kdmqCode: ErrorCode): { error: { code: number; message: string; kdmqCode: ErrorCode } } {
  return { error: { code: ERRORS[kdmqCode].status ?? 500, message: errorText(kdmqCode), kdmqCode } };
}

const TABLE = 'location';
const SIZE = 1024;
const NOT_SET = '[not set]';

/** Kamailio's core_hash(aor, NULL, 0) (core/hash_func.h), shown as HashID */
export function coreHash(s: string): number {
  const b = new TextEncoder().encode(s);
  let h = 0;
  let p = 0;
  for (; p + 4 <= b.length; p += 4) {
    const v = ((b[p] << 24) + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3]) >>> 0;
    h = (h + (v ^ (v >>> 3))) >>> 0;
  }
  let v = 0;
  for (; p < b.length; p++) v = ((v << 8) + b[p]) >>> 0;
  h = (h + (v ^ (v >>> 3))) >>> 0;
  return (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
}

function contactShape(b: Binding, nowSec: number, socket: string): { Contact: Record<string, unknown> } {
  const left = b.expires === 0 ? 'permanent' : b.expires - nowSec;
  return {
    Contact: {
      Address: b.c,
      Expires: typeof left === 'number' && left <= 0 ? 'expired' : left,
      // Kamailio's rpc_dump_contact: q as a double (0.5) when set, the integer -1 when unspecified
      Q: b.q === -1 ? -1 : b.q / 1000,
      'Call-ID': b.callId,
      CSeq: b.cseq,
      'User-Agent': b.userAgent === '' ? NOT_SET : b.userAgent,
      Received: b.received === '' ? NOT_SET : b.received,
      Path: b.path === '' ? NOT_SET : b.path,
      State: 'CS_NEW',
      Flags: b.flags,
      CFlags: b.cflags,
      Socket: b.replicated ? NOT_SET : socket,
      Methods: b.methods >>> 0,
      Ruid: b.ruid,
      Instance: b.instance === '' ? NOT_SET : b.instance,
      'Reg-Id': b.regId,
      'Server-Id': b.serverId,
      'Tcpconn-Id': -1,
      Keepalive: 0,
      'Last-Keepalive': b.lastModified,
      'KA-Roundtrip': 0,
      'Last-Modified': b.lastModified,
    },
  };
}

/** AoRs in Kamailio's hash-slot order (slot = HashID & (Size-1)), insertion order within a slot */
function ordered(store: LocationStore): Array<[string, readonly Binding[], number]> {
  const rows: Array<[string, readonly Binding[], number]> = [];
  for (const [aor, list] of store.aors) rows.push([aor, list, coreHash(aor)]);
  return rows.sort((a, b) => (a[2] & (SIZE - 1)) - (b[2] & (SIZE - 1)));
}

/** ul.dump [] and ul.dump ["brief"] */
export function ulDump(store: LocationStore, opts: { brief?: boolean; socket?: string } = {}): unknown {
  const now = store.nowSec();
  const rows = ordered(store);
  const slots = new Map<number, number>();
  for (const r of rows) slots.set(r[2] & (SIZE - 1), (slots.get(r[2] & (SIZE - 1)) ?? 0) + 1);
  const aors = rows.map(([aor, list, hash]) =>
    opts.brief === true
      ? { AoR: aor }
      : { Info: { AoR: aor, HashID: hash, Contacts: list.map((b) => contactShape(b, now, opts.socket ?? NOT_SET)) } },
  );
  return {
    Domains: [
      {
        Domain: {
          Domain: TABLE, Size: SIZE, AoRs: aors,
          Stats: { Records: rows.length, 'Max-Slots': Math.max(0, ...slots.values()) },
        },
      },
    ],
  };
}

/** ul.lookup ["location", aor] */
export function ulLookup(store: LocationStore, aor: string, opts: { socket?: string } = {}): RpcOutcome<unknown> {
  const list = store.get(aor);
  if (list.length === 0) return fault('KDMQ_RPC_UL_AOR_NOT_FOUND'); // 500 as 5.6.3
  const now = store.nowSec();
  return { result: { AoR: aor, Contacts: list.map((b) => contactShape(b, now, opts.socket ?? NOT_SET)) } };
}

/** ul.rm ["location", aor]: removes every binding of the AoR (each replicated as a delete); an unknown AoR is no error (5.6.3) */
export function ulRm(store: LocationStore, aor: string): RpcOutcome<null> {
  const list = [...store.get(aor)];
  for (const b of list) store.remove(b, 'local');
  return { result: null };
}

/** ul.rm_contact ["location", aor, contact] */
export function ulRmContact(store: LocationStore, aor: string, contact: string): RpcOutcome<null> {
  const list = store.get(aor);
  if (list.length === 0) return fault('KDMQ_RPC_UL_RM_AOR_NOT_FOUND'); // 5.6.3's words here
  const hits = list.filter((b) => b.c === contact);
  if (hits.length === 0) return fault('KDMQ_RPC_UL_CONTACT_NOT_FOUND');
  for (const b of hits) store.remove(b, 'local');
  return { result: null };
}

/** stats.get_statistics ["usrloc:"] */
export function usrlocStats(store: LocationStore): string[] {
  const users = store.aors.size;
  return [
    `usrloc:location_contacts = ${store.contactCount()}`,
    `usrloc:location_expires = ${store.expiredCount}`,
    `usrloc:location_users = ${users}`,
    `usrloc:registered_users = ${users}`,
  ];
}

/** stats.get_statistics ["registrar:"] */
export function registrarStats(store: LocationStore, config: RegistrarConfig): string[] {
  return [
    `registrar:accepted_regs = ${store.acceptedRegs}`,
    `registrar:default_expire = ${config.default_expires}`,
    'registrar:default_expires_range = 0',
    'registrar:expires_range = 0',
    `registrar:max_contacts = ${config.max_contacts}`,
    `registrar:max_expires = ${config.max_expires}`,
    `registrar:rejected_regs = ${store.rejectedRegs}`,
  ];
}
