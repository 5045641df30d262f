// The SQLite adapter (specs/anti-entropy.md A7): WAL checkpoints run on a worker thread (the
// database file grows only by checkpoints, and the writer's own automatic checkpoint is a 64 MB
// backstop, so a file that grows after a few hundred KB of writes was checkpointed by the worker);
// rows survive close and reopen; sliceRows stays within its bounds.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlitePersistence } from '../../src/persist/sqlite.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import { waitFor } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'kdmq-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rec = (i: number): UsrlocContact => ({
  aor: `u${i}@kdmq.test`, ruid: `uloc-1-2-${i.toString(16)}`, c: `sip:u${i}@127.0.0.1:5070`, received: '', path: '', callid: `c${i}`,
  user_agent: 'kdmq-test', instance: '', expires: 1_795_000_000 + 3600, cseq: 1, flags: 0, cflags: 0, q: -1, last_modified: 1_795_000_000,
  methods: -1, reg_id: 0, server_id: 0,
});

describe('SqlitePersistence', () => {
  it('the checkpoint worker copies the WAL into the database file; rows survive a reopen', async () => {
    const f = join(dir, 'a.sqlite');
    const p = new SqlitePersistence(f);
    const size0 = statSync(f).size;
    for (let i = 0; i < 2000; i += 100) p.writeBindings(Array.from({ length: 100 }, (_, k) => rec(i + k)), []);
    p.writeBindings([], [rec(5).ruid]);
    await waitFor(() => statSync(f).size > size0 + 200_000, { timeoutMs: 10_000, intervalMs: 50, what: 'the database file grown by a checkpoint' });
    p.close();
    const q = new SqlitePersistence(f);
    const rows = q.loadBindings();
    expect(rows.length).toBe(1999);
    expect(rows.find((r) => r.ruid === rec(7).ruid)).toEqual(rec(7));
    q.close();
  });

  it('without the worker the rows are written just the same', () => {
    const f = join(dir, 'b.sqlite');
    const p = new SqlitePersistence(f, { checkpointWorker: false });
    p.writeBindings([rec(1), rec(2)], []);
    p.close();
    const q = new SqlitePersistence(f, { checkpointWorker: false });
    expect(q.loadBindings().map((r) => r.ruid).sort()).toEqual([rec(1).ruid, rec(2).ruid]);
    q.close();
  });

  it('sliceRows: rows per budget from the measured cost, within 16..512', () => {
    const p = new SqlitePersistence(join(dir, 'c.sqlite'));
    for (let i = 0; i < 20; i++) p.writeBindings(Array.from({ length: 64 }, (_, k) => rec(i * 64 + k)), []);
    const n = p.sliceRows(0.5);
    expect(n).toBeGreaterThanOrEqual(16);
    expect(n).toBeLessThanOrEqual(512);
    expect(p.sliceRows(1000)).toBe(512);
    expect(p.sliceRows(0)).toBe(16);
    p.close();
  });
});
