// One push in the making: the pages of one LTX file (held in memory or read from the main file when sent) and its header.

import {
  ChecksumUpdate,
  crcLinear,
  type DatabaseState,
  encodeLTXStream,
  type Header,
  lockPgno,
  makeHeader,
  pageChecksum,
  type PageInput,
} from '../ltx/index.ts';
import { ViewChangedError } from './agent-error.ts';
import type { Pos } from './agent-state.ts';
import { type LocalScan, LocalPages, type MainFile, type WALSalts, openIfExists } from './local-pages.ts';
import type { NewFrames } from './wal-view.ts';

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

/** The pages a diff must send whatever their checksums: a `/changes` answer's, or every page. */
export interface DiffBase {
  sums: { get(pgno: number): bigint | undefined };
  commit: number;
  changed: Set<number> | 'all';
}

/** The header of the next push after `pos` (TXID 1 for a snapshot). */
function nextHeader(pos: Pos, pageSize: number, commit: number, snapshot: boolean, now: number): Header {
  const txid = snapshot ? 1n : pos.txid + 1n;
  return makeHeader({ pageSize, commit, minTXID: txid, maxTXID: txid, preApplyChecksum: snapshot ? 0n : pos.checksum, timestamp: now });
}

/** The WAL frames read since the last push, on top of `state` (the encoded state, at `pos`), which it advances. */
export function walBatch(state: DatabaseState, pos: Pos, frames: NewFrames, now: number): Batch {
  const header = nextHeader(pos, frames.pageSize, frames.commit, false, now);
  const update = new ChecksumUpdate(state, header);
  for (const [pgno, data] of frames.pages) update.page(pgno, crcLinear(data));
  const post = update.finish();
  state.commit = frames.commit;
  state.txid = header.maxTXID;
  state.checksum = post;
  return { header, post, pages: frames.pages, commits: frames.commits, reason: 'wal' };
}

/**
 * The pages of `scan` that differ from `base` (every page when there is none, as for a snapshot): WAL
 * pages read at push time with their frames checked, main-file pages read when sent and checked
 * against the scan's checksums. `before` is the encoded state to take back if the batch is dropped unsent.
 */
export function diffBatch(
  scan: LocalScan,
  pos: Pos,
  reason: 'snapshot' | 'diff',
  base: DiffBase | undefined,
  before: DatabaseState,
  now: number,
): Batch {
  const lock = lockPgno(scan.pageSize);
  const snapshot = reason === 'snapshot';
  const pgnos: number[] = [];
  for (let pgno = 1; pgno <= scan.commit; pgno++) {
    if (pgno === lock) continue;
    const same =
      !snapshot &&
      base !== undefined &&
      base.changed !== 'all' &&
      pgno <= base.commit &&
      !base.changed.has(pgno) &&
      base.sums.get(pgno) === scan.sums.get(pgno);
    if (!same) pgnos.push(pgno);
  }
  const header = nextHeader(pos, scan.pageSize, scan.commit, snapshot, now);
  const pages: Batch['pages'] = pgnos.map((p) => [p, undefined]);
  return {
    header,
    post: scan.checksum,
    pages,
    commits: 0,
    reason,
    walPages: scan.walPages,
    walSalts: scan.walHeader,
    expect: scan.sums,
    base: before,
  };
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
