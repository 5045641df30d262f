// WAL checkpoints off the event loop (issue 10, db_mode figure). SQLite's automatic checkpoint
// (every 1000 WAL pages) runs inside the commit that crosses the threshold: it copies ~4 MB back
// into the database file and fsyncs both files (synchronous=NORMAL), on the thread that commits,
// i.e. between two REGISTERs (measured 10-50 ms; a 50 000-row flush backlog took 0.3-0.5 s).
// Here a worker thread holds a second connection to the same file and runs
// `PRAGMA wal_checkpoint(PASSIVE)` every CHECKPOINT_EVERY_MS; the writing connection raises its
// automatic checkpoint to a backstop (sqlite.ts). PASSIVE never blocks the writer (WAL lets one
// writer and a checkpointer run at once); the writer restarts the WAL from its start once a
// checkpoint has caught up, so the file does not grow. Durability is unchanged (a commit is
// durable in the WAL; checkpoints sync as before).

import { Worker } from 'node:worker_threads';

export const CHECKPOINT_EVERY_MS = 100;

/** CommonJS source of the worker (eval: no loader needed, so it runs the same under tsx and node) */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    // SQLITE_BUSY and the like: the next tick tries again
  }
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } catch (e) {}
  parentPort.close();
});
`;

export interface Checkpointer {
  /** ask the worker to close its connection and end (it does not keep the process alive) */
  stop(): void;
}

/**
 * Starts the checkpoint worker for the database at `path` (already in WAL mode). `onFailure` runs
 * if the worker cannot run (then the caller turns the automatic checkpoint back to its default).
 */
export function startCheckpointer(path: string, modulePath: string, onFailure: (e: Error) => void): Checkpointer {
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, module: modulePath, everyMs: CHECKPOINT_EVERY_MS } });
  let stopped = false;
  w.on('error', (e) => {
    if (!stopped) onFailure(e);
  });
  w.unref();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      w.postMessage('stop');
    },
  };
}
