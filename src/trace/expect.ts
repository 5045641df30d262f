// `kdmq replay CAPTURE --as NODE --expect FILE`: an answer taken from that node (`kamcmd ul.dump`,
// `dmq.list_nodes` or `htable.dump TABLE`, as kamcmd prints it or as a JSON-RPC answer / `kdmq ctl
// --json`) read into one shape, and compared with the node's final state as the capture shows it.
// Parsing never throws: an unusable file gives one error line (exit 2 in the CLI).

export interface ExpContact {
  aor: string;
  c: string;
  callid?: string;
  cseq?: number;
  ruid?: string;
  lastModified?: number;
}

export type Expected =
  | { kind: 'ul.dump'; contacts: ExpContact[] }
  | { kind: 'dmq.list_nodes'; nodes: Array<{ host: string; port: string; status: string; local: boolean }> }
  | { kind: 'htable.dump'; items: Record<string, string | number> };

export type ExpectParse = { ok: true; value: Expected } | { ok: false; error: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '[not set]' ? undefined : String(v));

function contactOf(aor: string, c: Obj): ExpContact {
  return { aor, c: String(c.Address ?? ''), callid: str(c['Call-ID']), cseq: num(c.CSeq), ruid: str(c.Ruid), lastModified: num(c['Last-Modified']) };
}

function fromJson(v: unknown): ExpectParse {
  if (isObj(v) && 'error' in v) return { ok: false, error: `the file is a JSON-RPC error answer: ${JSON.stringify(v.error)}` };
  const r = isObj(v) && 'result' in v ? v.result : v;
  if (isObj(r) && Array.isArray(r.Domains)) {
    const contacts: ExpContact[] = [];
    for (const d of r.Domains) {
      const aors = isObj(d) && isObj(d.Domain) && Array.isArray(d.Domain.AoRs) ? d.Domain.AoRs : [];
      for (const a of aors) {
        const info = isObj(a) && isObj(a.Info) ? a.Info : {};
        for (const c of Array.isArray(info.Contacts) ? info.Contacts : []) if (isObj(c) && isObj(c.Contact)) contacts.push(contactOf(String(info.AoR), c.Contact));
      }
    }
    return { ok: true, value: { kind: 'ul.dump', contacts } };
  }
  if (Array.isArray(r) && r.every((x) => isObj(x) && 'host' in x && 'status' in x)) {
    return { ok: true, value: { kind: 'dmq.list_nodes', nodes: (r as Obj[]).map((x) => ({ host: String(x.host), port: String(x.port ?? ''), status: String(x.status), local: Number(x.local) === 1 || x.local === true })) } };
  }
  if (Array.isArray(r) && r.every((x) => isObj(x) && Array.isArray(x.slot))) {
    const items: Record<string, string | number> = {};
    for (const s of r as Obj[]) for (const it of s.slot as Obj[]) items[String(it.name)] = it.type === 'int' ? Number(it.value) : String(it.value);
    return { ok: true, value: { kind: 'htable.dump', items } };
  }
  return { ok: false, error: 'JSON that is no ul.dump, dmq.list_nodes or htable.dump answer' };
}

/** kamcmd's text: "Key: value" lines inside braces */
function fromText(text: string): ExpectParse {
  const lines = text.split(/\r?\n/).map((l) => /^\s*([A-Za-z_-]+):\s*(.*?)\s*$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const keys = new Set(lines.map((m) => m[1]));
  if (keys.has('AoR')) {
    const contacts: ExpContact[] = [];
    let aor = '';
    let cur: Obj | null = null;
    const flush = () => {
      if (cur) contacts.push(contactOf(aor, cur));
      cur = null;
    };
    for (const [, k, v] of lines) {
      if (k === 'AoR') {
        flush();
        aor = v;
      } else if (k === 'Address') {
        flush();
        cur = { Address: v };
      } else if (cur) cur[k] = v;
    }
    flush();
    return { ok: true, value: { kind: 'ul.dump', contacts } };
  }
  if (keys.has('host') && keys.has('status')) {
    const nodes: Array<{ host: string; port: string; status: string; local: boolean }> = [];
    for (const [, k, v] of lines) {
      if (k === 'host') nodes.push({ host: v, port: '', status: '', local: false });
      const n = nodes[nodes.length - 1];
      if (!n) continue;
      if (k === 'port') n.port = v;
      if (k === 'status') n.status = v;
      if (k === 'local') n.local = v === '1';
    }
    return { ok: true, value: { kind: 'dmq.list_nodes', nodes } };
  }
  if (keys.has('name') && keys.has('value')) {
    const items: Record<string, string | number> = {};
    let name: string | null = null;
    let value = '';
    for (const [, k, v] of lines) {
      if (k === 'name') name = v;
      else if (k === 'value') value = v;
      else if (k === 'type' && name !== null) {
        items[name] = v === 'int' ? Number(value) : value;
        name = null;
      }
    }
    return { ok: true, value: { kind: 'htable.dump', items } };
  }
  return { ok: false, error: 'not a kamcmd ul.dump, dmq.list_nodes or htable.dump answer (text or JSON-RPC)' };
}

export function parseExpected(text: string): ExpectParse {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'the file is empty' };
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return fromJson(JSON.parse(t));
    } catch {
      // kamcmd text also starts with "{": read it as text
    }
  }
  return fromText(t);
}
