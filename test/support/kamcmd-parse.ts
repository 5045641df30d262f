// Parsers for kamcmd's text output (Kamailio 5.6.3): a generic tree parser for its
// "key: value" / "key: {" / "{" / "}" format (keys may repeat, e.g. every AoR is "Info:"),
// and typed extractors for dmq.list_nodes, ul.dump, htable.dump and stats.get_statistics.

/** One item of kamcmd output: `key` is null for anonymous structs and bare array values. */
export interface KEntry {
  key: string | null;
  value: string | KEntry[];
}

/** Parse kamcmd's indented text into a tree (values stay strings). */
export function parseKamcmd(text: string): KEntry[] {
  const root: KEntry[] = [];
  const stack: KEntry[][] = [root];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const top = stack[stack.length - 1];
    if (line === '}') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    if (line === '{') {
      const kids: KEntry[] = [];
      top.push({ key: null, value: kids });
      stack.push(kids);
      continue;
    }
    const m = /^([^:]+?):(?: (.*))?$/.exec(line);
    if (m && m[2] === '{') {
      const kids: KEntry[] = [];
      top.push({ key: m[1], value: kids });
      stack.push(kids);
    } else if (m) {
      top.push({ key: m[1], value: m[2] ?? '' });
    } else {
      top.push({ key: null, value: line });
    }
  }
  return root;
}

/** All children of `list` with this key. */
export function kAll(list: KEntry[], key: string): KEntry[] {
  return list.filter((e) => e.key === key);
}

/** String fields of a struct as a plain record (nested structs are skipped). */
export function kFields(list: KEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list) if (e.key !== null && typeof e.value === 'string') out[e.key] = e.value;
  return out;
}

function kids(e: KEntry | undefined): KEntry[] {
  return e && Array.isArray(e.value) ? e.value : [];
}

export interface DmqNode {
  host: string;
  port: number;
  proto: string;
  resolved_ip: string;
  status: string;
  last_notification: number;
  local: boolean;
  /** 6.1+: failures counted by the fail_count mechanism (absent before 6.1) */
  fail_count?: number;
}

/** `kamcmd dmq.list_nodes`: one anonymous struct per node (the local node has local: 1). */
export function parseListNodes(text: string): DmqNode[] {
  return parseKamcmd(text)
    .filter((e) => e.key === null && Array.isArray(e.value))
    .map((e) => {
      const f = kFields(kids(e));
      return {
        host: f.host ?? '',
        port: Number(f.port ?? 0),
        proto: f.proto ?? '',
        resolved_ip: f.resolved_ip ?? '',
        status: f.status ?? '',
        last_notification: Number(f.last_notification ?? 0),
        local: f.local === '1',
        ...(f.fail_count !== undefined ? { fail_count: Number(f.fail_count) } : {}),
      };
    });
}

export interface UlContact {
  address: string;
  expires: number;
  q: number;
  callId: string;
  cseq: number;
  userAgent: string;
  ruid: string;
  socket: string;
  flags: number;
  cflags: number;
  methods: number;
  lastModified: number;
  /** Every field as printed ("[not set]" kept verbatim). */
  raw: Record<string, string>;
}

export interface UlAor {
  domain: string;
  aor: string;
  contacts: UlContact[];
}

/**
 * `kamcmd ul.dump`: Domains { Domain { Domain: location, AoRs { Info { AoR, Contacts { Contact {…} } } } } }.
 * "Info" and "Contact" repeat under the same parent. Expires is relative seconds (or "permanent").
 */
export function parseUlDump(text: string): UlAor[] {
  const out: UlAor[] = [];
  const top = parseKamcmd(text);
  const domainsStructs = top.flatMap((e) => (e.key === null ? kAll(kids(e), 'Domains') : e.key === 'Domains' ? [e] : []));
  for (const domains of domainsStructs) {
    for (const dom of kAll(kids(domains), 'Domain').filter((d) => Array.isArray(d.value))) {
      const domName = kFields(kids(dom)).Domain ?? '';
      for (const aors of kAll(kids(dom), 'AoRs')) {
        for (const info of kAll(kids(aors), 'Info')) {
          const aor = kFields(kids(info)).AoR ?? '';
          const contacts: UlContact[] = [];
          for (const cs of kAll(kids(info), 'Contacts')) {
            for (const c of kAll(kids(cs), 'Contact')) {
              const f = kFields(kids(c));
              contacts.push({
                address: f.Address ?? '',
                expires: f.Expires === 'permanent' ? Infinity : Number(f.Expires ?? NaN),
                q: Number(f.Q ?? -1),
                callId: f['Call-ID'] ?? '',
                cseq: Number(f.CSeq ?? 0),
                userAgent: f['User-Agent'] ?? '',
                ruid: f.Ruid ?? '',
                socket: f.Socket ?? '',
                flags: Number(f.Flags ?? 0),
                cflags: Number(f.CFlags ?? 0),
                methods: Number(f.Methods ?? 0),
                lastModified: Number(f['Last-Modified'] ?? 0),
                raw: f,
              });
            }
          }
          out.push({ domain: domName, aor, contacts });
        }
      }
    }
  }
  return out;
}

export interface HtableItem {
  name: string;
  value: string | number;
  type: 'int' | 'str';
}

/** `kamcmd htable.dump <t>`: one struct per non-empty slot { entry, size, slot: { {name, value, type} … } }. */
export function parseHtableDump(text: string): HtableItem[] {
  const items: HtableItem[] = [];
  for (const slot of parseKamcmd(text)) {
    for (const s of kAll(kids(slot), 'slot')) {
      for (const cell of kids(s)) {
        const f = kFields(kids(cell));
        if (f.name === undefined) continue;
        const type = f.type === 'int' ? 'int' : 'str';
        items.push({ name: f.name, value: type === 'int' ? Number(f.value) : (f.value ?? ''), type });
      }
    }
  }
  return items;
}

/** `kamcmd stats.get_statistics <name>` prints "group:name = value" lines. */
export function parseStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([^=\s]+)\s*=\s*(-?\d+)\s*$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** kamcmd prints RPC faults on stdout as "error: <code> - <text>" and still exits 0. */
export function kamcmdFault(stdout: string): string | undefined {
  const m = /^error: (\d+ - .*)$/m.exec(stdout.trimStart().split('\n')[0] ?? '');
  return m ? m[1] : undefined;
}
