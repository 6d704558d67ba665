// The agent suite's application, in a worker thread: a node:sqlite database committing one-row transactions at a
// set pace, each commit's time written to shared memory (so the main thread reads the agent's output undisturbed).

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { openAppDatabase } from '../test/helpers/agent-workload.ts';
import { type Prng, prng } from '../test/helpers/prng.ts';

/** Rows in the database before the agent starts (they travel in its first snapshot). */
export const SEED_ROWS = 50_000;
/** Body bytes of a row (random, so incompressible). */
export const ROW_BYTES = 100;
/** Percent of the transactions that insert a row; the rest update the qty of a random existing row. */
export const INSERT_PCT = 80;

export interface AppData {
  file: string;
  pageSize: number;
  seed: number;
  /** Transactions per second, or 'max': back to back. */
  rate: number | 'max';
  seconds: number;
  /** Float64Array: commit k's time (performance.timeOrigin + performance.now(), ms). */
  commitAt: SharedArrayBuffer;
  /** Int32Array: [0] commits so far (Atomics), [1] a word to sleep on. */
  control: SharedArrayBuffer;
}

/** Worker → main: 'seeded' once the database holds its seed rows, 'done' with the thread's CPU time when the run is over. */
export type AppMessage = { type: 'seeded' } | { type: 'done'; commits: number; cpuMs: number };

/** The application's statements: one-row INSERT or UPDATE, each its own (autocommit) transaction. */
class Workload {
  private readonly r: Prng;
  private readonly insert: StatementSync;
  private readonly update: StatementSync;
  private rows = 0;

  constructor(db: DatabaseSync, seed: number) {
    this.r = prng(seed);
    this.insert = db.prepare('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)');
    this.update = db.prepare('UPDATE items SET qty = qty + 1 WHERE id = ?');
    db.exec('BEGIN');
    for (let i = 0; i < SEED_ROWS; i++) this.tx(true);
    db.exec('COMMIT');
  }

  tx(insert = this.r.int(100) < INSERT_PCT): void {
    if (insert) {
      this.insert.run(`item-${this.r.int(1_000_000)}`, this.r.int(1000), this.r.bytes(ROW_BYTES));
      this.rows++;
    } else {
      this.update.run(1 + this.r.int(this.rows));
    }
  }
}

const clock = () => performance.timeOrigin + performance.now();
const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Commits at the pace asked for `d.seconds`: transaction k is due at t0 + k/rate, and the thread sleeps
 * (Atomics.wait) until then, so commits are evenly spaced and a slow one is caught up right after
 * (back to back until the schedule is met again); 'max' never sleeps.
 */
function drive(w: Workload, d: AppData): number {
  const at = new Float64Array(d.commitAt);
  const control = new Int32Array(d.control);
  const t0 = clock();
  const end = t0 + d.seconds * 1000;
  let n = 0;
  if (d.rate === 'max') {
    for (let now = t0; now < end && n < at.length; n++) {
      w.tx();
      at[n] = now = clock();
      Atomics.store(control, 0, n + 1);
    }
    return n;
  }
  // The schedule ends at `end` too: an application the agent slows down commits fewer transactions, not for longer.
  const total = Math.min(at.length, Math.round(d.rate * d.seconds));
  const gap = 1000 / d.rate;
  for (; n < total && clock() < end; n++) {
    const wait = t0 + n * gap - clock();
    if (wait > 0.05) Atomics.wait(control, 1, 0, wait);
    w.tx();
    at[n] = clock();
    Atomics.store(control, 0, n + 1);
  }
  return n;
}

if (parentPort) {
  const port = parentPort;
  const d = workerData as AppData;
  const db = openAppDatabase(d.file, d.pageSize);
  const w = new Workload(db, d.seed);
  port.postMessage({ type: 'seeded' } satisfies AppMessage);
  port.once('message', () => {
    const cpu0 = threadCpuMs();
    const commits = drive(w, d);
    const cpuMs = threadCpuMs() - cpu0;
    db.close();
    port.postMessage({ type: 'done', commits, cpuMs } satisfies AppMessage);
  });
}
