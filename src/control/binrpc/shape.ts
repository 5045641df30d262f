// How an RPC result of the registry (JSON-shaped, as jsonrpcs answers) becomes BINRPC records the
// way Kamailio's ctl writes the same rpc->add/struct_add calls (binrpc_run.c): a top-level array
// is one record per element (rpc->add repeated), objects are structs, arrays inside are structs
// too ('[' is a struct in BINRPC) whose single-key objects are named members (struct_add) and
// other elements anonymous ones (array_add); integers up to 2^32 are C ints (an unsigned 'u'
// wraps, so Methods 4294967295 prints -1 as on Kamailio), larger or fractional numbers doubles.
// Also: BINRPC parameters → JSON values, and kamcmd's printing of a reply (utils/kamcmd). Pure.

import type { BinrpcMember, BinrpcValue } from './codec.ts';

export interface ShapeHints {
  /** member names Kamailio adds with 'f' (doubles), e.g. ul.dump's "Q" */
  doubles?: ReadonlySet<string>;
}

/** per method: what the JSON shape does not say (names sent as doubles) */
export const METHOD_HINTS: Record<string, ShapeHints> = {
  'ul.dump': { doubles: new Set(['Q']) },
  'ul.lookup': { doubles: new Set(['Q']) },
};

const NULL_STRING = '<null string>'; // what Kamailio's rpc->add sends for a NULL string

export function resultRecords(result: unknown, hints: ShapeHints = {}): BinrpcValue[] {
  if (result === undefined || result === null) return []; // a method that added nothing (ul.rm)
  if (Array.isArray(result)) return result.map((x) => toValue(x, hints, null, 0));
  return [toValue(result, hints, null, 0)];
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function numberValue(x: number, asDouble: boolean): BinrpcValue {
  if (!asDouble && Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 32) return { t: 'int', v: x | 0 };
  return { t: 'double', v: x };
}

const MAX_SHAPE_DEPTH = 60;

function toValue(x: unknown, hints: ShapeHints, name: string | null, depth: number): BinrpcValue {
  if (depth > MAX_SHAPE_DEPTH) return { t: 'str', v: '[too deep]' };
  switch (typeof x) {
    case 'string':
      return { t: 'str', v: x };
    case 'number':
      return numberValue(x, name !== null && hints.doubles?.has(name) === true);
    case 'bigint':
      return numberValue(Number(x), false);
    case 'boolean':
      return { t: 'int', v: x ? 1 : 0 };
    default:
      break;
  }
  if (x instanceof Uint8Array) return { t: 'bytes', v: x };
  if (Array.isArray(x)) {
    const members: BinrpcMember[] = x.map((el) => {
      if (isPlainObject(el)) {
        const keys = Object.keys(el);
        if (keys.length === 1) return { name: keys[0], value: toValue(el[keys[0]], hints, keys[0], depth + 1) };
      }
      return { name: null, value: toValue(el, hints, null, depth + 1) };
    });
    return { t: 'struct', v: members };
  }
  if (isPlainObject(x)) {
    return { t: 'struct', v: Object.entries(x).map(([k, v]) => ({ name: k, value: toValue(v, hints, k, depth + 1) })) };
  }
  return { t: 'str', v: NULL_STRING };
}

/** a BINRPC parameter as the registry's methods take it (kamcmd sends ints, doubles and strings) */
export function paramValue(v: BinrpcValue): unknown {
  switch (v.t) {
    case 'int':
    case 'double':
    case 'str':
      return v.v;
    case 'bytes':
      return Buffer.from(v.v).toString('utf8');
    case 'array':
      return v.v.map(paramValue);
    case 'struct':
      if (v.v.every((m) => m.name !== null)) return Object.fromEntries(v.v.map((m) => [m.name, paramValue(m.value)]));
      return v.v.map((m) => paramValue(m.value));
  }
}

// ---- kamcmd's printing (print_body / print_binrpc_val of utils/kamcmd/kamcmd.c 5.6.3) ----

function scalarText(v: BinrpcValue): string {
  switch (v.t) {
    case 'int':
      return String(v.v | 0);
    case 'str':
      return v.v;
    case 'bytes':
      return Buffer.from(v.v).toString('latin1');
    case 'double':
      return Number.isInteger(v.v) ? BigInt(v.v).toString() : v.v.toFixed(6);
    default:
      return '';
  }
}

/** the text kamcmd prints for a reply body: one line per record, tabs for nesting */
export function kamcmdPrint(values: BinrpcValue[]): string {
  const out: string[] = [];
  const line = (ident: number, name: string | null, text: string) => out.push(`${'\t'.repeat(Math.max(0, ident))}${name !== null ? `${name}: ` : ''}${text}`);
  const walk = (v: BinrpcValue, name: string | null, depth: number): void => {
    if (v.t === 'struct') {
      line(depth, name, '{');
      for (const m of v.v) walk(m.value, m.name, depth + 1);
      line(depth, null, '}');
    } else if (v.t === 'array') {
      line(depth + 1, name, '[');
      for (const x of v.v) walk(x, null, depth + 1);
      line(depth, null, ']');
    } else line(depth, name, scalarText(v));
  };
  for (const v of values) walk(v, null, 0);
  return out.map((l) => `${l}\n`).join('');
}

/** what kamcmd prints for a fault: "error: CODE - MESSAGE" */
export function kamcmdFaultText(values: BinrpcValue[]): string {
  return `error: ${values.map(scalarText).join(' - ')}\n`;
}
