// A hydrated database's local file: a plain SQLite file read and written page by page, checksummed as LTX does (ltx-format.md §6), and its sidecar written atomically.

import { closeSync, fstatSync, fsync, ftruncateSync, openSync, read, readSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno, pageChecksum } from '../ltx/index.ts';
import { syncDirectory } from '../remote/atomic-file.ts';
import type { LocalPages } from './page-store.ts';

const fsyncAsync = promisify(fsync);
const readAsync = promisify(read);
/** Bytes read per step while checksumming a whole file (other work runs between steps). */
const CHECKSUM_READ_BYTES = 1 << 20;

/**
 * One database file opened for reading and writing. Page reads and writes are synchronous, so that a
 * set of changed pages lands between two turns of the event loop and no read sees half of it; the
 * slow parts (fsync, a whole-file checksum) are asynchronous.
 */
export class LocalDatabaseFile implements LocalPages {
  readonly path: string;
  readonly pageSize: number;
  private fd: number | undefined;

  private constructor(file: string, pageSize: number, fd: number) {
    this.path = file;
    this.pageSize = pageSize;
    this.fd = fd;
  }

  /** Opens `file`: 'r+' an existing one, 'w+' a new empty one (replacing any). Node's errors otherwise. */
  static open(file: string, pageSize: number, mode: 'r+' | 'w+'): LocalDatabaseFile {
    return new LocalDatabaseFile(file, pageSize, openSync(file, mode, 0o644));
  }

  /** Size in bytes. */
  get size(): number {
    return fstatSync(this.handle()).size;
  }

  /** Page `pgno`; bytes past the end of the file read as zeros. */
  readPage(pgno: number): Uint8Array {
    const page = new Uint8Array(this.pageSize);
    const at = (pgno - 1) * this.pageSize;
    let done = 0;
    while (done < page.length) {
      const n = readSync(this.handle(), page, done, page.length - done, at + done);
      if (n === 0) break;
      done += n;
    }
    return page;
  }

  /** Writes each page at its place (the file grows as needed). */
  writePages(pages: ReadonlyMap<number, Uint8Array>): void {
    for (const [pgno, data] of pages) {
      const at = (pgno - 1) * this.pageSize;
      let done = 0;
      while (done < data.length) done += writeSync(this.handle(), data, done, data.length - done, at + done);
    }
  }

  /** Cuts or extends the file to `commit` pages. */
  resize(commit: number): void {
    ftruncateSync(this.handle(), commit * this.pageSize);
  }

  /** Makes the writes so far durable. */
  async sync(): Promise<void> {
    await fsyncAsync(this.handle());
  }

  /** The rolling checksum of pages 1..`commit` as they are in the file, read a MiB at a time. */
  async checksum(commit: number): Promise<bigint> {
    const lock = lockPgno(this.pageSize);
    const perStep = Math.max(1, Math.floor(CHECKSUM_READ_BYTES / this.pageSize));
    const buf = new Uint8Array(perStep * this.pageSize);
    let c = EMPTY_DB_CHECKSUM;
    for (let first = 1; first <= commit; first += perStep) {
      const count = Math.min(perStep, commit - first + 1);
      buf.fill(0);
      let done = 0;
      while (done < count * this.pageSize) {
        const { bytesRead } = await readAsync(this.handle(), buf, done, count * this.pageSize - done, (first - 1) * this.pageSize + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      for (let i = 0; i < count; i++) {
        const pgno = first + i;
        if (pgno !== lock) c ^= pageChecksum(pgno, buf.subarray(i * this.pageSize, (i + 1) * this.pageSize));
      }
    }
    return CHECKSUM_FLAG | c;
  }

  /** Closes the file; later calls do nothing. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }

  private handle(): number {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    return this.fd;
  }
}

/** Replaces `file` with `text` atomically: a synced temporary file beside it, renamed over it, the directory synced. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  syncDirectory(path.dirname(file));
}
