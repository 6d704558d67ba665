// One push in the making: the pages of one LTX file (held in memory or read from the main file when sent) and its header.

import { type FileHandle, open } from 'node:fs/promises';
import { type Header, type PageInput, encodeLTXStream } from '../ltx/index.ts';
import { readFully } from './local-pages.ts';

/** A page to send: its bytes, or `undefined` for "read it from the main database file when sending". */
export type PageRef = Uint8Array | undefined;

/** An LTX file to push; `pages` ascend. */
export interface Batch {
  header: Header;
  /** Post-apply checksum (ignored for a snapshot, whose encoder computes it). */
  post: bigint;
  pages: [pgno: number, ref: PageRef][];
  /** SQLite transactions it carries (0 for a whole-database diff or snapshot). */
  commits: number;
  reason: 'wal' | 'snapshot' | 'diff';
  /** A diff's pages still in the WAL (pgno → data offset): read into `pages` before sending, as the WAL may restart. */
  walPages?: Map<number, number>;
}

/** The bytes of a batch's pages, main-file pages read now. */
export async function* batchPages(file: string, batch: Batch): AsyncGenerator<PageInput> {
  let fh: FileHandle | undefined;
  const buf = new Uint8Array(batch.header.pageSize);
  try {
    for (const [pgno, ref] of batch.pages) {
      if (ref) {
        yield { pgno, data: ref };
        continue;
      }
      fh ??= await open(file, 'r');
      await readFully(fh, buf, (pgno - 1) * batch.header.pageSize, true);
      yield { pgno, data: buf };
    }
  } finally {
    await fh?.close();
  }
}

/** The LTX file of a batch, encoded as it is read. */
export function encodeBatch(file: string, batch: Batch): AsyncGenerator<Uint8Array> {
  const snapshot = batch.header.minTXID === 1n;
  return encodeLTXStream(batch.header, batchPages(file, batch), snapshot ? undefined : batch.post);
}

/** Bytes of page data a batch holds in memory. */
export function batchMemory(batch: Batch): number {
  let n = 0;
  for (const [, ref] of batch.pages) if (ref) n += ref.length;
  return n;
}
