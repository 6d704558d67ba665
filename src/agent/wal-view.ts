// What the agent believes about the database on disk — the file, the WAL generation it follows and how far — and the checks that catch the file system parting from it.
//
// Why following the WAL is safe at all: the agent holds a read transaction, and SQLite never restarts
// or truncates a WAL under a reader that needs it. A reader at read mark m > 0 blocks every restart; a
// reader at mark 0 (it began when the WAL was wholly copied into the database) blocks every copy into
// the database, so a restart can then only happen before any new frame was appended. Either way, as
// long as the read transaction has been held since the WAL up to the cursor was read (`continuous`),
// a new generation or a truncated WAL starts exactly where the agent's reading stopped.
//
// What SQLite's locks cannot promise, the checks here do not assume: every sync compares the path's
// device and inode with the ones the agent holds (a database renamed over, a WAL deleted or replaced),
// reads the header's journal-mode bytes (a database taken out of WAL mode), and asks SQLite whether
// the read transaction is still open. Any break is repaired by reading the database whole (a rescan),
// after reopening the hold when it is on the wrong file.

import type { FileHandle } from 'node:fs/promises';
import { ViewChangedError } from './agent-error.ts';
import { type DatabaseHold, type FileId, fileIdOf, sameFile } from './database-hold.ts';
import { type LocalScan, LocalPages, openIfExists } from './local-pages.ts';
import {
  type WALCursor,
  type WALHeader,
  WAL_HEADER_SIZE,
  readWALHeader,
  readWALTransactions,
  sameGeneration,
  startCursor,
  walFrameSize,
} from './wal.ts';

/** Why the view no longer holds; `reopen` when the hold's connections are on a file that is no longer the database's. */
export interface ViewBreak {
  why: string;
  reopen: boolean;
}

/** Transactions committed after the cursor, merged: the newest bytes of each page, and where reading stopped. */
export interface NewFrames {
  pageSize: number;
  /** Database size in pages after the last transaction. */
  commit: number;
  pages: [pgno: number, data: Uint8Array][];
  commits: number;
  cursor: WALCursor;
  /** Reading stopped at the byte limit: more may be committed after `cursor`. */
  limited: boolean;
}

/** Bytes 18 and 19 of the database header: file format write/read versions, 2 in WAL mode (fileformat §1.3.3). */
const WAL_FORMAT_VERSION = 2;

export class WALView {
  readonly file: string;
  header: WALHeader | undefined;
  cursor: WALCursor | undefined;
  /** The -wal file the cursor belongs to (undefined: the database had no WAL when it was read). */
  walId: FileId | undefined;
  /** The read transaction has been held without a gap since the WAL up to `cursor` was read (see the top of the file). */
  continuous = false;
  /** Where the last checkpoint copied the whole WAL: checkpointing again before the cursor moves would copy nothing. */
  backfilledAt: WALCursor | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** The view a whole-database scan read (begun under a held read transaction). */
  adopt(scan: LocalScan): void {
    this.header = scan.walHeader;
    this.cursor = scan.cursor;
    this.walId = scan.walId;
    this.continuous = true;
    this.backfilledAt = undefined;
  }

  /** Forgets the WAL: the hold is gone or being replaced. */
  reset(): void {
    this.continuous = false;
    this.backfilledAt = undefined;
  }

  /** Frames in the WAL up to the cursor. */
  get frames(): number {
    return this.header && this.cursor ? (this.cursor.offset - WAL_HEADER_SIZE) / walFrameSize(this.header) : 0;
  }

  /** True when the last checkpoint already copied everything up to the cursor. */
  get backfilled(): boolean {
    const b = this.backfilledAt;
    return (
      b !== undefined &&
      this.cursor !== undefined &&
      b.offset === this.cursor.offset &&
      b.salt1 === this.cursor.salt1 &&
      b.salt2 === this.cursor.salt2
    );
  }

  /**
   * The once-per-sync checks of the files against the hold. Throws an ordinary Error while the
   * database file is missing (the agent waits for it to come back).
   */
  async check(hold: DatabaseHold): Promise<ViewBreak | undefined> {
    const id = await fileIdOf(this.file);
    if (!id) throw new Error(`${this.file} is gone; waiting for it to come back`);
    if (!sameFile(id, hold.id)) return { why: 'the database file was replaced', reopen: true };
    if ((await hold.mainSize()) >= 100) {
      const head = new Uint8Array(20);
      await hold.readMain(head, 0);
      if (head[18] !== WAL_FORMAT_VERSION || head[19] !== WAL_FORMAT_VERSION) return { why: 'the database left WAL mode', reopen: true };
    }
    if (this.walId) {
      const walId = await fileIdOf(`${this.file}-wal`);
      if (!walId) return { why: 'the WAL was deleted', reopen: true };
      if (!sameFile(walId, this.walId)) return { why: 'the WAL was replaced', reopen: true };
    }
    if (!hold.reading) {
      this.continuous = false;
      return { why: 'the read transaction was lost', reopen: false };
    }
    return undefined;
  }

  /**
   * Reads the transactions committed after the cursor (at least one, then up to `maxBytes` of frames)
   * and their pages. Undefined when nothing new was committed; a ViewBreak when the WAL is not the one
   * the cursor belongs to, or is of another page size than `pageSize` (0: any).
   */
  async read(hold: DatabaseHold, pageSize: number, maxBytes: number): Promise<NewFrames | ViewBreak | undefined> {
    const wal = await openIfExists(`${this.file}-wal`);
    if (!wal) return this.walId ? { why: 'the WAL was deleted', reopen: true } : undefined;
    try {
      const st = await wal.stat({ bigint: true });
      const walId: FileId = { dev: st.dev, ino: st.ino };
      if (this.walId && !sameFile(walId, this.walId)) return { why: 'the WAL was replaced', reopen: true };
      const header = await readWALHeader(wal).catch(() => null);
      if (!header) {
        // Shorter than a header: created empty, or truncated by a TRUNCATE checkpoint. Under a continuous
        // read, truncated exactly where the agent's reading stopped.
        if (!this.continuous && this.frames > 0) return { why: 'the WAL was truncated', reopen: false };
        this.walId = walId;
        this.header = undefined;
        this.cursor = undefined;
        return undefined;
      }
      if (!this.cursor || !sameGeneration(header, this.cursor)) {
        if (!this.continuous) return { why: 'the WAL was restarted', reopen: false };
        this.header = header;
        this.cursor = startCursor(header);
        this.walId = walId;
      } else if (st.size < BigInt(this.cursor.offset)) {
        return { why: 'the WAL shrank under its cursor', reopen: false };
      }
      if (pageSize !== 0 && header.pageSize !== pageSize) return { why: 'the page size changed', reopen: false };
      return await this.readFrames(hold, wal, header, maxBytes);
    } finally {
      await wal.close();
    }
  }

  /**
   * The WAL generation at the path (its salts; `none` without a WAL header). Taken before a read
   * transaction begins, it tells later whether the WAL restarted under that read — which SQLite allows
   * only under a reader at read mark 0.
   */
  async generation(): Promise<string> {
    const wal = await openIfExists(`${this.file}-wal`);
    if (!wal) return 'none';
    try {
      const header = await readWALHeader(wal).catch(() => null);
      return header ? `${header.salt1}-${header.salt2}` : 'none';
    } finally {
      await wal.close();
    }
  }

  /**
   * True when the -wal at the path is still the one this view followed, non-empty and of the same
   * generation: beside a database renamed over, SQLite would read it as the new database's.
   */
  async oldWALBeside(): Promise<boolean> {
    const wal = await openIfExists(`${this.file}-wal`);
    if (!wal) return false;
    try {
      const { dev, ino, size } = await wal.stat({ bigint: true });
      const header = await readWALHeader(wal).catch(() => null);
      const cursor = this.cursor;
      return (
        sameFile({ dev, ino }, this.walId) &&
        header !== null &&
        cursor !== undefined &&
        sameGeneration(header, cursor) &&
        size > BigInt(WAL_HEADER_SIZE)
      );
    } finally {
      await wal.close();
    }
  }

  private async readFrames(
    hold: DatabaseHold,
    wal: FileHandle,
    header: WALHeader,
    maxBytes: number,
  ): Promise<NewFrames | ViewBreak | undefined> {
    const { transactions, cursor, limited } = await readWALTransactions(wal, header, this.cursor!, { maxBytes });
    if (transactions.length === 0) return undefined;
    const offsets = new Map<number, number>();
    for (const tx of transactions) for (const [pgno, off] of tx.pages) offsets.set(pgno, off);
    const commit = transactions[transactions.length - 1].commit;
    const reader = new LocalPages(header.pageSize, hold, wal, offsets, header);
    const pages: [number, Uint8Array][] = [];
    try {
      for (const pgno of [...offsets.keys()].filter((p) => p <= commit).sort((a, b) => a - b)) pages.push([pgno, await reader.read(pgno)]);
    } catch (e) {
      if (e instanceof ViewChangedError) return { why: e.message, reopen: false };
      throw e;
    }
    this.cursor = cursor;
    return { pageSize: header.pageSize, commit, pages, commits: transactions.length, cursor, limited };
  }
}
