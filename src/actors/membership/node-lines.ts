// Node-list text as the notification cycle reads and writes it (protocol reference §2.2), each
// distinct line worked out once: a node's list body changes with every membership change (and
// each node's differs), but it is made of the same few lines, parsed and formatted here by text
// or by node. One NodeListText per node (nothing shared between the nodes of one process, as in the
// simulator); its caches are bounded and what they hand out is read-only.

import { formatNodeLine, parseNodeLine, type NodeLine, type NodeStatus } from './node-list-body.ts';
import { nodeKey, type NodeId } from './node-list.ts';
import type { Dialect } from './node-dialect.ts';

/** the node-list parameter by which kdmq nodes recognise each other (specs/anti-entropy.md A1) */
export const KDMQ_MARK: [string, string] = ['kdmq', '1'];

/** one parsed node-list line with its identity computed once (shared by every body holding the line: read only) */
export interface PreparedLine {
  readonly line: Readonly<Omit<NodeLine, 'params'>> & { readonly params: ReadonlyArray<readonly [string, string | null]> };
  readonly id: Readonly<NodeId>;
  readonly key: string;
  /** the line carries KDMQ_MARK */
  readonly kdmq: boolean;
}

export interface PreparedBody {
  readonly lines: readonly PreparedLine[];
  /** lines that did not parse */
  readonly bad: number;
}

/** the lines formatted for one node (its identity as given then), by status (null: refused by the writer) */
interface WrittenLines {
  host: string;
  port: string;
  transport: string | null;
  /** by `${status} ${dialect}` */
  byStatus: Map<string, string | null>;
}

/**
 * Distinct lines a NodeListText keeps parsed: a node's peers list the same few nodes, so most
 * lines of a body were seen before. (The body itself is parsed anew: an unchanged body from the
 * same node is not merged again at all, see NodeListMerge's memo; a process-wide cache of bodies
 * only served the simulator, whose nodes received each other's identical bodies.)
 */
const MAX_LINES = 4096;

/** what parseNodeList(body) says, with each line's identity (lines from `cache` when given, the body parsed anew) */
export function prepareBody(body: string, cache: Map<string, PreparedLine | null> = new Map()): PreparedBody {
  const lines: PreparedLine[] = [];
  let bad = 0;
  const raws = typeof body === 'string' && body.length > 0 ? body.split('\n') : [];
  if (raws[raws.length - 1] === '') raws.pop();
  for (const raw of raws) {
    const l = prepareLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, cache);
    if (l === null) bad++;
    else lines.push(l);
  }
  return { lines, bad };
}

function prepareLine(text: string, preparedLines: Map<string, PreparedLine | null>): PreparedLine | null {
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
export function formatLine(id: NodeId, status: NodeStatus, local: boolean, dialect: Dialect = '5.6'): string | null {
  const r = formatNodeLine({
    host: id.host, port: id.port, transport: id.transport ?? undefined, status,
    // kdmq nodes mark their own line (specs/anti-entropy.md A1); Kamailio parses and ignores it (§2.2)
    ...(local ? { extraParams: [KDMQ_MARK] } : {}),
  }, dialect);
  return r.ok ? r.value : null;
}

export class NodeListText {
  /** formatted lines of peers by node key (checked against the identity: a key may come back spelt otherwise) */
  private readonly written = new Map<string, WrittenLines>();
  private readonly localWritten = new Map<string, string | null>();
  /** parsed lines by text (bounded by MAX_LINES whatever the peers send) */
  private readonly preparedLines = new Map<string, PreparedLine | null>();

  /** what parseNodeList(body) says, with each line's identity (the lines are this node's cached ones: read only) */
  parse(body: string): PreparedBody {
    return prepareBody(body, this.preparedLines);
  }

  /** formatLine(id, status, local, dialect) for the node whose key is `key` */
  lineOf(id: NodeId, key: string, status: NodeStatus, local: boolean, dialect: Dialect = '5.6'): string | null {
    const sd = `${status} ${dialect}`;
    if (local) {
      let line = this.localWritten.get(sd);
      if (line === undefined) this.localWritten.set(sd, (line = formatLine(id, status, true, dialect)));
      return line;
    }
    let w = this.written.get(key);
    if (w === undefined || w.host !== id.host || w.port !== id.port || w.transport !== id.transport) {
      if (this.written.size >= MAX_LINES) this.written.clear();
      w = { host: id.host, port: id.port, transport: id.transport, byStatus: new Map() };
      this.written.set(key, w);
    }
    let line = w.byStatus.get(sd);
    if (line === undefined) w.byStatus.set(sd, (line = formatLine(id, status, false, dialect)));
    return line;
  }
}
