// `kdmq ctl [--url URL] METHOD [ARGS…] [--json]`: calls a node's JSON-RPC (/RPC) and prints the
// result as kamcmd does (structs as `{ key: value }` blocks), or as JSON with --json. Arguments
// that look like integers are sent as numbers (as kamcmd does); prefix `s:` to force a string.
// A JSON-RPC error prints `error: CODE - MESSAGE` on stderr and exits 1. `--help` lists the
// node's methods (system.listMethods); `METHOD --help` prints that method's help. `--token T`
// (or KDMQ_RPC_TOKEN) sends `Authorization: Bearer T` for a node with rpc.token.

const DEFAULT_URL = 'http://127.0.0.1:8060/RPC';

export function kamcmdFormat(v: unknown, indent = ''): string {
  if (Array.isArray(v)) return v.map((x) => kamcmdFormat(x, indent)).join('');
  if (v !== null && typeof v === 'object') {
    let out = `${indent}{\n`;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== null && typeof x === 'object') {
        out += `${indent}\t${k}:\n${kamcmdFormat(x, indent + '\t\t')}`;
      } else {
        out += `${indent}\t${k}: ${String(x)}\n`;
      }
    }
    return out + `${indent}}\n`;
  }
  return `${indent}${String(v)}\n`;
}

function parseArg(a: string): string | number {
  if (a.startsWith('s:')) return a.slice(2);
  if (/^-?\d{1,15}$/.test(a)) return Number(a);
  return a;
}

export async function ctl(argv: string[]): Promise<number> {
  let url = process.env.KDMQ_RPC_URL ?? DEFAULT_URL;
  let token = process.env.KDMQ_RPC_TOKEN || undefined;
  let json = false;
  let help = false;
  let pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--url') url = argv[++i] ?? '';
    else if (a.startsWith('--url=')) url = a.slice(6);
    else if (a === '--token') token = argv[++i];
    else if (a.startsWith('--token=')) token = a.slice(8);
    else if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else pos.push(a);
  }
  if (help) pos = pos.length > 0 ? ['system.methodHelp', `s:${pos[0]}`] : ['system.listMethods'];
  if (!/^https?:\/\//.test(url)) url = `http://${url}${url.includes('/RPC') ? '' : '/RPC'}`;
  const [method, ...args] = pos;
  if (!method) {
    process.stderr.write('kdmq ctl: usage: kdmq ctl [--url URL] [--token TOKEN] METHOD [ARGS…] [--json]\n');
    return 2;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', method, params: args.map(parseArg), id: 1 }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    process.stderr.write(`kdmq ctl: cannot reach ${url}: ${(e as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  if (res.status === 401) {
    process.stderr.write(`kdmq ctl: ${url} answered 401 Unauthorized: ${token ? 'wrong token' : 'it needs --token (or KDMQ_RPC_TOKEN)'}\n`);
    return 1;
  }
  let body: { result?: unknown; error?: { code: number; message: string } };
  try {
    body = JSON.parse(text);
  } catch {
    process.stderr.write(`kdmq ctl: ${url} answered HTTP ${res.status} with something that is not JSON\n`);
    return 1;
  }
  if (body.error) {
    if (json) process.stdout.write(JSON.stringify(body.error, null, 2) + '\n');
    process.stderr.write(`error: ${body.error.code} - ${body.error.message}\n`);
    return 1;
  }
  process.stdout.write(json ? JSON.stringify(body.result, null, 2) + '\n' : kamcmdFormat(body.result));
  return 0;
}
