// Per-node dialect (issue #19): which Kamailio version each node runs, learnt from the Server or
// User-Agent header of what it sends (`kamailio (6.1.5 (x86_64/Linux))`), or set by the
// `dmq.kamailio_versions` override (node URI or host → version, which always wins), and what that
// version accepts and means on the node-list wire (read from Kamailio's dmq module, 5.6.3 / 6.0.1 / 6.1.x):
// - 5.6 and 6.0 know the statuses active, disabled, timeout, pending; a line without status is pending;
// - 6.1 knows only active, not_active, disabled (an unknown one aborts the whole body); no status is active.
// kdmq reads every status of every version (not_active as timeout) and writes each node its own. Pure.

import type { NodeStatus } from './node-list-body.ts';

/** the node-list dialects: 5.6 (also kdmq and unknown nodes), 6.1 (statuses reworked in 6.1.0) */
export type Dialect = '5.6' | '6.1';

/** `kamailio (6.1.5 (x86_64/Linux))` (Kamailio's default Server / User-Agent) → 6.1.5, else null */
export function kamailioVersionOf(header: string | null | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = /(?:^|[\s:])kamailio \((\d+\.\d+\.\d+)[\s)]/i.exec(header);
  return m ? m[1]! : null;
}

/** the node-list dialect of a Kamailio version (null: unknown, written as 5.6, which 6.0 shares) */
export function dialectOf(version: string | null | undefined): Dialect {
  const m = typeof version === 'string' ? /^(\d+)\.(\d+)/.exec(version) : null;
  if (!m) return '5.6';
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 1) ? '6.1' : '5.6';
}

/** a status as this dialect writes it */
export function wireStatus(status: NodeStatus, dialect: Dialect): string {
  if (dialect === '6.1' && (status === 'timeout' || status === 'pending')) return 'not_active';
  return status;
}

/** a status as read on the wire (every dialect's), null when no version knows it */
export function readStatus(wire: string): NodeStatus | null {
  switch (wire) {
    case 'active':
    case 'disabled':
    case 'timeout':
    case 'pending':
      return wire;
    case 'not_active': // 6.1: a node that failed, not yet disabled
      return 'timeout';
    default:
      return null;
  }
}

/** what a line without status means from a node of this dialect */
export function defaultStatus(dialect: Dialect): NodeStatus {
  return dialect === '6.1' ? 'active' : 'pending';
}

/** the versions of the nodes, by node key; overrides (config) by node key or host */
export class NodeVersions {
  private readonly learnt = new Map<string, string>();
  private readonly overrides = new Map<string, string>();

  /** `dmq.kamailio_versions`: keys are node URIs (`sip:127.0.0.1:5090`) or hosts */
  setOverrides(map: Record<string, string>): void {
    this.overrides.clear();
    for (const [k, v] of Object.entries(map)) this.overrides.set(k.replace(/^sip:/, ''), v);
  }

  /** a Server/User-Agent header from node `key` (host:port[;transport]) whose host is `host` */
  learn(key: string, header: string | null | undefined): void {
    const v = kamailioVersionOf(header);
    if (v === null || this.learnt.get(key) === v) return;
    if (this.learnt.size >= 4096 && !this.learnt.has(key)) return; // bounded whatever the senders
    this.learnt.set(key, v);
  }

  forget(key: string): void {
    this.learnt.delete(key);
  }

  /** the version of node `key` (override by key, then by host, then learnt), null when unknown */
  versionOf(key: string): string | null {
    const host = hostOfKey(key);
    return this.overrides.get(key) ?? this.overrides.get(host) ?? this.learnt.get(key) ?? null;
  }

  dialect(key: string): Dialect {
    return dialectOf(this.versionOf(key));
  }
}

function hostOfKey(key: string): string {
  const k = key.replace(/;.*$/, '');
  if (k.startsWith('[')) return k.slice(0, k.indexOf(']') + 1);
  const i = k.lastIndexOf(':');
  return i < 0 ? k : k.slice(0, i);
}
