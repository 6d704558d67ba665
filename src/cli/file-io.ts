// Files for the codec: a streamed LTX byte source and a PageSink that writes a database file by descriptor.

import { createReadStream, ftruncateSync, writeSync } from 'node:fs';
import type { PageSink } from '../ltx/index.ts';

/** Read size for LTX files: large enough to keep syscalls rare, small enough to never matter for memory. */
export const READ_CHUNK_BYTES = 1 << 16;

/**
 * Streams `file` to `fn` as byte chunks and closes it afterwards, even when `fn` stops early.
 * Open/read errors (ENOENT, EISDIR…) reject the iteration inside `fn`.
 */
export async function withFileChunks<T>(file: string, fn: (chunks: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  // The iterator reports errors; this listener only keeps an error before the first read from being "unhandled".
  stream.on('error', () => {});
  try {
    return await fn(stream as AsyncIterable<Uint8Array>);
  } finally {
    stream.destroy();
  }
}

/** Writes pages at (pgno-1)*pageSize of an open file; `setCommit` truncates or zero-extends it. */
export class FilePageSink implements PageSink {
  private readonly fd: number;
  /** writePage writes the bytes out before it returns. */
  readonly releasesPages = true;

  constructor(fd: number) {
    this.fd = fd;
  }

  writePage(pgno: number, data: Uint8Array): void {
    const position = (pgno - 1) * data.length;
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
  }

  setCommit(pages: number, pageSize: number): void {
    ftruncateSync(this.fd, pages * pageSize);
  }
}
