// ul.* RPC methods (usrloc) with Kamailio 5.6.3's names, parameters and result shapes:
// ul.dump [brief], ul.lookup location <aor>, ul.rm location <aor>, ul.rm_contact location <aor>
// <contact>; an AoR as usrloc's rpc_fix_aor reads it (user@domain is user without use_domain).
// Errors as Kamailio 5.6.3 words them (read over BINRPC, test/interop/binrpc.test.ts).

import type { Registrar } from '../registrar/registrar.ts';
import { ulDump, ulLookup, ulRm, ulRmContact, type RpcOutcome } from '../registrar/rpc-shapes.ts';
import { RpcError, register, rpcError, type RpcRegistry } from './rpc.ts';

function unwrap<T>(o: RpcOutcome<T>): T {
  if ('error' in o) throw new RpcError(o.error.code, o.error.message, o.error.kdmqCode);
  return o.result;
}

function table(p: unknown[], what: string): void {
  if (p.length < 2) throw rpcError('KDMQ_RPC_UL_PARAMS', what);
  if (p[0] !== 'location') throw rpcError('KDMQ_RPC_UL_DOMAIN_TABLE');
}

/** usrloc's rpc_fix_aor: without use_domain "user@domain" is looked up as "user" (kamctl and kamcli send the domain); with it the domain is needed */
function fixAor(aor: unknown, useDomain: boolean): string {
  const s = String(aor);
  const at = s.indexOf('@');
  if (useDomain) {
    if (at < 0) throw rpcError('KDMQ_RPC_UL_DOMAIN_MISSING');
    return s;
  }
  return at < 0 ? s : s.slice(0, at);
}

/** `refresh` (usrloc db_mode 3): reads an AoR's rows from the database before ul.lookup answers */
export function registerUlMethods(reg: RpcRegistry, registrar: Registrar, admit?: () => { status: number; reason: string } | null, refresh?: (aor: string) => void): void {
  const admitted = (): void => {
    const r = admit?.();
    if (r) throw new RpcError(r.status, r.reason, 'KDMQ_RPC_UL_LIMIT'); // limitReply's 503 reason: the catalog's text
  };
  const store = registrar.store;
  const socket = registrar.socket;
  const aor = (p: unknown[]) => fixAor(p[1], registrar.config.use_domain);
  register(reg, 'ul.dump', 'Dump user location tables', (p) => ulDump(store, { brief: p[0] === 'brief', socket }));
  register(reg, 'ul.lookup', 'Lookup one AOR in the usrloc location table', (p) => {
    table(p, 'lookup');
    refresh?.(aor(p));
    return unwrap(ulLookup(store, aor(p), { socket }));
  });
  register(reg, 'ul.rm', 'Delete a address of record including its contacts', (p) => {
    table(p, 'lookup'); // sic: 5.6.3's ul.rm says "to lookup" too
    admitted();
    return unwrap(ulRm(store, aor(p)));
  });
  register(reg, 'ul.rm_contact', 'Delete a contact from an AOR record', (p) => {
    if (p.length < 3) throw rpcError('KDMQ_RPC_UL_CONTACT_PARAMS');
    table(p, 'delete');
    admitted();
    return unwrap(ulRmContact(store, aor(p), String(p[2])));
  });
}
