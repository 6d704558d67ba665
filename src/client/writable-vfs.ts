// The write-enabled VFS of the Node client: reads through the query VFS (fault on a miss), writes buffered as dirty pages in memory.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import { PageVFS } from '../query/page-vfs.ts';
import type { SqliteModule } from '../query/sqlite-module.ts';
import { ClientPages, type ClientPagesOptions, type PinnedState } from './client-pages.ts';
import type { PageStore } from './page-store.ts';

/** The registered name of the writable VFS (the read engine's is `ltx-edge`, in another SQLite instance). */
export const WRITE_VFS_NAME = 'ltx-edge-rw';

const TWO_32 = 0x1_0000_0000;

/**
 * A database file open for writing: the base pages at the pinned TXID (lazily fetched, like a
 * query's) under an overlay of dirty pages. Its size starts at the base commit and follows SQLite's
 * writes and truncations. Nothing reaches the server from here: the write session sends `dirty`.
 */
export class WritableFile extends ClientPages {
  /** Pages SQLite wrote, whole, keyed by page number. */
  readonly dirty = new Map<number, Uint8Array>();
  private size: number;
  /** The smallest size since the start: base pages above it were truncated away and read as zeros. */
  private low: number;

  constructor(store: PageStore, state: PinnedState, opts: ClientPagesOptions = {}) {
    super(store, state, opts);
    this.size = state.commit;
    this.low = state.commit;
  }

  /** Forgets every write (a new run of the transaction starts from the base); fetched pages and the b-tree walk stay. */
  resetWrites(): void {
    this.dirty.clear();
    this.size = this.state.commit;
    this.low = this.state.commit;
    this.clearMissing();
  }

  override get pageCount(): number {
    return this.size;
  }

  override page(pgno: number): Uint8Array | undefined {
    const d = this.dirty.get(pgno);
    if (d !== undefined) return d;
    if (pgno > this.low) return this.zero;
    return super.page(pgno);
  }

  /** Writes `data` at byte `offset`; false when a partial page write needs a base page not yet fetched (noted missing). */
  write(offset: number, data: Uint8Array): boolean {
    const ps = this.pageSize;
    for (let at = 0; at < data.length; ) {
      const pgno = Math.floor((offset + at) / ps) + 1;
      const inPage = (offset + at) % ps;
      const n = Math.min(ps - inPage, data.length - at);
      let page: Uint8Array;
      if (inPage === 0 && n === ps) {
        page = data.slice(at, at + n);
      } else {
        const base = this.page(pgno);
        if (base === undefined) return false;
        page = base.slice();
        page.set(data.subarray(at, at + n), inPage);
      }
      this.dirty.set(pgno, page);
      this.size = Math.max(this.size, pgno);
      at += n;
    }
    return true;
  }

  /** Truncates to `bytes` (SQLite truncates to whole pages). */
  truncate(bytes: number): void {
    const pages = Math.ceil(bytes / this.pageSize);
    for (const pgno of [...this.dirty.keys()]) if (pgno > pages) this.dirty.delete(pgno);
    this.size = pages;
    this.low = Math.min(this.low, pages);
  }
}

/**
 * A VFS for WritableFiles. Reads, sizes, time and randomness go through a PageVFS (the query
 * engine's, so a missing page fails the read the same way: SQLITE_IOERR_READ, fetch, run again);
 * xWrite and xTruncate change the file's dirty overlay; the file is not immutable, so SQLite keeps
 * its usual locks and journals. Connections must use `PRAGMA locking_mode=EXCLUSIVE`,
 * `journal_mode=MEMORY` and `temp_store=MEMORY`: no journal, WAL or temp file is ever opened.
 */
export class WritableVFS {
  readonly name = WRITE_VFS_NAME;
  readonly mxPathname = 128;
  private readonly mod: SqliteModule;
  private readonly inner: PageVFS;
  private readonly byName = new Map<string, WritableFile>();
  private readonly byPointer = new Map<number, WritableFile>();

  constructor(mod: SqliteModule) {
    this.mod = mod;
    this.inner = new PageVFS(mod);
  }

  /** Makes `file` openable as `name` until the returned function is called. */
  register(name: string, file: WritableFile): () => void {
    const unregister = this.inner.register(name, file);
    this.byName.set(name, file);
    return () => {
      unregister();
      this.byName.delete(name);
    };
  }

  get openFiles(): number {
    return this.byPointer.size;
  }

  hasAsyncMethod(): boolean {
    return false;
  }

  xOpen(pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number {
    const rc = this.inner.xOpen(pVfs, zName, pFile, flags, pOutFlags);
    if (rc !== SQLite.SQLITE_OK) return rc;
    this.byPointer.set(pFile, this.byName.get(this.mod.UTF8ToString(zName))!);
    if (pOutFlags !== 0) this.mod.HEAP32[pOutFlags >> 2] = SQLite.SQLITE_OPEN_READWRITE | SQLite.SQLITE_OPEN_MAIN_DB;
    return SQLite.SQLITE_OK;
  }

  xDelete(): number {
    return SQLite.SQLITE_IOERR_DELETE;
  }

  xAccess(pVfs: number, zName: number, flags: number, pResOut: number): number {
    return this.inner.xAccess(pVfs, zName, flags, pResOut);
  }

  xFullPathname(pVfs: number, zName: number, nOut: number, zOut: number): number {
    return this.inner.xFullPathname(pVfs, zName, nOut, zOut);
  }

  xRandomness(pVfs: number, nByte: number, pOut: number): number {
    return this.inner.xRandomness(pVfs, nByte, pOut);
  }

  xSleep(): number {
    return SQLite.SQLITE_OK;
  }

  xGetLastError(): number {
    return SQLite.SQLITE_OK;
  }

  xCurrentTimeInt64(pVfs: number, pTime: number): number {
    return this.inner.xCurrentTimeInt64(pVfs, pTime);
  }

  xClose(pFile: number): number {
    this.byPointer.delete(pFile);
    return this.inner.xClose(pFile);
  }

  xRead(pFile: number, pData: number, iAmt: number, iOffsetLo: number, iOffsetHi: number): number {
    return this.inner.xRead(pFile, pData, iAmt, iOffsetLo, iOffsetHi);
  }

  xWrite(pFile: number, pData: number, iAmt: number, iOffsetLo: number, iOffsetHi: number): number {
    const file = this.byPointer.get(pFile);
    if (file === undefined) return SQLite.SQLITE_IOERR_WRITE;
    try {
      const data = this.mod.HEAPU8.subarray(pData, pData + iAmt);
      return file.write(iOffsetHi * TWO_32 + (iOffsetLo >>> 0), data) ? SQLite.SQLITE_OK : SQLite.SQLITE_IOERR_WRITE;
    } catch (err) {
      file.noteError(err);
      return SQLite.SQLITE_IOERR_WRITE;
    }
  }

  xTruncate(pFile: number, sizeLo: number, sizeHi: number): number {
    const file = this.byPointer.get(pFile);
    if (file === undefined) return SQLite.SQLITE_IOERR_TRUNCATE;
    file.truncate(sizeHi * TWO_32 + (sizeLo >>> 0));
    return SQLite.SQLITE_OK;
  }

  xSync(): number {
    return SQLite.SQLITE_OK;
  }

  xFileSize(pFile: number, pSize: number): number {
    return this.inner.xFileSize(pFile, pSize);
  }

  xLock(): number {
    return SQLite.SQLITE_OK;
  }

  xUnlock(): number {
    return SQLite.SQLITE_OK;
  }

  xCheckReservedLock(pFile: number, pResOut: number): number {
    return this.inner.xCheckReservedLock(pFile, pResOut);
  }

  xFileControl(): number {
    return SQLite.SQLITE_NOTFOUND;
  }

  xSectorSize(): number {
    return 512;
  }

  /** Not immutable: SQLite must see its own writes and may not skip locking or journalling. */
  xDeviceCharacteristics(): number {
    return 0;
  }
}
