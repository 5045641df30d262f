// JSON-RPC 2.0 dispatch (no I/O): a registry of methods with Kamailio's names, each taking the
// positional params and returning a result or throwing RpcError (code + message, as Kamailio's
// jsonrpcs answers: 500 "Invalid Parameters", -32601 "Method Not Found"…). rpc-http.ts serves it.

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
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
      if (!m) throw new RpcError(500, 'command not found');
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
    return JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
  }
  const id = req.id === undefined ? null : req.id;
  if (typeof req.method !== 'string') {
    return JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id });
  }
  const m = reg.methods.get(req.method);
  if (!m) return JSON.stringify({ jsonrpc: '2.0', error: { code: 500, message: 'Method Not Found' }, id });
  const params = Array.isArray(req.params) ? req.params : req.params === undefined ? [] : [req.params];
  try {
    const result = await m.fn(params);
    return JSON.stringify({ jsonrpc: '2.0', result, id });
  } catch (e) {
    if (e instanceof RpcError) return JSON.stringify({ jsonrpc: '2.0', error: { code: e.code, message: e.message }, id });
    return JSON.stringify({ jsonrpc: '2.0', error: { code: 500, message: `Internal error: ${(e as Error).message}` }, id });
  }
}
