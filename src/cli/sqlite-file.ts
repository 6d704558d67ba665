// A SQLite database file on disk: header checks (magic, page size, whole pages, no hot WAL/journal) and its pages, streamed.

import { type FileHandle, open, stat } from 'node:fs/promises';
import { type PageInput, isValidPageSize, lockPgno } from '../ltx/index.ts';
import { CliError } from './cli-errors.ts';
import { SQLITE_HEADER_SIZE, isSQLiteHeader, sqlitePageSize } from '../sqlite/header.ts';

/** The database header is the first 100 bytes of page 1. */
/** A WAL file starts with a 32-byte header; anything beyond it is frames. */
const WAL_HEADER_SIZE = 32;
/** The first 8 bytes of a rollback journal that still holds a transaction (a "hot" journal). */
const JOURNAL_MAGIC = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
/** Bytes read per syscall while streaming pages (rounded down to whole pages, at least one). */
export const PAGE_READ_BYTES = 1 << 20;

/** What the file looks like when checked; the stream later insists it has not changed. */
export interface SQLiteFileInfo {
  file: string;
  pageSize: number;
  /** Database size in pages: file size / page size. */
  commit: number;
  /** File size, bytes. */
  size: number;
  mtimeMs: number;
}

/**
 * Checks that `file` is a complete SQLite database that can be read as is. CliError codes (messages
 * leave out the file name, which callers print before them):
 * NOT_SQLITE (no magic, bad page size), PARTIAL_PAGE (size not a multiple of the page size),
 * HOT_WAL (a `-wal` beside it holds frames), HOT_JOURNAL (a rollback journal holds a transaction).
 */
export async function inspectSQLiteFile(file: string): Promise<SQLiteFileInfo> {
  const fh = await open(file, 'r');
  let header: Uint8Array;
  let st: Awaited<ReturnType<typeof fh.stat>>;
  try {
    st = await fh.stat();
    if (!st.isFile()) throw new CliError('NOT_SQLITE', 'not a regular file');
    header = new Uint8Array(SQLITE_HEADER_SIZE);
    const { bytesRead } = await fh.read(header, 0, SQLITE_HEADER_SIZE, 0);
    header = header.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!isSQLiteHeader(header)) {
    throw new CliError('NOT_SQLITE', 'not a SQLite database (no "SQLite format 3" header)');
  }
  const pageSize = sqlitePageSize(header);
  if (!isValidPageSize(pageSize)) throw new CliError('NOT_SQLITE', `invalid page size ${pageSize} in the SQLite header`);
  if (st.size % pageSize !== 0) {
    throw new CliError(
      'PARTIAL_PAGE',
      `its size (${st.size} bytes) is not a whole number of ${pageSize}-byte pages; is it still being written, or truncated?`,
    );
  }
  const wal = await sizeOf(`${file}-wal`);
  if (wal !== undefined && wal > WAL_HEADER_SIZE) {
    throw new CliError(
      'HOT_WAL',
      `${file}-wal holds ${wal - WAL_HEADER_SIZE} bytes of WAL frames that may not be in ${file} yet: ` +
        `checkpoint it first (sqlite3 ${file} 'PRAGMA wal_checkpoint(TRUNCATE);'), then import`,
    );
  }
  if (await isHotJournal(`${file}-journal`)) {
    throw new CliError(
      'HOT_JOURNAL',
      `${file}-journal holds a transaction in progress or interrupted: let it finish, or open the database once with sqlite3 to roll it back`,
    );
  }
  return { file, pageSize, commit: st.size / pageSize, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * The database's pages in order, the lock page left out (LTX never carries it), read a block at a
 * time into one reused buffer: each page is valid until the next one is asked for. `onBytes` hears
 * the bytes read. Throws CliError SQLITE_CHANGED when the file's size or mtime differs from `info`,
 * before or after the read, so a database written to meanwhile is never uploaded as a snapshot.
 */
export async function* readSQLitePages(info: SQLiteFileInfo, onBytes?: (n: number) => void): AsyncGenerator<PageInput> {
  const { pageSize, commit } = info;
  const fh = await open(info.file, 'r');
  try {
    await assertUnchanged(info, await fh.stat());
    const pagesPerRead = Math.max(1, Math.floor(PAGE_READ_BYTES / pageSize));
    const buf = new Uint8Array(pagesPerRead * pageSize);
    const lock = lockPgno(pageSize);
    for (let pgno = 1; pgno <= commit; ) {
      const n = Math.min(pagesPerRead, commit - pgno + 1);
      const want = n * pageSize;
      for (let got = 0; got < want; ) {
        const { bytesRead } = await fh.read(buf, got, want - got, (pgno - 1) * pageSize + got);
        if (bytesRead === 0) throw changedError();
        got += bytesRead;
      }
      for (let i = 0; i < n; i++, pgno++) {
        if (pgno !== lock) yield { pgno, data: buf.subarray(i * pageSize, (i + 1) * pageSize) };
      }
      onBytes?.(want);
    }
    await assertUnchanged(info, await fh.stat());
  } finally {
    await fh.close();
  }
}

async function assertUnchanged(info: SQLiteFileInfo, st: { size: number; mtimeMs: number }): Promise<void> {
  if (st.size !== info.size || st.mtimeMs !== info.mtimeMs) throw changedError();
}

function changedError(): CliError {
  return new CliError('SQLITE_CHANGED', 'the file changed while it was read; stop its writers (or copy it) and import again');
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function isHotJournal(file: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    const head = new Uint8Array(JOURNAL_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && JOURNAL_MAGIC.every((b, i) => head[i] === b);
  } finally {
    await fh.close();
  }
}
