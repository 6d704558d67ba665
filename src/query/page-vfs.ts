// A read-only, immutable SQLite VFS whose files are databases at one TXID, served page by page from JS (fault on a miss).

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import type { SqliteModule } from './sqlite-module.ts';

/** The registered name of the VFS inside the engine. */
export const VFS_NAME = 'ltx-edge';

/**
 * A database file as the VFS reads it: a fixed size and synchronous page lookups. A page that is
 * not available yet is `undefined`; the file remembers it as missing, the read fails with
 * SQLITE_IOERR_READ, and the caller fetches the missing pages and runs the statement again.
 */
export interface PageFile {
  readonly pageSize: number;
  /** Pages in the file: the Commit at the TXID read (file size = pageSize × pageCount). */
  readonly pageCount: number;
  /** Page `pgno` (1-based, ≤ pageCount), exactly pageSize bytes, or undefined when it must be fetched. */
  page(pgno: number): Uint8Array | undefined;
  /** Told about an exception inside a read (it must not unwind through the wasm stack); the read fails. */
  noteError(err: unknown): void;
}

/** ms between the Julian epoch and the Unix epoch, for xCurrentTimeInt64. */
const UNIX_EPOCH_JULIAN_MS = 24405875n * 8640000n;
const TWO_32 = 0x1_0000_0000;

/**
 * The VFS. Files are registered by name before `sqlite3_open_v2` and found again by the `sqlite3_file`
 * pointer SQLite hands every call. It reports SQLITE_IOCAP_IMMUTABLE (no locks, no journal or WAL
 * lookups, SQLite keeps its page cache across statements) and opens main databases only, read-only:
 * temp files are refused, so connections must use `PRAGMA temp_store=MEMORY`.
 * Methods follow wa-sqlite's raw VFS calling convention (pointers into the wasm heap, 64-bit values
 * as lo/hi halves) and are all synchronous, as the sync build requires.
 */
export class PageVFS {
  readonly name = VFS_NAME;
  readonly mxPathname = 128;
  private readonly mod: SqliteModule;
  private readonly byName = new Map<string, PageFile>();
  private readonly byPointer = new Map<number, PageFile>();

  constructor(mod: SqliteModule) {
    this.mod = mod;
  }

  /** Makes `file` openable as `name` until the returned function is called. Names must be unique. */
  register(name: string, file: PageFile): () => void {
    if (this.byName.has(name)) throw new Error(`VFS file ${name} is already registered`);
    this.byName.set(name, file);
    return () => this.byName.delete(name);
  }

  /** Files open now (for tests: every connection must be closed after a query). */
  get openFiles(): number {
    return this.byPointer.size;
  }

  hasAsyncMethod(): boolean {
    return false;
  }

  xOpen(_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number {
    const file = zName === 0 ? undefined : this.byName.get(this.mod.UTF8ToString(zName));
    if (file === undefined || (flags & SQLite.SQLITE_OPEN_MAIN_DB) === 0) return SQLite.SQLITE_CANTOPEN;
    this.byPointer.set(pFile, file);
    if (pOutFlags !== 0) this.mod.HEAP32[pOutFlags >> 2] = SQLite.SQLITE_OPEN_READONLY | SQLite.SQLITE_OPEN_MAIN_DB;
    return SQLite.SQLITE_OK;
  }

  xDelete(): number {
    return SQLite.SQLITE_IOERR_DELETE;
  }

  /** Nothing else exists: no journal, no WAL, no temp files. */
  xAccess(_pVfs: number, _zName: number, _flags: number, pResOut: number): number {
    this.mod.HEAP32[pResOut >> 2] = 0;
    return SQLite.SQLITE_OK;
  }

  xFullPathname(_pVfs: number, zName: number, nOut: number, zOut: number): number {
    const heap = this.mod.HEAPU8;
    let i = 0;
    for (; heap[zName + i] !== 0; i++) {
      if (i + 1 >= nOut) return SQLite.SQLITE_CANTOPEN;
      heap[zOut + i] = heap[zName + i];
    }
    heap[zOut + i] = 0;
    return SQLite.SQLITE_OK;
  }

  xRandomness(_pVfs: number, nByte: number, pOut: number): number {
    crypto.getRandomValues(this.mod.HEAPU8.subarray(pOut, pOut + nByte));
    return nByte;
  }

  xSleep(): number {
    return SQLite.SQLITE_OK;
  }

  xGetLastError(): number {
    return SQLite.SQLITE_OK;
  }

  xCurrentTimeInt64(_pVfs: number, pTime: number): number {
    const v = UNIX_EPOCH_JULIAN_MS + BigInt(Date.now());
    this.mod.HEAP32[pTime >> 2] = Number(v & 0xffffffffn) | 0;
    this.mod.HEAP32[(pTime >> 2) + 1] = Number(v >> 32n) | 0;
    return SQLite.SQLITE_OK;
  }

  xClose(pFile: number): number {
    this.byPointer.delete(pFile);
    return SQLite.SQLITE_OK;
  }

  /**
   * Copies [offset, offset+iAmt) out of the pages it spans. Past the end: zero-filled, short read
   * (SQLite's rule). Any page not available: SQLITE_IOERR_READ after the file noted every such page,
   * so one fetch serves the whole read.
   */
  xRead(pFile: number, pData: number, iAmt: number, iOffsetLo: number, iOffsetHi: number): number {
    const file = this.byPointer.get(pFile);
    if (file === undefined) return SQLite.SQLITE_IOERR_READ;
    try {
      return this.read(file, pData, iAmt, iOffsetHi * TWO_32 + (iOffsetLo >>> 0));
    } catch (err) {
      file.noteError(err);
      return SQLite.SQLITE_IOERR_READ;
    }
  }

  private read(file: PageFile, pData: number, iAmt: number, offset: number): number {
    const size = file.pageSize * file.pageCount;
    const end = Math.min(offset + iAmt, size);
    let missing = false;
    for (let at = offset; at < end; ) {
      const pgno = Math.floor(at / file.pageSize) + 1;
      const page = file.page(pgno);
      const inPage = at - (pgno - 1) * file.pageSize;
      const n = Math.min(file.pageSize - inPage, end - at);
      if (page === undefined) missing = true;
      else if (!missing) this.mod.HEAPU8.set(page.subarray(inPage, inPage + n), pData + (at - offset));
      at += n;
    }
    if (missing) return SQLite.SQLITE_IOERR_READ;
    if (end < offset + iAmt) {
      this.mod.HEAPU8.fill(0, pData + Math.max(0, end - offset), pData + iAmt);
      return SQLite.SQLITE_IOERR_SHORT_READ;
    }
    return SQLite.SQLITE_OK;
  }

  xWrite(): number {
    return SQLite.SQLITE_READONLY;
  }

  xTruncate(): number {
    return SQLite.SQLITE_READONLY;
  }

  xSync(): number {
    return SQLite.SQLITE_OK;
  }

  xFileSize(pFile: number, pSize: number): number {
    const file = this.byPointer.get(pFile);
    if (file === undefined) return SQLite.SQLITE_IOERR_FSTAT;
    const size = file.pageSize * file.pageCount;
    this.mod.HEAP32[pSize >> 2] = (size % TWO_32) | 0;
    this.mod.HEAP32[(pSize >> 2) + 1] = Math.floor(size / TWO_32) | 0;
    return SQLite.SQLITE_OK;
  }

  xLock(): number {
    return SQLite.SQLITE_OK;
  }

  xUnlock(): number {
    return SQLite.SQLITE_OK;
  }

  xCheckReservedLock(_pFile: number, pResOut: number): number {
    this.mod.HEAP32[pResOut >> 2] = 0;
    return SQLite.SQLITE_OK;
  }

  xFileControl(): number {
    return SQLite.SQLITE_NOTFOUND;
  }

  xSectorSize(): number {
    return 512;
  }

  xDeviceCharacteristics(): number {
    return SQLite.SQLITE_IOCAP_IMMUTABLE;
  }
}
