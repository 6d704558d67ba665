// The agent's two connections to the live database: one holds a read transaction so the WAL cannot be
// restarted under the agent, the other takes the write lock around a checkpoint so no commit slips past.

import { DatabaseSync } from 'node:sqlite';
import { AgentError } from './agent-error.ts';

/** How long BEGIN IMMEDIATE waits for an application's write transaction (ms); on timeout the checkpoint waits for the next sync. */
export const DEFAULT_LOCK_WAIT_MS = 100;
/** How long a TRUNCATE checkpoint waits for readers and writers (ms). */
export const DEFAULT_TRUNCATE_WAIT_MS = 2_000;

/** `PRAGMA wal_checkpoint` answer: busy flag, frames in the WAL, frames copied into the database. */
export interface CheckpointResult {
  busy: boolean;
  walFrames: number;
  backfilled: number;
}

export class SQLiteLocks {
  private readonly reader: DatabaseSync;
  private readonly locker: DatabaseSync;
  private reading = false;
  private locked = false;

  private constructor(reader: DatabaseSync, locker: DatabaseSync) {
    this.reader = reader;
    this.locker = locker;
  }

  /** Opens both connections and puts the database in WAL mode (persistent), which needs no other connection to be writing. */
  static open(file: string, lockWaitMs = DEFAULT_LOCK_WAIT_MS): SQLiteLocks {
    const reader = new DatabaseSync(file, { timeout: DEFAULT_TRUNCATE_WAIT_MS });
    let locker: DatabaseSync | undefined;
    try {
      const mode = (reader.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
      if (mode !== 'wal') {
        let now: string;
        try {
          now = (reader.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode;
        } catch (e) {
          throw new AgentError('WAL_MODE', `${file} is in ${mode} mode and could not be switched to WAL: ${(e as Error).message}`, undefined, { cause: e });
        }
        if (now !== 'wal') throw new AgentError('WAL_MODE', `${file} is in ${mode} mode and refused WAL mode (${now})`);
      }
      locker = new DatabaseSync(file, { timeout: lockWaitMs });
      return new SQLiteLocks(reader, locker);
    } catch (e) {
      locker?.close();
      reader.close();
      throw e;
    }
  }

  /** Starts the long read transaction (a read is what takes SQLite's snapshot and its WAL read mark). */
  beginRead(): void {
    if (this.reading) return;
    this.reader.exec('BEGIN');
    this.reader.prepare('SELECT 1 FROM sqlite_schema LIMIT 1').get();
    this.reading = true;
  }

  endRead(): void {
    if (!this.reading) return;
    this.reader.exec('ROLLBACK');
    this.reading = false;
  }

  /** Takes SQLite's write lock (BEGIN IMMEDIATE); false when an application holds it past the wait. */
  tryWriteLock(): boolean {
    if (this.locked) return true;
    try {
      this.locker.exec('BEGIN IMMEDIATE');
    } catch (e) {
      if (isBusy(e)) return false;
      throw e;
    }
    this.locked = true;
    return true;
  }

  releaseWriteLock(): void {
    if (!this.locked) return;
    this.locker.exec('ROLLBACK');
    this.locked = false;
  }

  /** Runs a checkpoint on the reader connection, which must not be in its read transaction. */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): CheckpointResult {
    if (this.reading) throw new Error('checkpoint inside the read transaction');
    const row = this.reader.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as { busy: number; log: number; checkpointed: number };
    return { busy: row.busy !== 0, walFrames: row.log, backfilled: row.checkpointed };
  }

  close(): void {
    try {
      this.releaseWriteLock();
      this.endRead();
    } finally {
      this.locker.close();
      this.reader.close();
    }
  }
}

function isBusy(e: unknown): boolean {
  const err = e as { errcode?: number; message?: string };
  return (err.errcode !== undefined && (err.errcode & 0xff) === 5) || /database is locked|SQLITE_BUSY/i.test(err.message ?? '');
}
