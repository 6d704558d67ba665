// The database as SQLite sees it: the main file's pages overlaid with the committed frames of its WAL.

import { type FileHandle, open } from 'node:fs/promises';
import { headerPageCount, isSQLiteHeader, sqlitePageSize } from '../sqlite/header.ts';
import { readUpTo } from '../sqlite/file-read.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, MemoryPageChecksums, isValidPageSize, lockPgno, pageChecksum } from '../ltx/index.ts';
import { AgentError, ViewChangedError } from './agent-error.ts';
import { type FileId, fileIdOfHandle } from './database-hold.ts';
import {
  type WALCursor,
  type WALHeader,
  WAL_FRAME_HEADER_SIZE,
  WAL_HEADER_SIZE,
  WALError,
  parseWALHeader,
  readWALTransactions,
  startCursor,
} from './wal.ts';

/** Bytes read from the main file per call during a whole-database scan. */
const SCAN_READ_BYTES = 1 << 20;

/**
 * Where main-file pages come from: the agent's DatabaseHold for a live database (its one descriptor,
 * see database-hold.ts), or `privateMainFile` for a file no SQLite connection of this process holds.
 */
export interface MainFile {
  readonly file: string;
  /** Fills `into` from `offset`; zeros past the end of the file. */
  readMain(into: Uint8Array, offset: number): Promise<void>;
  mainSize(): Promise<number>;
}

/** Runs `fn` over a file of our own (never a database this process holds SQLite connections to: closing it would drop their locks). */
export async function withPrivateMainFile<T>(file: string, fn: (main: MainFile) => Promise<T>): Promise<T> {
  const fh = await open(file, 'r');
  try {
    return await fn({ file, readMain: (into, offset) => readFully(fh, into, offset, true), mainSize: async () => (await fh.stat()).size });
  } finally {
    await fh.close();
  }
}

/** The salts every frame of one WAL generation carries. */
export interface WALSalts {
  salt1: number;
  salt2: number;
}

/**
 * Pages of the database: WAL frames (pgno → data offset in the -wal file) over the main file. A WAL
 * page is read with its frame header and must carry `salts` and its pgno: a frame of another
 * generation written over it meanwhile throws ViewChangedError instead of passing for the page.
 */
export class LocalPages {
  readonly pageSize: number;
  private readonly main: MainFile;
  private readonly walFile: FileHandle | undefined;
  private readonly walPages: ReadonlyMap<number, number>;
  private readonly salts: WALSalts | undefined;
  private frame: Uint8Array | undefined;

  constructor(
    pageSize: number,
    main: MainFile,
    walFile: FileHandle | undefined,
    walPages: ReadonlyMap<number, number>,
    salts: WALSalts | undefined,
  ) {
    this.pageSize = pageSize;
    this.main = main;
    this.walFile = walFile;
    this.walPages = walPages;
    this.salts = salts;
  }

  /** One page; a page past the main file's end reads as zeros (SQLite grows files lazily). */
  async read(pgno: number, into = new Uint8Array(this.pageSize)): Promise<Uint8Array> {
    const walOffset = this.walPages.get(pgno);
    if (walOffset === undefined || !this.walFile) {
      await this.main.readMain(into, (pgno - 1) * this.pageSize);
      return into;
    }
    const frame = (this.frame ??= new Uint8Array(WAL_FRAME_HEADER_SIZE + this.pageSize));
    if ((await readUpTo(this.walFile, frame, frame.length, walOffset - WAL_FRAME_HEADER_SIZE)) !== frame.length) {
      throw new ViewChangedError(`the WAL frame of page ${pgno} at ${walOffset - WAL_FRAME_HEADER_SIZE} is gone (the WAL was truncated)`);
    }
    const v = new DataView(frame.buffer, frame.byteOffset, WAL_FRAME_HEADER_SIZE);
    if (this.salts && (v.getUint32(0) !== pgno || v.getUint32(8) !== this.salts.salt1 || v.getUint32(12) !== this.salts.salt2)) {
      throw new ViewChangedError(
        `the WAL frame of page ${pgno} at ${walOffset - WAL_FRAME_HEADER_SIZE} was overwritten (the WAL restarted)`,
      );
    }
    into.set(frame.subarray(WAL_FRAME_HEADER_SIZE));
    return into;
  }
}

/** The page size and size (in pages) the main file's header claims; undefined for an empty or foreign file. */
export function parseDatabaseHeader(head: Uint8Array, fileSize: number): { pageSize: number; commit: number } | undefined {
  if (!isSQLiteHeader(head)) return undefined;
  const pageSize = sqlitePageSize(head);
  if (!isValidPageSize(pageSize)) return undefined;
  return { pageSize, commit: headerPageCount(head) ?? Math.floor(fileSize / pageSize) };
}

/** The whole database read once: its WAL position, size and per-page checksums. */
export interface LocalScan {
  /** 0 when the database has no pages yet. */
  pageSize: number;
  commit: number;
  /** The WAL's header and the cursor after its last committed frame; undefined when it has no valid header. */
  walHeader: WALHeader | undefined;
  cursor: WALCursor | undefined;
  /** The -wal file read (undefined when there was none). */
  walId: FileId | undefined;
  /** Committed WAL frames: pgno → data offset. */
  walPages: Map<number, number>;
  sums: MemoryPageChecksums;
  checksum: bigint;
}

/**
 * Reads every page of the database as of the last committed WAL frame and checksums it. Consistent
 * while the caller holds a read transaction begun before the scan: checkpoints can then copy into the
 * main file only frames this scan reads from the WAL, and the WAL can restart only if it was wholly
 * copied already — a WAL frame overwritten meanwhile throws ViewChangedError (scan again).
 */
export async function scanDatabase(main: MainFile): Promise<LocalScan> {
  const wal = await openIfExists(`${main.file}-wal`);
  try {
    const size = await main.mainSize();
    const head = new Uint8Array(100);
    await main.readMain(head, 0);
    const fromFile = size >= 100 ? parseDatabaseHeader(head, size) : undefined;
    if (size > 0 && !fromFile) throw new AgentError('NOT_SQLITE', `${main.file} is not a SQLite database`);

    const { walHeader, cursor, walPages, walCommit } = await readWholeWAL(wal);
    const walId = wal ? await fileIdOfHandle(wal) : undefined;
    const pageSize = fromFile?.pageSize ?? walHeader?.pageSize ?? 0;
    if (walHeader && fromFile && walHeader.pageSize !== fromFile.pageSize && walPages.size > 0) {
      throw new AgentError('NOT_SQLITE', `${main.file}-wal has ${walHeader.pageSize}-byte pages but the database ${fromFile.pageSize}`);
    }
    const commit = walCommit ?? fromFile?.commit ?? 0;
    const sums = new MemoryPageChecksums();
    let checksum = EMPTY_DB_CHECKSUM;
    if (commit > 0) {
      const pages = new LocalPages(pageSize, main, wal, walPages, walHeader);
      const lock = lockPgno(pageSize);
      const perRead = Math.max(1, Math.floor(SCAN_READ_BYTES / pageSize));
      const buf = new Uint8Array(perRead * pageSize);
      const one = new Uint8Array(pageSize);
      for (let first = 1; first <= commit; first += perRead) {
        const n = Math.min(perRead, commit - first + 1);
        await main.readMain(buf.subarray(0, n * pageSize), (first - 1) * pageSize);
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
    return { pageSize, commit, walHeader, cursor, walId, walPages, sums, checksum: CHECKSUM_FLAG | checksum };
  } finally {
    await wal?.close();
  }
}

/** Every committed frame of the current WAL generation, merged (last writer wins). */
async function readWholeWAL(wal: FileHandle | undefined): Promise<{
  walHeader: WALHeader | undefined;
  cursor: WALCursor | undefined;
  walPages: Map<number, number>;
  walCommit: number | undefined;
}> {
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
