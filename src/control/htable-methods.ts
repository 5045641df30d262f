// htable.* RPC methods with Kamailio 5.6.3's names, result shapes, result strings and error
// messages (kamailio-rpc-examples.md; the strings and parameter coercions below were read from a
// live 5.6.3 over jsonrpcs: strict strings for table/key, "."-auto-converted values, C int casts).
// Writes go through the store, which replicates them (§6.3); htable.flush is not replicated.

import type { HtableStore } from '../htable/store.ts';
import type { HtableValue } from '../actors/channels/htable-body.ts';
import { formatExpire } from '../htable/hash.ts';
import { RpcError, register, rpcError, type RpcRegistry } from './rpc.ts';
import type { ErrorCode } from '../errors.ts';

const INT32_MIN = -2147483648;

/** a store's own refusal (no such table, full), as htable's RPC answers it */
const fail = (message: string) => new RpcError(500, message);

/** jsonrpcs "S": a JSON string, nothing else */
function str(p: unknown): string | undefined {
  return typeof p === 'string' ? p : undefined;
}

/** jsonrpcs "S" after ".": a string, or a number printed as an integer */
function autoStr(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (typeof p === 'number') return String(toInt(p));
  return undefined;
}

/** jsonrpcs "d": numbers cast as C does (x86: out of range → INT_MIN), true 1, strings/null/false 0 */
function int(p: unknown): number | undefined {
  if (p === undefined || (typeof p === 'object' && p !== null)) return undefined;
  if (typeof p === 'number') return toInt(p);
  return p === true ? 1 : 0;
}

function toInt(n: number): number {
  const t = Math.trunc(n);
  return Number.isFinite(t) && t >= INT32_MIN && t <= 2147483647 ? t : INT32_MIN;
}

function needTable(store: HtableStore, t: string, code: ErrorCode = 'KDMQ_RPC_HTABLE_NOT_FOUND'): void {
  if (!store.has(t)) throw rpcError(code);
}

const SET_OK = 'Ok. Key set to new value.';

/** admission control (LimitGuard.admitChange): a write the node could not replicate is refused first */
export type Admit = () => { status: number; reason: string } | null;

function admitted(admit: Admit | undefined): void {
  const r = admit?.();
  if (r) throw new RpcError(r.status, r.reason);
}

/** htable.* in Kamailio's order: dump, get, the writes, listTables, stats, flush */
export function registerHtableMethods(reg: RpcRegistry, store: HtableStore, admit?: Admit): void {
  registerLookups(reg, store);
  registerWrites(reg, store, admit);
  registerTableMethods(reg, store);
}

function registerLookups(reg: RpcRegistry, store: HtableStore): void {
  register(reg, 'htable.dump', 'Dump the contents of hash table.', (p) => {
    const t = str(p[0]);
    if (t === undefined) throw rpcError('KDMQ_RPC_HTABLE_NO_NAME');
    const slots = store.dump(t);
    if (!slots) throw rpcError('KDMQ_RPC_HTABLE_NOT_FOUND');
    return slots.map((s) => ({
      entry: s.entry,
      size: s.items.length,
      slot: s.items.map((it) => ({ name: it.name, value: valueOf(it.value), type: it.value.type === 2 ? 'str' : 'int' })),
    }));
  });

  register(reg, 'htable.get', 'Get one key from a hash table.', (p) => {
    const [t, k] = [str(p[0]), str(p[1])];
    if (t === undefined || k === undefined) throw rpcError('KDMQ_RPC_HTABLE_GET_PARAMS');
    needTable(store, t);
    const it = store.get(t, k);
    if (!it) throw rpcError('KDMQ_RPC_HTABLE_NO_KEY');
    const expire = it.expireAt === 0 ? 'NEVER' : formatExpire(Math.floor(it.expireAt / 1000));
    return { item: { name: it.name, value: valueOf(it.value), flags: it.value.type, expire } };
  });
}

/** the writes: refused while the node is over a replication limit (admit) */
function registerWrites(reg: RpcRegistry, store: HtableStore, admit?: Admit): void {
  const setter = (name: string, help: string, read: (p: unknown) => HtableValue | undefined) =>
    register(reg, name, help, (p) => {
      const [t, k, v] = [str(p[0]), str(p[1]), read(p[2])];
      if (t === undefined || k === undefined || v === undefined) throw rpcError('KDMQ_RPC_HTABLE_SET_PARAMS');
      needTable(store, t);
      admitted(admit);
      const r = store.set(t, k, v);
      if (!r.ok) throw fail(r.message);
      return SET_OK;
    });
  setter('htable.sets', 'Set one key in a hash table to a string value.', strValue);
  setter('htable.seti', 'Set one key in a hash table to an integer value.', intValue);

  register(reg, 'htable.setex', 'Set expire in a hash table.', (p) => {
    const [t, k, e] = [str(p[0]), str(p[1]), int(p[2])];
    if (t === undefined || k === undefined || e === undefined) throw rpcError('KDMQ_RPC_HTABLE_SETEX_PARAMS');
    needTable(store, t);
    admitted(admit);
    store.setex(t, k, e);
    return 'Ok';
  });

  const setterx = (name: string, help: string, read: (p: unknown) => HtableValue | undefined) =>
    register(reg, name, help, (p) => {
      const [t, k, v, e] = [str(p[0]), str(p[1]), read(p[2]), int(p[3])];
      if (t === undefined || k === undefined || v === undefined || e === undefined) {
        throw rpcError('KDMQ_RPC_HTABLE_SETX_PARAMS');
      }
      needTable(store, t, 'KDMQ_RPC_HTABLE_SET_FAILED');
      admitted(admit);
      const r = store.setx(t, k, v, e);
      if (!r.ok) throw fail(r.message);
      return SET_OK;
    });
  setterx('htable.setxs', 'Set one key in a hash table to a string value and its expire.', strValue);
  setterx('htable.setxi', 'Set one key in a hash table to an integer value and its expire.', intValue);

  register(reg, 'htable.delete', 'Delete one key from a hash table.', (p) => {
    const [t, k] = [str(p[0]), str(p[1])];
    if (t === undefined || k === undefined) throw rpcError('KDMQ_RPC_HTABLE_DELETE_PARAMS'); // sic: Kamailio's text lacks the ')'
    needTable(store, t);
    admitted(admit);
    const r = store.delete(t, k);
    if (r.ok && !r.value) throw rpcError('KDMQ_RPC_HTABLE_KEY_NOT_FOUND');
    return 'Ok. Key deleted.';
  });
}

function registerTableMethods(reg: RpcRegistry, store: HtableStore): void {
  register(reg, 'htable.listTables', 'List all htables.', () => {
    const tables = store.listTables();
    if (tables.length === 0) throw rpcError('KDMQ_RPC_HTABLE_NONE');
    return tables.map((t) => ({
      name: t.name,
      dbtable: '',
      dbmode: 0,
      expire: t.autoexpire,
      updateexpire: t.updateexpire ? 1 : 0,
      size: 2 ** t.size,
      dmqreplicate: t.dmqreplicate ? 1 : 0,
    }));
  });

  register(reg, 'htable.stats', 'Statistics about htables.', () => {
    const s = store.stats();
    if (s.length === 0) throw rpcError('KDMQ_RPC_HTABLE_NONE');
    return s;
  });

  register(reg, 'htable.flush', 'Flush hash table.', (p) => {
    const t = str(p[0]);
    if (t === undefined) throw rpcError('KDMQ_RPC_HTABLE_NO_NAME');
    needTable(store, t);
    store.flush(t);
    return 'Ok. Htable flushed.';
  });
}

function strValue(p: unknown): HtableValue | undefined {
  const s = autoStr(p);
  return s === undefined ? undefined : { type: 2, strval: s };
}

function intValue(p: unknown): HtableValue | undefined {
  const n = int(p);
  return n === undefined ? undefined : { type: 0, intval: n };
}

function valueOf(v: HtableValue): string | number {
  return v.type === 2 ? v.strval : v.intval;
}
