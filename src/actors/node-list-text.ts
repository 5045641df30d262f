// Node-list text as the notification cycle reads and writes it (protocol reference §2.2), each
// distinct line worked out once: a node's list body changes with every membership change (and
// each node's differs), but it is made of the same few lines, parsed and formatted here by text
// or by view. Pure caches, bounded; what they hand out is shared and never mutated.

import { formatNodeLine, parseNodeLine, type NodeLine, type NodeStatus } from '../dmq/node-list.ts';
import { nodeKey, type NodeId, type NodeView } from './node-list.ts';

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

export class NodeListText {
  /** recently parsed bodies: every peer sends the same list each round */
  private readonly parsed = new Map<string, PreparedBody>();
  /** prepared lines by text (null: a bad line) */
  private readonly prepared = new Map<string, PreparedLine | null>();
  /** formatted lines (null: refused by the writer) by view: a view changes with its node's status */
  private readonly written = new WeakMap<NodeView, string | null>();
  private readonly localWritten = new Map<NodeStatus, string | null>();

  /** what parseNodeList(body) says, with each line's identity */
  parse(body: string): PreparedBody {
    let p = this.parsed.get(body);
    if (p === undefined) {
      p = { bad: 0, lines: [] };
      const raws = typeof body === 'string' && body.length > 0 ? body.split('\n') : [];
      if (raws[raws.length - 1] === '') raws.pop();
      for (const raw of raws) {
        const l = this.prepare(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
        if (l === null) p.bad++;
        else p.lines.push(l);
      }
      if (this.parsed.size >= 64) this.parsed.delete(this.parsed.keys().next().value as string);
      this.parsed.set(body, p);
    }
    return p;
  }

  private prepare(text: string): PreparedLine | null {
    let l = this.prepared.get(text);
    if (l === undefined) {
      const r = parseNodeLine(text);
      if (r.ok) {
        const line = r.value;
        const id: NodeId = { host: line.host, port: line.port, transport: line.transport };
        const kdmq = line.params.some(([n, v]) => n === KDMQ_MARK[0] && v === KDMQ_MARK[1]);
        l = { line, id, key: nodeKey(id), kdmq };
      } else l = null;
      if (this.prepared.size >= 4096) this.prepared.clear(); // bounded whatever the peers send
      this.prepared.set(text, l);
    }
    return l;
  }

  /** formatNodeLine of a view with this status (the local node's line carries KDMQ_MARK) */
  lineOf(v: NodeView, status: NodeStatus): string | null {
    let line = v.local ? this.localWritten.get(status) : this.written.get(v);
    if (line === undefined) {
      const r = formatNodeLine({
        host: v.host, port: v.port, transport: v.transport ?? undefined, status,
        // kdmq nodes mark their own line (specs/anti-entropy.md A1); Kamailio parses and ignores it (§2.2)
        ...(v.local ? { extraParams: [KDMQ_MARK] } : {}),
      });
      line = r.ok ? r.value : null;
      if (v.local) this.localWritten.set(status, line);
      else this.written.set(v, line);
    }
    return line;
  }
}
