// Hydration's download: a database at one TXID fetched in page batches into a local file, round by round, each round synced before it counts — so a download resumes where it stopped.

import { MAX_BATCH_PAGES } from '../api/wire.ts';
import { formatTXID, lockPgno } from '../ltx/index.ts';
import type { ApiClient } from '../remote/http-client.ts';
import { ClientError } from './errors.ts';
import type { LocalDatabaseFile } from './local-database-file.ts';
import { type BatchListener, chunkPgnos, fetchPagesAt } from './page-store.ts';

/** Bytes asked for per batch request while downloading, unless `batchPages` says otherwise: 4 MiB (1,024 pages of 4 KiB). */
export const DEFAULT_HYDRATE_BATCH_BYTES = 4 * 1024 * 1024;
/** Batch requests per round (fetched in parallel; the round is synced and recorded once all are written). */
const BATCHES_PER_ROUND = 4;

export interface DownloadOptions {
  api: ApiClient;
  db: string;
  txid: bigint;
  /** The database's size in pages at `txid`. */
  commit: number;
  file: LocalDatabaseFile;
  /** Pages 1..`from − 1` are already in the file. */
  from: number;
  /** Pages per batch request (≤ MAX_BATCH_PAGES). */
  batchPages: number;
  signal: AbortSignal;
  onBatch: BatchListener;
  /** After each round is written and synced: pages 1..`pages` are durable. The next round waits for it. */
  onRound: (pages: number) => Promise<void>;
}

/** Pages per batch request: `batchPages` when given (a positive integer), else DEFAULT_HYDRATE_BATCH_BYTES worth; at most MAX_BATCH_PAGES. */
export function batchPagesFor(pageSize: number, batchPages?: number): number {
  return Math.max(1, Math.min(batchPages ?? Math.floor(DEFAULT_HYDRATE_BATCH_BYTES / pageSize), MAX_BATCH_PAGES));
}

/**
 * The batches of pages `from`..`commit` (the lock page left out: no database stores it), each
 * `batchPages` long at most, in order.
 */
export function* downloadBatches(from: number, commit: number, pageSize: number, batchPages: number): Generator<number[]> {
  const lock = lockPgno(pageSize);
  let batch: number[] = [];
  for (let pgno = from; pgno <= commit; pgno++) {
    if (pgno === lock) continue;
    batch.push(pgno);
    if (batch.length === batchPages) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Rounds of batch requests for scattered pages (say, those changed since a TXID): batches as
 * chunkPgnos makes them (a bounded URL), none longer than `batchPages`, BATCHES_PER_ROUND a round.
 */
export function* changedRounds(pgnos: readonly number[], batchPages: number): Generator<number[][]> {
  let round: number[][] = [];
  for (const chunk of chunkPgnos(pgnos)) {
    for (let i = 0; i < chunk.length; i += batchPages) {
      round.push(chunk.slice(i, i + batchPages));
      if (round.length === BATCHES_PER_ROUND) {
        yield round;
        round = [];
      }
    }
  }
  if (round.length > 0) yield round;
}

/**
 * Downloads pages `from`..`commit` at exactly `txid` into `file`, BATCHES_PER_ROUND batches a round.
 * BAD_RESPONSE when the server leaves out a page below the commit; the ApiClient's errors otherwise
 * (410 TXID_NOT_AVAILABLE when the TXID is no longer held). Stops between rounds once `signal` aborts.
 */
export async function downloadPages(o: DownloadOptions): Promise<void> {
  const batches = downloadBatches(o.from, o.commit, o.file.pageSize, o.batchPages);
  for (;;) {
    o.signal.throwIfAborted();
    const round: number[][] = [];
    while (round.length < BATCHES_PER_ROUND) {
      const r = batches.next();
      if (r.done) break;
      round.push(r.value);
    }
    if (round.length === 0) return;
    const pages = await fetchPagesAt(o.api, o.db, o.txid, o.file.pageSize, round, { signal: o.signal, onBatch: o.onBatch });
    for (const batch of round) {
      for (const pgno of batch) {
        if (!pages.has(pgno))
          throw new ClientError('BAD_RESPONSE', `page ${pgno} is missing at TXID ${formatTXID(o.txid)} (commit ${o.commit})`);
      }
    }
    o.file.writePages(pages);
    await o.file.sync();
    const last = round[round.length - 1];
    await o.onRound(last[last.length - 1]);
  }
}
