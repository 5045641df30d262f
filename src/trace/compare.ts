// Comparing what replay sent with what was recorded. Exact mode compares time, sockets and bytes;
// normalised mode compares SIP messages with branches, tags, Call-IDs, CSeq numbers, timestamps in
// bodies, Content-Length, User-Agent/Server and the order of non-essential headers taken out.

export interface Msg {
  t: number;
  local: string;
  remote: string;
  data: Uint8Array;
}

const DROP = new Set(['user-agent', 'server', 'content-length', 'l', 'date', 'call-id', 'i']);
const ORDERED = new Set(['via', 'v', 'route', 'record-route']);

export function normalise(data: Uint8Array): string {
  const text = Buffer.from(data).toString('latin1');
  const sep = text.indexOf('\r\n\r\n');
  const [first, ...lines] = (sep < 0 ? text : text.slice(0, sep)).split('\r\n');
  let body = sep < 0 ? '' : text.slice(sep + 4);
  const ordered: string[] = [];
  const other: string[] = [];
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c < 0) continue;
    const name = l.slice(0, c).trim().toLowerCase();
    if (DROP.has(name)) continue;
    let v = l.slice(c + 1).trim();
    v = v.replace(/;branch=[^;,\s]+/gi, ';branch=*').replace(/;tag=[^;,\s>]+/gi, '').replace(/^\d+(\s+[A-Z]+)$/, 'N$1');
    (ORDERED.has(name) ? ordered : other).push(`${name}: ${v}`);
  }
  body = body.replace(/"(last_modified|expires|last_keepalive|ruid|cseq|callid)"\s*:\s*("[^"]*"|\d+)/g, '"$1":*');
  return [first, ...ordered, ...other.sort()].join('\n') + '\n\n' + body;
}

export interface Divergence {
  index: number;
  recorded?: Msg;
  replayed?: Msg;
  why: string;
}

/** first difference between the two sequences; exact compares times and bytes too */
export function firstDivergence(recorded: Msg[], replayed: Msg[], exact: boolean): Divergence | null {
  const n = Math.max(recorded.length, replayed.length);
  for (let i = 0; i < n; i++) {
    const a = recorded[i];
    const b = replayed[i];
    if (!a) return { index: i, replayed: b, why: 'replay sent more datagrams than were recorded' };
    if (!b) return { index: i, recorded: a, why: 'replay sent fewer datagrams than were recorded' };
    if (a.local !== b.local || a.remote !== b.remote) return { index: i, recorded: a, replayed: b, why: 'different sockets' };
    if (exact && a.t !== b.t) return { index: i, recorded: a, replayed: b, why: `different time (${a.t} vs ${b.t})` };
    const same = exact ? Buffer.from(a.data).equals(Buffer.from(b.data)) : normalise(a.data) === normalise(b.data);
    if (!same) return { index: i, recorded: a, replayed: b, why: 'different message' };
  }
  return null;
}

/** --as: every difference, as counts per first line and a short list */
export function differences(recorded: Msg[], replayed: Msg[]): string[] {
  const key = (m: Msg) => `${m.remote} ${normalise(m.data).split('\n')[0]}`;
  const count = (ms: Msg[]) => ms.reduce((m, x) => m.set(key(x), (m.get(x && key(x)) ?? 0) + 1), new Map<string, number>());
  const a = count(recorded);
  const b = count(replayed);
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k) ?? 0;
    const y = b.get(k) ?? 0;
    if (x !== y) out.push(`  to ${k}: recorded ${x}, kdmq ${y}`);
  }
  return out.sort();
}

export function showMsg(label: string, m: Msg | undefined, start: number): string {
  if (!m) return `--- ${label}: (none)\n`;
  return `--- ${label} at +${(m.t - start).toFixed(3)} ms, ${m.local} -> ${m.remote}\n${Buffer.from(m.data).toString('latin1')}\n`;
}
