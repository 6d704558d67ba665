// The database as SQLite sees it: the main file's pages overlaid with the committed frames of its WAL.

import { type FileHandle, open } from 'node:fs/promises';
import { headerPageCount } from '../cli/restore.ts';
import { sqlitePageSize } from '../cli/sqlite-file.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, MemoryPageChecksums, isValidPageSize, lockPgno, pageChecksum } from '../ltx/index.ts';
import { AgentError } from './agent-error.ts';
import { type WALCursor, type WALHeader, WAL_HEADER_SIZE, WALError, parseWALHeader, readFully as readUpTo, readWALTransactions, startCursor } from './wal.ts';

/** Bytes read from the main file per call during a whole-database scan. */
const SCAN_READ_BYTES = 1 << 20;

/** "SQLite format 3\0". */
const SQLITE_MAGIC = new TextEncoder().encode('SQLite format 3\0');

/** Pages of the database: WAL frames (pgno → data offset in the -wal file) over the main file. */
export class LocalPages {
  readonly pageSize: number;
  private readonly dbFile: FileHandle;
  private readonly walFile: FileHandle | undefined;
  private readonly walPages: ReadonlyMap<number, number>;

  constructor(pageSize: number, dbFile: FileHandle, walFile: FileHandle | undefined, walPages: ReadonlyMap<number, number>) {
    this.pageSize = pageSize;
    this.dbFile = dbFile;
    this.walFile = walFile;
    this.walPages = walPages;
  }

  /** One page; a page past the main file's end reads as zeros (SQLite grows files lazily). */
  async read(pgno: number, into = new Uint8Array(this.pageSize)): Promise<Uint8Array> {
    const walOffset = this.walPages.get(pgno);
    if (walOffset !== undefined && this.walFile) await readFully(this.walFile, into, walOffset);
    else await readFully(this.dbFile, into, (pgno - 1) * this.pageSize, true);
    return into;
  }
}

/** The page size and size (in pages) the main file's header claims; undefined for an empty or foreign file. */
export function parseDatabaseHeader(head: Uint8Array, fileSize: number): { pageSize: number; commit: number } | undefined {
  if (head.length < 100 || !SQLITE_MAGIC.every((b, i) => head[i] === b)) return undefined;
  const pageSize = sqlitePageSize(head);
  if (!isValidPageSize(pageSize)) return undefined;
  return { pageSize, commit: headerPageCount(head, fileSize) ?? Math.floor(fileSize / pageSize) };
}

/** The whole database read once: its WAL position, size and per-page checksums. */
export interface LocalScan {
  /** 0 when the database has no pages yet. */
  pageSize: number;
  commit: number;
  /** The WAL's header and the cursor after its last committed frame; undefined when it has no valid header. */
  walHeader: WALHeader | undefined;
  cursor: WALCursor | undefined;
  /** Committed WAL frames: pgno → data offset. */
  walPages: Map<number, number>;
  sums: MemoryPageChecksums;
  checksum: bigint;
}

/**
 * Reads every page of `file` as of the last committed WAL frame and checksums it. Consistent while the
 * caller holds a read transaction: checkpoints can then only copy frames this scan also reads from the WAL.
 */
export async function scanDatabase(file: string): Promise<LocalScan> {
  const db = await open(file, 'r');
  const wal = await openIfExists(`${file}-wal`);
  try {
    const size = (await db.stat()).size;
    const head = new Uint8Array(100);
    await readFully(db, head, 0, true);
    const fromFile = size >= 100 ? parseDatabaseHeader(head, size) : undefined;
    if (size > 0 && !fromFile) throw new AgentError('NOT_SQLITE', `${file} is not a SQLite database`);

    const { walHeader, cursor, walPages, walCommit } = await readWholeWAL(wal);
    const pageSize = fromFile?.pageSize ?? walHeader?.pageSize ?? 0;
    if (walHeader && fromFile && walHeader.pageSize !== fromFile.pageSize && walPages.size > 0) {
      throw new AgentError('NOT_SQLITE', `${file}-wal has ${walHeader.pageSize}-byte pages but the database ${fromFile.pageSize}`);
    }
    const commit = walCommit ?? fromFile?.commit ?? 0;
    const sums = new MemoryPageChecksums();
    let checksum = EMPTY_DB_CHECKSUM;
    if (commit > 0) {
      const pages = new LocalPages(pageSize, db, wal, walPages);
      const lock = lockPgno(pageSize);
      const perRead = Math.max(1, Math.floor(SCAN_READ_BYTES / pageSize));
      const buf = new Uint8Array(perRead * pageSize);
      const one = new Uint8Array(pageSize);
      for (let first = 1; first <= commit; first += perRead) {
        const n = Math.min(perRead, commit - first + 1);
        await readFully(db, buf.subarray(0, n * pageSize), (first - 1) * pageSize, true);
        for (let i = 0; i < n; i++) {
          const pgno = first + i;
          if (pgno === lock) continue;
          const data = walPages.has(pgno) ? await pages.read(pgno, one) : buf.subarray(i * pageSize, (i + 1) * pageSize);
          const sum = pageChecksum(pgno, data);
          sums.set(pgno, sum);
          checksum ^= sum;
        }
      }
    }
    return { pageSize, commit, walHeader, cursor, walPages, sums, checksum: CHECKSUM_FLAG | checksum };
  } finally {
    await db.close();
    await wal?.close();
  }
}

/** Every committed frame of the current WAL generation, merged (last writer wins). */
async function readWholeWAL(
  wal: FileHandle | undefined,
): Promise<{ walHeader: WALHeader | undefined; cursor: WALCursor | undefined; walPages: Map<number, number>; walCommit: number | undefined }> {
  const walPages = new Map<number, number>();
  if (!wal) return { walHeader: undefined, cursor: undefined, walPages, walCommit: undefined };
  const bytes = new Uint8Array(WAL_HEADER_SIZE);
  const { bytesRead } = await wal.read(bytes, 0, WAL_HEADER_SIZE, 0);
  if (bytesRead < WAL_HEADER_SIZE) return { walHeader: undefined, cursor: undefined, walPages, walCommit: undefined };
  let walHeader: WALHeader;
  try {
    walHeader = parseWALHeader(bytes);
  } catch (e) {
    // SQLite ignores a WAL whose header is not valid (it is rewritten before the next frame).
    if (e instanceof WALError) return { walHeader: undefined, cursor: undefined, walPages, walCommit: undefined };
    throw e;
  }
  const { transactions, cursor } = await readWALTransactions(wal, walHeader, startCursor(walHeader));
  let walCommit: number | undefined;
  for (const tx of transactions) {
    for (const [pgno, off] of tx.pages) walPages.set(pgno, off);
    walCommit = tx.commit;
  }
  if (walCommit !== undefined) for (const pgno of walPages.keys()) if (pgno > walCommit) walPages.delete(pgno);
  return { walHeader, cursor, walPages, walCommit };
}

/** Opens a file for reading, or undefined when it does not exist. */
export async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Fills `into` from `offset`; past the end of the file the rest is zeros when `zeroFill`, else an error. */
export async function readFully(fh: FileHandle, into: Uint8Array, offset: number, zeroFill = false): Promise<void> {
  const got = await readUpTo(fh, into, into.length, offset);
  if (got === into.length) return;
  if (!zeroFill) throw new WALError('WAL_READ', `short read at ${offset + got}`);
  into.fill(0, got);
}
