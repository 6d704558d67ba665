// The whole database at a plan as a pull-driven stream (SQLite file or one snapshot LTX), with bounded memory.

import {
  compactedHeader,
  concatBytes,
  type DecoderLimits,
  type Header,
  HEADER_FLAG_NO_CHECKSUM,
  lockPgno,
  LTXEncoder,
  mergePages,
  PageReader,
  tracksChecksums,
} from '../ltx/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { PageIndexCache } from './page-index-cache.ts';
import type { ScannedPage } from './file-scan.ts';
import { PageSource } from './page-source.ts';
import { type ReadPlan, PlanError, PlanStaleError, planCeilings, planFileKey, validatePlan } from './plan.ts';

/**
 * Files streamed whole at once. Each holds a connection for the whole snapshot and a Worker
 * invocation has 6; the runtime cancels a connection when all 6 are open and another is waiting.
 */
export const DEFAULT_MAX_OPEN_STREAMS = 4;
/** Bytes shared by the run buffers of the files read through their index instead (see scanFile). */
export const DEFAULT_SCAN_BUFFER_BYTES = 16 * 1024 * 1024;
/** Smallest and largest ranged run per scanned file (bytes). */
export const MIN_SCAN_RUN_BYTES = 64 * 1024;
export const MAX_SCAN_RUN_BYTES = 4 * 1024 * 1024;
/** Bytes handed to the consumer per pull (at least one page). */
export const DEFAULT_OUTPUT_CHUNK_BYTES = 64 * 1024;

export interface SnapshotOptions {
  /** How many files (the largest) are read as one streamed get each. Default 4; 0 scans them all. */
  maxOpenStreams?: number;
  /** Run buffer budget for the other files, split between them (64 KiB..4 MiB each). Default 16 MiB. */
  scanBufferBytes?: number;
  /** Output chunk size in bytes (rounded down to whole pages, at least one). Default 64 KiB. */
  outputChunkBytes?: number;
  /** Reads scanned files' indexes through this source (shares its cache; gets are counted in its stats). */
  source?: PageSource;
  /** Decoder limits for the streamed files. */
  limits?: Partial<DecoderLimits>;
  /** Start the merge at this page (every file scanned through its index, none streamed). Default 1. */
  from?: number;
}

/** A SQLite database file being streamed: `length` = commit × page size, known before the first byte. */
export interface SqliteSnapshot {
  body: ReadableStream<Uint8Array>;
  length: number;
}

interface PageInput {
  open(): Promise<Header>;
  next(): Promise<ScannedPage | undefined>;
  seek?(pgno: number): void;
}

/** The plan's files opened for a merge: headers checked against the plan, ceilings from their Commits. */
interface OpenedPlan {
  headers: Header[];
  merge: AsyncGenerator<ScannedPage>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Opens every file of the plan: the `maxOpenStreams` largest as streamed gets through PageReader
 * (every byte verified, file checksum included), the others through their page index in ranged runs.
 */
async function openPlan(store: ObjectStore, plan: ReadPlan, prefix: string, opts: SnapshotOptions): Promise<OpenedPlan> {
  const source = opts.source ?? new PageSource(store, new PageIndexCache(), { prefix });
  const files = plan.files;
  const from = opts.from ?? 1;
  const maxStreams = from > 1 ? 0 : (opts.maxOpenStreams ?? DEFAULT_MAX_OPEN_STREAMS);
  const streamed = new Set(
    files
      .map((f, i) => [f.size, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, Math.max(0, maxStreams))
      .map(([, i]) => i),
  );
  const scanned = files.length - streamed.size;
  const budget = opts.scanBufferBytes ?? DEFAULT_SCAN_BUFFER_BYTES;
  const runBytes = Math.min(MAX_SCAN_RUN_BYTES, Math.max(MIN_SCAN_RUN_BYTES, Math.floor(budget / Math.max(1, scanned))));
  const bodies: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const cancel = async (reason?: unknown): Promise<void> => {
    await Promise.all(bodies.map((r) => r.cancel(reason).catch(() => undefined)));
  };

  const inputs: PageInput[] = files.map((file, i) => {
    if (!streamed.has(i)) return source.scanFile(plan.db, file, runBytes);
    const key = planFileKey(prefix, plan.db, file);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      source.stats.r2Gets++;
      const obj = await store.get(key);
      if (obj === null) throw new PlanStaleError(key);
      if (obj.size !== file.size) throw new PlanError('PLAN_INVALID', `${key} has ${obj.size} bytes, the plan says ${file.size}`);
      const reader = obj.body.getReader();
      bodies.push(reader);
      // Read-ahead: the next chunk is on its way while the merge decodes this one.
      let ahead = reader.read();
      for (;;) {
        const r = await ahead;
        if (r.done) return;
        ahead = reader.read();
        ahead.catch(() => undefined); // a cancelled body's read; the merge has stopped
        source.stats.bytesRead += r.value.length;
        yield r.value;
      }
    }
    // Recycled pages: each consumer of the merge is done with a page before it asks for the next.
    return new PageReader(chunks(), opts.limits, { recycle: true });
  });

  try {
    // Scanned files first (their gets close at once), then the streams: at most maxOpenStreams + 1
    // connections during the merge. Every open settles before a failure is reported, so no body
    // opened late escapes the cancel.
    const headers = new Array<Header>(files.length);
    for (const phase of [false, true]) {
      const ids = files.map((_, i) => i).filter((i) => streamed.has(i) === phase);
      const opened = await Promise.allSettled(ids.map((i) => inputs[i].open()));
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      ids.forEach((i, k) => {
        headers[i] = (opened[k] as PromiseFulfilledResult<Header>).value;
      });
    }
    headers.forEach((h, i) => {
      const f = files[i];
      if (
        h.minTXID !== f.minTXID ||
        h.maxTXID !== f.maxTXID ||
        h.pageSize !== plan.pageSize ||
        (f.commit !== undefined && h.commit !== f.commit)
      ) {
        throw new PlanError('PLAN_INVALID', `${planFileKey(prefix, plan.db, f)}: header disagrees with the plan`);
      }
    });
    if (headers[headers.length - 1].commit !== plan.commit)
      throw new PlanError('PLAN_INVALID', `the last file's commit is not the plan's ${plan.commit}`);
    if (from > 1) for (const input of inputs) input.seek?.(from);
    // The headers know every Commit, so a page truncated by a shrink never comes back.
    const ceilings = planCeilings({ ...plan, files: files.map((f, i) => ({ ...f, commit: headers[i].commit })) });
    return { headers, merge: mergePages(inputs, plan.commit, ceilings), cancel };
  } catch (err) {
    await cancel(err);
    throw err;
  }
}

/**
 * A pull-driven stream: `produce` is called only when the consumer asks (highWaterMark 0, no read
 * ahead) and returns the next chunk, or undefined at the end. Errors cancel the inputs.
 */
function pullStream(
  start: () => Promise<OpenedPlan>,
  produce: (opened: OpenedPlan) => Promise<Uint8Array | undefined>,
): ReadableStream<Uint8Array> {
  let opened: OpenedPlan | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          opened ??= await start();
          const chunk = await produce(opened);
          if (chunk === undefined) controller.close();
          else controller.enqueue(chunk);
        } catch (err) {
          await opened?.cancel(err);
          await opened?.merge.return(undefined).catch(() => undefined);
          throw err;
        }
      },
      async cancel(reason) {
        await opened?.cancel(reason);
        await opened?.merge.return(undefined).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads the merge to its end, so every streamed input is fully verified. */
async function drain(merge: AsyncGenerator<ScannedPage>): Promise<void> {
  for (let r = await merge.next(); !r.done; r = await merge.next());
}

/**
 * The database file at the plan's TXID: pages 1..commit in order, the newest copy of each, zeros
 * for pages never written (or truncated by a shrink and regrown) and for the lock page. A k-way merge
 * over the plan's files; memory is one page per input, the stream and run buffers, never the
 * database. The last chunk is held back until every input has been read to its end, so a bad file
 * errors the stream instead of completing it. Costs: one get per streamed file; per scanned file its
 * index (cached, or 1 get) and one get per run.
 */
export function snapshotSqlite(store: ObjectStore, plan: ReadPlan, prefix: string, opts: SnapshotOptions = {}): SqliteSnapshot {
  validatePlan(plan);
  const { pageSize, commit } = plan;
  const length = commit * pageSize;
  const perChunk = Math.max(1, Math.floor((opts.outputChunkBytes ?? DEFAULT_OUTPUT_CHUNK_BYTES) / pageSize));
  let nextPgno = 1;
  let pending: ScannedPage | undefined;
  let done = false;
  let emitted = 0;
  const body = pullStream(
    () => openPlan(store, plan, prefix, opts),
    async ({ merge }) => {
      if (done) return undefined;
      const n = Math.min(perChunk, commit - nextPgno + 1);
      const chunk = new Uint8Array(n * pageSize);
      for (let k = 0; k < n; k++, nextPgno++) {
        if (pending === undefined) {
          const r = await merge.next();
          pending = r.done ? { pgno: Infinity, data: chunk } : r.value;
        }
        if (pending.pgno < nextPgno) throw new PlanError('PLAN_INVALID', `merge out of order at page ${pending.pgno}`);
        if (pending.pgno === nextPgno) {
          chunk.set(pending.data, k * pageSize);
          pending = undefined;
        }
      }
      emitted += chunk.length;
      if (nextPgno > commit) {
        await drain(merge);
        if (emitted !== length) throw new PlanError('PLAN_INVALID', `snapshot came out ${emitted} bytes, expected ${length}`);
        done = true;
        if (chunk.length === 0) return undefined;
      }
      return chunk;
    },
  );
  return { body, length };
}

/**
 * The database at the plan's TXID as one snapshot LTX file (MinTXID 1, MaxTXID and Commit of the
 * plan): the merge of snapshotSqlite encoded page by page, never-written pages as zero pages so the
 * snapshot is complete (compactLTX would refuse such a plan), the lock page left out. Flags:
 * NoChecksum unless every input tracks checksums; a tracking snapshot computes its post-apply
 * checksum from the pages and, when the plan carries one, must agree with it. Same costs as snapshotSqlite.
 */
export function snapshotLtx(store: ObjectStore, plan: ReadPlan, prefix: string, opts: SnapshotOptions = {}): ReadableStream<Uint8Array> {
  validatePlan(plan);
  const { pageSize, commit } = plan;
  const lock = lockPgno(pageSize);
  const chunkBytes = Math.max(pageSize, opts.outputChunkBytes ?? DEFAULT_OUTPUT_CHUNK_BYTES);
  let enc: LTXEncoder | undefined;
  let tracked = false;
  let nextPgno = 1;
  let pending: ScannedPage | undefined;
  let done = false;
  const zero = new Uint8Array(pageSize);
  return pullStream(
    () => openPlan(store, plan, prefix, opts),
    async ({ headers, merge }) => {
      if (done) return undefined;
      if (enc === undefined) {
        tracked = headers.every(tracksChecksums);
        enc = new LTXEncoder(compactedHeader(headers, tracked ? 0 : HEADER_FLAG_NO_CHECKSUM));
        return enc.start();
      }
      const parts: Uint8Array[] = [];
      let size = 0;
      for (; nextPgno <= commit && size < chunkBytes; nextPgno++) {
        if (nextPgno === lock) continue;
        if (pending === undefined) {
          const r = await merge.next();
          pending = r.done ? { pgno: Infinity, data: zero } : r.value;
        }
        if (pending.pgno < nextPgno) throw new PlanError('PLAN_INVALID', `merge out of order at page ${pending.pgno}`);
        let data: Uint8Array = zero;
        if (pending.pgno === nextPgno) {
          data = pending.data;
          pending = undefined;
        }
        const frame = enc.encodePage(nextPgno, data);
        parts.push(frame);
        size += frame.length;
      }
      if (nextPgno > commit) {
        await drain(merge);
        parts.push(enc.finish(tracked && plan.checksum !== 0n ? plan.checksum : undefined));
        done = true;
      }
      return concatBytes(parts);
    },
  );
}

/**
 * The database's pages at the plan from page `from` on, in order: the newest copy of each, zeros where
 * no file holds it (never written, or truncated by a shrink), the lock page left out — the pages a
 * snapshot LTX file holds. From a page past 1 every file is read through its page index, seeked
 * there, so a chunked snapshot's later step reads nothing of what came before. Memory: the run
 * buffers (scanBufferBytes) and one page per file. Stopping early (return) releases the inputs.
 */
export async function* planPages(
  store: ObjectStore,
  plan: ReadPlan,
  prefix: string,
  from: number,
  opts: SnapshotOptions = {},
): AsyncGenerator<ScannedPage> {
  validatePlan(plan);
  const { pageSize, commit } = plan;
  const lock = lockPgno(pageSize);
  const zero = new Uint8Array(pageSize);
  const { merge, cancel } = await openPlan(store, plan, prefix, { ...opts, from });
  try {
    let pending: ScannedPage | undefined;
    for (let pgno = from; pgno <= commit; pgno++) {
      if (pgno === lock) continue;
      if (pending === undefined) {
        const r = await merge.next();
        pending = r.done ? { pgno: Infinity, data: zero } : r.value;
      }
      if (pending.pgno < pgno) throw new PlanError('PLAN_INVALID', `merge out of order at page ${pending.pgno}`);
      if (pending.pgno === pgno) {
        yield pending;
        pending = undefined;
      } else {
        yield { pgno, data: zero };
      }
    }
  } finally {
    await cancel();
    await merge.return(undefined).catch(() => undefined);
  }
}
