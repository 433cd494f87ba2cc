import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the background connection copies the WAL into the database file. */
const INTERVAL_MS = 100;

// Plain CommonJS, run with `eval` so it needs no file of its own next to the compiled module.
// PASSIVE never waits for or blocks the writer; SQLite restarts the WAL from its start at the
// writer's next transaction once every frame has been copied, so the file stays small.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db = null;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('synchronous = FULL');
} catch {
  process.exit(1);
}
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // busy or gone: the next round tries again, the writer's own checkpoint is the fallback
  }
}, workerData.interval);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  try {
    db.close();
  } catch {}
  parentPort.close();
});
`;

/**
 * Checkpoints the WAL from a worker thread with its own connection, so copying pages into the
 * database file and its fsync never block the event loop (an automatic checkpoint runs inside
 * the COMMIT that crosses the threshold). Durability is SQLite's: a checkpoint syncs the WAL
 * before and the database file after copying, whichever connection runs it.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private failed = false;

  /** Start checkpointing `path`; `onFailure` runs once if the worker cannot do its job. */
  constructor(path: string, onFailure: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, interval: INTERVAL_MS } });
    this.worker.unref();
    const fail = () => {
      if (this.failed) return;
      this.failed = true;
      onFailure();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail();
    });
  }

  /** Close the worker's connection and wait for the worker to end (terminated after a second). */
  close(): Promise<void> {
    this.failed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate(), 1000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage('close');
    });
  }
}
