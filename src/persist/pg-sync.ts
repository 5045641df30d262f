// A synchronous PostgreSQL client: the `pg` package runs on a worker thread, the caller waits for
// each answer with Atomics.wait (at most `timeoutMs`). The persistence and subscriber ports are
// synchronous (a db_mode 1 write finishes before the 200 is sent; a REGISTER is answered in one
// turn), as Kamailio's own database calls block its SIP worker. A query against a loopback server
// takes ~0.1-0.5 ms of the event loop; a server that is down answers with an error at once
// (connection refused) or after `timeoutMs`, never a crash. Each call is a value: rows or an error.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { createRequire } from 'node:module';

export type PgResult = { ok: true; rows: Array<Record<string, unknown>> } | { ok: false; error: string };

export interface PgStatement {
  sql: string;
  params?: unknown[];
}

/** CommonJS source of the worker (eval: runs the same under tsx and node) */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.module);
// TIMESTAMP WITHOUT TIME ZONE as its text (the caller reads it as local time, as Kamailio does)
pg.types.setTypeParser(1114, (s) => s);
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
let client = null;
const connect = async () => {
  const c = new pg.Client({ connectionString: workerData.url, connectionTimeoutMillis: workerData.timeoutMs, statement_timeout: workerData.timeoutMs });
  c.on('error', () => { if (client === c) client = null; });
  await c.connect();
  return c;
};
const answer = (m) => { port.postMessage(m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
port.on('message', async (m) => {
  if (m.op === 'close') { try { await client?.end(); } catch (e) {} port.close(); return; }
  try {
    if (client === null) client = await connect();
    const rows = [];
    // one statement is atomic on its own: no BEGIN/COMMIT round trips (a db_mode 1 write is one upsert)
    const tx = m.tx && m.statements.length > 1;
    if (tx) await client.query('BEGIN');
    try {
      for (const s of m.statements) { const r = await client.query(s.sql, s.params ?? []); rows.push(...r.rows); }
      if (tx) await client.query('COMMIT');
    } catch (e) {
      if (tx) { try { await client.query('ROLLBACK'); } catch (e2) {} }
      throw e;
    }
    answer({ id: m.id, ok: true, rows });
  } catch (e) {
    const broken = client === null || !(typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)); // not an SQLSTATE: the connection
    if (broken) { try { client?.end(); } catch (e2) {} client = null; }
    answer({ id: m.id, ok: false, error: String(e.message || e) + (e.code ? ' (' + e.code + ')' : '') });
  }
});
`;

export class SyncPg {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private closed = false;

  /** `url`: postgres://user:pass@host:port/db */
  constructor(readonly url: string, private readonly timeoutMs = 2000) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const module = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { url, module, flag: this.flag.buffer, port: port2, timeoutMs },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  query(sql: string, params: unknown[] = []): PgResult {
    return this.run([{ sql, params }], false);
  }

  /** the statements in one transaction (all or none), rows of all of them */
  transaction(statements: readonly PgStatement[]): PgResult {
    return this.run(statements, true);
  }

  private run(statements: readonly PgStatement[], tx: boolean): PgResult {
    if (this.closed) return { ok: false, error: 'closed' };
    const id = this.nextId++;
    this.port.postMessage({ id, tx, statements });
    const deadline = performance.now() + this.timeoutMs + 200;
    for (;;) {
      Atomics.store(this.flag, 0, 0);
      // answers of calls that timed out earlier come first: skipped
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
        const a = m.message as { id: number; ok: boolean; rows?: Array<Record<string, unknown>>; error?: string };
        if (a.id !== id) continue;
        return a.ok ? { ok: true, rows: a.rows ?? [] } : { ok: false, error: a.error ?? 'error' };
      }
      const left = deadline - performance.now();
      if (left <= 0) return { ok: false, error: `no answer from PostgreSQL within ${this.timeoutMs} ms` };
      Atomics.wait(this.flag, 0, 0, left);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ op: 'close' });
    setTimeout(() => void this.worker.terminate(), 500).unref();
  }
}
