// The agent's hold on a live database: a read transaction that pins the WAL, SQLite's write lock, checkpoints, and the one descriptor pages are read through.
//
// POSIX advisory locks belong to a process and an inode, and closing *any* descriptor of the file
// drops all of them (SQLite's unix VFS works around this only for descriptors it opened itself). The
// SHARED lock that every WAL-mode connection keeps on the database file is what stops an application's
// last connection from checkpointing and deleting the WAL when it closes, and from leaving WAL mode. So
// the agent opens the main file once, reads every page through that descriptor, and closes it only
// after its connections: an `open()` + `close()` of the database anywhere else in the process would
// let the application delete the WAL under the agent.
//
// Closing order: the two write-capable connections first (SQLite's close-time checkpoint needs an
// EXCLUSIVE lock, which the reader's SHARED lock refuses), then the read-only reader, which never
// checkpoints or deletes the WAL when it closes. A database renamed over is guarded by SQLite itself:
// it does not checkpoint through a connection whose file has moved (pager.c, databaseIsUnmoved).

import { type FileHandle, open, stat } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { AgentError } from './agent-error.ts';
import { readUpTo } from '../sqlite/file-read.ts';

/** How long BEGIN IMMEDIATE waits for an application's write transaction (ms); on timeout the checkpoint waits for the next sync. */
export const DEFAULT_LOCK_WAIT_MS = 100;
/** How long a TRUNCATE checkpoint or the switch to WAL mode waits for readers and writers (ms). */
export const DEFAULT_TRUNCATE_WAIT_MS = 2_000;

/** `PRAGMA wal_checkpoint` answer: busy flag, frames in the WAL, frames copied into the database (-1, -1 when another checkpoint ran). */
export interface CheckpointResult {
  busy: boolean;
  walFrames: number;
  backfilled: number;
}

/** A file's identity: device and inode. A path that names another identity is another file. */
export interface FileId {
  dev: bigint;
  ino: bigint;
}

export function sameFile(a: FileId | undefined, b: FileId | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** The identity of the file at `path`, or undefined when there is none. */
export async function fileIdOf(path: string): Promise<FileId | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The identity of an open file. */
export async function fileIdOfHandle(fh: FileHandle): Promise<FileId> {
  const st = await fh.stat({ bigint: true });
  return { dev: st.dev, ino: st.ino };
}

export class DatabaseHold {
  readonly file: string;
  /** The inode this hold's connections and descriptor are on. */
  readonly id: FileId;
  private readonly reader: DatabaseSync;
  private readonly locker: DatabaseSync;
  private readonly checkpointer: DatabaseSync;
  private readonly main: FileHandle;
  private locked = false;
  private closed = false;

  private constructor(file: string, id: FileId, reader: DatabaseSync, locker: DatabaseSync, checkpointer: DatabaseSync, main: FileHandle) {
    this.file = file;
    this.id = id;
    this.reader = reader;
    this.locker = locker;
    this.checkpointer = checkpointer;
    this.main = main;
  }

  /**
   * Opens the connections and the descriptor, all on one inode (a file replaced meanwhile is opened
   * again), and puts the database in WAL mode (persistent). Creates an empty database when there is none.
   */
  static async open(file: string, lockWaitMs = DEFAULT_LOCK_WAIT_MS): Promise<DatabaseHold> {
    for (let attempt = 0; ; attempt++) {
      const before = await fileIdOf(file);
      const opened: DatabaseSync[] = [];
      let main: FileHandle | undefined;
      try {
        const locker = new DatabaseSync(file, { timeout: DEFAULT_TRUNCATE_WAIT_MS });
        opened.push(locker);
        switchToWAL(locker, file);
        locker.exec(`PRAGMA busy_timeout = ${lockWaitMs}`);
        const checkpointer = new DatabaseSync(file, { timeout: DEFAULT_TRUNCATE_WAIT_MS });
        opened.push(checkpointer);
        const reader = new DatabaseSync(file, { readOnly: true, timeout: DEFAULT_TRUNCATE_WAIT_MS });
        opened.push(reader);
        main = await open(file, 'r');
        const id = await fileIdOfHandle(main);
        if ((before === undefined || sameFile(before, id)) && sameFile(await fileIdOf(file), id)) {
          const hold = new DatabaseHold(file, id, reader, locker, checkpointer, main);
          hold.beginRead();
          return hold;
        }
        if (attempt >= 3) throw new Error(`${file} keeps being replaced while it is opened`);
      } catch (e) {
        closeInOrder(opened);
        await main?.close();
        throw e;
      }
      closeInOrder(opened);
      await main.close();
    }
  }

  /** True while the read transaction is open (SQLite's own view, not a flag of ours). */
  get reading(): boolean {
    return !this.closed && this.reader.isTransaction;
  }

  /** Starts the long read transaction (a read is what takes SQLite's snapshot and its WAL read mark). */
  beginRead(): void {
    if (this.reading) return;
    this.reader.exec('BEGIN');
    this.reader.prepare('SELECT 1 FROM sqlite_schema LIMIT 1').get();
  }

  endRead(): void {
    if (this.reading) this.reader.exec('ROLLBACK');
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

  /** Runs a checkpoint (PASSIVE beside our own write lock; TRUNCATE waits for readers and writers itself). */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): CheckpointResult {
    const row = this.checkpointer.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as { busy: number; log: number; checkpointed: number };
    return { busy: row.busy !== 0, walFrames: row.log, backfilled: row.checkpointed };
  }

  /** Fills `into` from the main file at `offset`; past its end, zeros (SQLite grows files lazily). */
  async readMain(into: Uint8Array, offset: number): Promise<void> {
    const got = await readUpTo(this.main, into, into.length, offset);
    if (got < into.length) into.fill(0, got);
  }

  /** The main file's size as this descriptor sees it. */
  async mainSize(): Promise<number> {
    return (await this.main.stat()).size;
  }

  /** Closes everything, in the order that never lets a close checkpoint or delete the WAL (see the top of the file). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      closeInOrder([this.locker, this.checkpointer, this.reader]);
    } finally {
      await this.main.close();
    }
  }
}

/** Closes connections in the order given (write-capable ones before the read-only reader); every one is closed whatever fails. */
function closeInOrder(conns: DatabaseSync[]): void {
  let first: unknown;
  for (const c of conns) {
    try {
      if (c.isOpen) c.close();
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** Puts the database in WAL mode; AgentError WAL_MODE when SQLite refuses (a busy switch is an ordinary Error: try again). */
function switchToWAL(db: DatabaseSync, file: string): void {
  let mode: string;
  try {
    mode = (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  } catch (e) {
    if (isNotADatabase(e)) throw new AgentError('NOT_SQLITE', `${file} is not a SQLite database`, undefined, { cause: e });
    throw e;
  }
  if (mode === 'wal') return;
  let now: string;
  try {
    now = (db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode;
  } catch (e) {
    if (isBusy(e)) throw new Error(`${file} is in ${mode} mode and is busy: could not switch it to WAL mode yet`, { cause: e });
    throw new AgentError('WAL_MODE', `${file} is in ${mode} mode and could not be switched to WAL: ${(e as Error).message}`, undefined, {
      cause: e,
    });
  }
  if (now !== 'wal') throw new AgentError('WAL_MODE', `${file} is in ${mode} mode and refused WAL mode (${now})`);
}

/** SQLITE_NOTADB: the file has something else than a SQLite header. */
function isNotADatabase(e: unknown): boolean {
  const err = e as { errcode?: number; message?: string };
  return (err.errcode !== undefined && (err.errcode & 0xff) === 26) || /file is not a database/i.test(err.message ?? '');
}

function isBusy(e: unknown): boolean {
  const err = e as { errcode?: number; message?: string };
  return (err.errcode !== undefined && (err.errcode & 0xff) === 5) || /database is locked|SQLITE_BUSY/i.test(err.message ?? '');
}
