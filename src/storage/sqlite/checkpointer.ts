import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold and waits for fsync; here a worker thread with its own connection does it,
 * so commits only append to the WAL (durable against kill -9 with synchronous=NORMAL).
 */
export class Checkpointer {
  /** Started on the first checkpoint, so an idle or read-mostly Eddy carries no extra thread. */
  private worker?: Worker;
  private commits = 0;

  constructor(
    private file: string,
    private every = 1000,
  ) {}

  /** Count a commit; ask for a checkpoint every `every` commits. */
  committed(): void {
    if (++this.commits >= this.every) {
      this.commits = 0;
      this.start().postMessage('checkpoint');
    }
  }

  private start(): Worker {
    if (!this.worker) {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver } });
      this.worker.unref();
      this.worker.on('error', () => {
        // A failed checkpoint only means the WAL grows until the next one or the final close.
      });
    }
    return this.worker;
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 2000');
let pending = false;
parentPort.on('message', () => {
  if (pending) return;
  pending = true;
  setImmediate(() => {
    pending = false;
    try {
      // Copy frames while the main thread keeps writing, then a short RESTART so the WAL starts over
      // (under steady load a passive checkpoint alone never catches up and the WAL would grow forever).
      db.pragma('wal_checkpoint(PASSIVE)');
      db.pragma('wal_checkpoint(RESTART)');
    } catch {}
  });
});
`;
