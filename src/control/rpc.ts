// JSON-RPC 2.0 dispatch (no I/O): a registry of methods with Kamailio's names, each taking the
// positional params and returning a result or throwing RpcError (code + message, as Kamailio's
// jsonrpcs answers: 500 "Invalid Parameters", 500 "Method Not Found"…), each from the error catalog
// (src/errors.ts, specs/errors.md) when kdmq has a code for it. rpc-http.ts serves it.

import { ERRORS, errorText, type ErrorCode } from '../errors.ts';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** the catalog's code, when the error is one of its (specs/errors.md) */
    readonly kdmqCode?: ErrorCode,
  ) {
    super(message);
  }
}

/** the catalog's RPC error `code`, its message filled with `args` */
export function rpcError(code: ErrorCode, ...args: ReadonlyArray<string | number>): RpcError {
  return new RpcError(ERRORS[code].status ?? 500, errorText(code, ...args), code);
}

/** a JSON-RPC 2.0 error answer */
function errorAnswer(code: number, message: string, id: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
}

function catalogAnswer(code: ErrorCode, id: unknown, ...args: string[]): string {
  return errorAnswer(ERRORS[code].status ?? 500, errorText(code, ...args), id);
}

export type RpcMethod = (params: unknown[]) => unknown | Promise<unknown>;

export interface RpcRegistry {
  methods: Map<string, { fn: RpcMethod; help: string }>;
}

export function createRegistry(): RpcRegistry {
  const reg: RpcRegistry = { methods: new Map() };
  reg.methods.set('system.listMethods', { fn: () => [...reg.methods.keys()].sort(), help: 'Lists the RPC methods' });
  reg.methods.set('system.methodHelp', {
    fn: (p) => {
      const m = reg.methods.get(String(p[0]));
      if (!m) throw rpcError('KDMQ_RPC_COMMAND_NOT_FOUND');
      return m.help;
    },
    help: 'Print the help string for a method',
  });
  return reg;
}

export function register(reg: RpcRegistry, name: string, help: string, fn: RpcMethod): void {
  reg.methods.set(name, { fn, help });
}

interface JsonRpcRequest {
  jsonrpc?: unknown;
  method?: unknown;
  params?: unknown;
  id?: unknown;
}

export async function dispatch(reg: RpcRegistry, text: string): Promise<string> {
  let req: JsonRpcRequest;
  try {
    req = JSON.parse(text) as JsonRpcRequest;
  } catch {
    return catalogAnswer('KDMQ_RPC_PARSE_ERROR', null);
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return catalogAnswer('KDMQ_RPC_INVALID_REQUEST', null);
  }
  const id = req.id === undefined ? null : req.id;
  if (typeof req.method !== 'string') {
    return catalogAnswer('KDMQ_RPC_INVALID_REQUEST', id);
  }
  const m = reg.methods.get(req.method);
  if (!m) return catalogAnswer('KDMQ_RPC_METHOD_NOT_FOUND', id);
  const params = Array.isArray(req.params) ? req.params : req.params === undefined ? [] : [req.params];
  try {
    const result = await m.fn(params);
    return JSON.stringify({ jsonrpc: '2.0', result, id });
  } catch (e) {
    if (e instanceof RpcError) return errorAnswer(e.code, e.message, id);
    return catalogAnswer('KDMQ_RPC_INTERNAL', id, (e as Error).message);
  }
}
