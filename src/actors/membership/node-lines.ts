// Node-list text as the notification cycle reads and writes it (protocol reference §2.2), each
// distinct line worked out once: a node's list body changes with every membership change (and
// each node's differs), but it is made of the same few lines, parsed and formatted here by text
// or by node. Pure caches, bounded; what they hand out is shared and never mutated.

import { formatNodeLine, parseNodeLine, type NodeLine, type NodeStatus } from './node-list-body.ts';
import { nodeKey, type NodeId } from './node-list.ts';

/** the node-list parameter by which kdmq nodes recognise each other (specs/anti-entropy.md A1) */
export const KDMQ_MARK: [string, string] = ['kdmq', '1'];

/** one parsed node-list line with its identity computed once */
export interface PreparedLine {
  line: NodeLine;
  id: NodeId;
  key: string;
  /** the line carries KDMQ_MARK */
  kdmq: boolean;
}

export interface PreparedBody {
  lines: PreparedLine[];
  /** lines that did not parse */
  bad: number;
}

/** the lines formatted for one node (its identity as given then), by status (null: refused by the writer) */
interface WrittenLines {
  host: string;
  port: string;
  transport: string | null;
  byStatus: Partial<Record<NodeStatus, string | null>>;
}

/**
 * Parsed bodies and lines, shared by every NodeListText of the process (pure functions of the
 * text): in a simulated cluster a node's list reaches all its peers, each of which would
 * otherwise parse the same body again. Bounded by count and by characters held.
 */
const MAX_BODIES = 256;
const MAX_BODY_CHARS = 4_000_000;
const MAX_LINES = 4096;
const parsedBodies = new Map<string, PreparedBody>();
let parsedChars = 0;
const preparedLines = new Map<string, PreparedLine | null>();

/** what parseNodeList(body) says, with each line's identity (lines from the shared line cache, the body parsed anew) */
export function prepareBody(body: string): PreparedBody {
  const p: PreparedBody = { bad: 0, lines: [] };
  const raws = typeof body === 'string' && body.length > 0 ? body.split('\n') : [];
  if (raws[raws.length - 1] === '') raws.pop();
  for (const raw of raws) {
    const l = prepareLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (l === null) p.bad++;
    else p.lines.push(l);
  }
  return p;
}

function prepareLine(text: string): PreparedLine | null {
  let l = preparedLines.get(text);
  if (l === undefined) {
    const r = parseNodeLine(text);
    if (r.ok) {
      const line = r.value;
      const id: NodeId = { host: line.host, port: line.port, transport: line.transport };
      const kdmq = line.params.some(([n, v]) => n === KDMQ_MARK[0] && v === KDMQ_MARK[1]);
      l = { line, id, key: nodeKey(id), kdmq };
    } else l = null;
    if (preparedLines.size >= MAX_LINES) preparedLines.clear(); // bounded whatever the peers send
    preparedLines.set(text, l);
  }
  return l;
}

/** formatNodeLine of a node's line (the local node's carries KDMQ_MARK) */
export function formatLine(id: NodeId, status: NodeStatus, local: boolean): string | null {
  const r = formatNodeLine({
    host: id.host, port: id.port, transport: id.transport ?? undefined, status,
    // kdmq nodes mark their own line (specs/anti-entropy.md A1); Kamailio parses and ignores it (§2.2)
    ...(local ? { extraParams: [KDMQ_MARK] } : {}),
  });
  return r.ok ? r.value : null;
}

export class NodeListText {
  /** formatted lines of peers by node key (checked against the identity: a key may come back spelt otherwise) */
  private readonly written = new Map<string, WrittenLines>();
  private readonly localWritten = new Map<NodeStatus, string | null>();

  /** what parseNodeList(body) says, with each line's identity (shared: do not mutate) */
  parse(body: string): PreparedBody {
    let p = parsedBodies.get(body);
    if (p === undefined) {
      p = prepareBody(body);
      const chars = typeof body === 'string' ? body.length : 0;
      while (parsedBodies.size > 0 && (parsedBodies.size >= MAX_BODIES || parsedChars + chars > MAX_BODY_CHARS)) {
        const oldest = parsedBodies.keys().next().value as string;
        parsedChars -= typeof oldest === 'string' ? oldest.length : 0;
        parsedBodies.delete(oldest);
      }
      if (chars <= MAX_BODY_CHARS) {
        parsedBodies.set(body, p);
        parsedChars += chars;
      }
    }
    return p;
  }

  /** formatLine(id, status, local) for the node whose key is `key` */
  lineOf(id: NodeId, key: string, status: NodeStatus, local: boolean): string | null {
    if (local) {
      let line = this.localWritten.get(status);
      if (line === undefined) this.localWritten.set(status, (line = formatLine(id, status, true)));
      return line;
    }
    let w = this.written.get(key);
    if (w === undefined || w.host !== id.host || w.port !== id.port || w.transport !== id.transport) {
      if (this.written.size >= MAX_LINES) this.written.clear();
      w = { host: id.host, port: id.port, transport: id.transport, byStatus: {} };
      this.written.set(key, w);
    }
    let line = w.byStatus[status];
    if (line === undefined) w.byStatus[status] = line = formatLine(id, status, false);
    return line;
  }
}
