// One push in the making: the pages of one LTX file (held in memory or read from the main file when sent) and its header.

import { type DatabaseState, type Header, type PageInput, encodeLTXStream, pageChecksum } from '../ltx/index.ts';
import { ViewChangedError } from './agent-error.ts';
import { LocalPages, type MainFile, type WALSalts, openIfExists } from './local-pages.ts';

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
  /** A diff's pages still in the WAL (pgno → data offset) and their generation: read into `pages` before sending, as the WAL may restart. */
  walPages?: Map<number, number>;
  walSalts?: WALSalts;
  /** The checksum every page read when sending must have (the scan's): a page that differs aborts the push (ViewChangedError). */
  expect?: { get(pgno: number): bigint | undefined };
  /** The encoded state before a diff or snapshot: taken back when the batch is dropped unsent. */
  base?: DatabaseState;
}

/** Reads a diff's WAL pages into the batch, each frame checked to be of the generation the scan read (else ViewChangedError). */
export async function materializeWALPages(main: MainFile, batch: Batch): Promise<void> {
  const walPages = batch.walPages;
  if (!walPages || walPages.size === 0) return;
  const wal = await openIfExists(`${main.file}-wal`);
  if (!wal) throw new ViewChangedError('the WAL is gone before its pages were sent');
  try {
    const reader = new LocalPages(batch.header.pageSize, main, wal, walPages, batch.walSalts);
    for (const entry of batch.pages) if (!entry[1] && walPages.has(entry[0])) entry[1] = await reader.read(entry[0]);
  } finally {
    await wal.close();
  }
  batch.walPages = undefined;
}

/** The bytes of a batch's pages, main-file pages read now and checked against `batch.expect`. */
export async function* batchPages(main: MainFile, batch: Batch): AsyncGenerator<PageInput> {
  const buf = new Uint8Array(batch.header.pageSize);
  for (const [pgno, ref] of batch.pages) {
    if (ref) {
      yield { pgno, data: ref };
      continue;
    }
    await main.readMain(buf, (pgno - 1) * batch.header.pageSize);
    const want = batch.expect?.get(pgno);
    if (want !== undefined && pageChecksum(pgno, buf) !== want) {
      throw new ViewChangedError(`page ${pgno} of ${main.file} changed after the scan read it`);
    }
    yield { pgno, data: buf };
  }
}

/** The LTX file of a batch, encoded as it is read. */
export function encodeBatch(main: MainFile, batch: Batch): AsyncGenerator<Uint8Array> {
  const snapshot = batch.header.minTXID === 1n;
  return encodeLTXStream(batch.header, batchPages(main, batch), snapshot ? undefined : batch.post);
}
