// The DO's write path: stream a pushed LTX file through the strict decoder into R2, then commit it to the catalog.

import {
  applyLTX,
  DatabaseState,
  decodeHeader,
  type DecoderLimits,
  type Header,
  HEADER_SIZE,
  PageReader,
  LTXError,
  formatTimestamp,
  formatTXID,
} from '../ltx/index.ts';
import { decideIngest } from '../replication/ingest-rules.ts';
import { TIMESTAMP_METADATA, ltxKey } from '../storage/keys.ts';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { StorageError } from '../storage/object-store.ts';
import { doRetry, withRetry } from '../storage/retry.ts';
import {
  BodyReadError,
  type ChunkReader,
  DRAIN_LIMIT_BYTES,
  type UploadDeadlines,
  UploadTimeoutError,
  bytesReader,
  chunkReader,
  drainBody,
  withDeadlines,
} from './body-reader.ts';
import { DEFAULT_MAX_DATABASE_BYTES } from '../config.ts';
import { refuseDatabaseSize } from '../replication/size-limit.ts';
import type { Catalog, Position } from './catalog.ts';
import { LtxUpload, UploadConflictError } from './ltx-upload.ts';
import type { SqlExec } from './migrate.ts';
import { StagedPageChecksums } from './page-checksums.ts';
import { type PosJSON, type RpcResult, err, ltxErr, ok, posJSON } from './rpc-result.ts';

/** Everything ingest needs from the DO: storage handles, identity, clock. */
export interface IngestContext {
  store: ObjectStore;
  catalog: Catalog;
  sql: SqlExec;
  transaction: <T>(fn: () => T) => T;
  prefix: string;
  name: string;
  now: () => number;
  limits?: Partial<DecoderLimits>;
  partSize?: number;
  retryDelayMs?: number;
  /** How much of a refused body to read and drop before answering (default DRAIN_LIMIT_BYTES). */
  drainLimit?: number;
  /** Largest database a write may make (LTX_EDGE_MAX_DATABASE_BYTES; default DEFAULT_MAX_DATABASE_BYTES). */
  maxDatabaseBytes?: number;
  /** Maintenance only: a merge still running at this time (ms) is aborted (the pass's time budget). */
  deadline?: number;
  /** Snapshots of databases at least this large are written in steps (snapshot-job.ts; tests lower it). */
  chunkedSnapshotBytes?: number;
  /** Told after each file's commit transaction, in TXID order (the DO's watchers). */
  onCommit?: (committed: Committed) => void;
}

/** Runs an R2 call of this context with the DO's retries (backoff base ctx.retryDelayMs). */
export function retryOf(ctx: Pick<IngestContext, 'retryDelayMs'>): <T>(fn: () => Promise<T>) => Promise<T> {
  return (fn) => withRetry(fn, doRetry(ctx.retryDelayMs));
}

/** A file that just moved the head: what the DO tells its watchers. */
export interface Committed {
  /** The head before it (0n for the first file). */
  since: bigint;
  txid: bigint;
  checksum: bigint;
  pageSize: number;
  commit: number;
  /** The file's header timestamp (ms since the epoch). */
  timestamp: number;
  /** The pages it wrote, ascending; undefined when too many to list, or when the database shrank. */
  pages: number[] | undefined;
  /** The file's size in bytes. */
  size: number;
}

const NO_PAGES = { writePage: () => undefined, setCommit: () => undefined, releasesPages: true };

/** How a file enters the catalog: pushed (default), or adopted from an object already in R2. */
export interface IngestOptions {
  /** The object is already at its key (recovery, adoption): verify and catalog it, upload nothing. */
  stored?: ObjectInfo;
  /** Catalog level of the file (default 0). */
  level?: number;
  /** Accept files that start before the head (adopting Litestream's compacted levels). */
  allowOverlap?: boolean;
  /** A client's body: read under these deadlines (408 when missed). Our own streams have none. */
  deadlines?: UploadDeadlines;
}

/** The head as a position for error details. */
export function headJSON(pos: Position | undefined): PosJSON {
  return pos ? posJSON(pos.txid, pos.checksum) : posJSON(0n, 0n);
}

/**
 * Ingests one LTX file from `body` (a stream, or bytes a Worker already read whole). Nothing changes unless the whole file verifies and is in R2:
 * then its page checksums, the position and its catalog row commit in one transaction.
 * Returns 201 for a new file, 200 for a re-push of a committed one, or a typed error.
 */
export async function ingestLTX(
  ctx: IngestContext,
  body: ReadableStream<Uint8Array> | Uint8Array,
  opts: IngestOptions = {},
): Promise<RpcResult<PosJSON>> {
  const reader =
    body instanceof Uint8Array ? bytesReader(body) : opts.deadlines ? withDeadlines(chunkReader(body), opts.deadlines) : chunkReader(body);
  try {
    const first = await readAtLeast(reader, HEADER_SIZE);
    let header: Header;
    try {
      header = decodeHeader(first.bytes);
    } catch (e) {
      if (e instanceof LTXError) return ltxErr(e);
      throw e;
    }
    const pos = ctx.catalog.position();
    const level = opts.level ?? 0;
    const decision = decideIngest(pos, header, (min, max) => ctx.catalog.file(level, min, max), opts);
    switch (decision.kind) {
      case 'mismatch':
        return err('POSITION_MISMATCH', decision.reason, { pos: headJSON(pos) });
      case 'page-size':
        return err('PAGE_SIZE_MISMATCH', `page size ${header.pageSize}, database has ${decision.expected}`, {
          pageSize: decision.expected,
        });
      case 'repush': {
        const summary = await verifyStream(first.chunks, reader, ctx.limits);
        if (summary.size === decision.file.size && summary.fileChecksum === decision.file.fileChecksum) return ok(headJSON(pos), 200);
        return err('POSITION_MISMATCH', 'a different file is committed for these TXIDs', { pos: headJSON(pos) });
      }
      case 'append': {
        const tooLarge = refuseDatabaseSize(header.commit, header.pageSize, ctx.maxDatabaseBytes ?? DEFAULT_MAX_DATABASE_BYTES);
        if (tooLarge) return err('DATABASE_TOO_LARGE', tooLarge.message, tooLarge.details);
        return await append(ctx, pos, header, first.chunks, reader, opts);
      }
      default:
        return decision satisfies never;
    }
  } catch (e) {
    if (e instanceof LTXError) return ltxErr(e);
    if (e instanceof UploadTimeoutError) return err('REQUEST_TIMEOUT', e.message);
    if (e instanceof BodyReadError) return err('BAD_REQUEST', e.message);
    if (e instanceof StorageError && e.retryable) return err('STORAGE_UNAVAILABLE', e.message);
    throw e;
  } finally {
    // A client still sending gets its answer only once its body is read; our own streams (a /tx's
    // encoded file, a restore's snapshot) are simply stopped.
    if (opts.deadlines) await drainBody(reader, ctx.drainLimit ?? DRAIN_LIMIT_BYTES);
    else await reader.cancel().catch(() => undefined);
  }
}

async function append(
  ctx: IngestContext,
  pos: Position | undefined,
  header: Header,
  head: Uint8Array[],
  reader: ChunkReader,
  opts: IngestOptions,
): Promise<RpcResult<PosJSON>> {
  const level = opts.level ?? 0;
  const key = ltxKey(ctx.prefix, ctx.name, level, header.minTXID, header.maxTXID);
  // The header allows any int64 ms; litestream-timestamp (DESIGN §2) needs an RFC3339 year 0000..9999.
  // Checked here so the client hears LTX_BAD_HEADER (its file broke a rule), not formatTimestamp's LTX_INVALID_ARGUMENT.
  let timestamp: string;
  try {
    timestamp = formatTimestamp(header.timestamp);
  } catch {
    return ltxErr(new LTXError('LTX_BAD_HEADER', `timestamp ${header.timestamp} is outside years 0000..9999`));
  }
  const upload = opts.stored
    ? new StoredObject(opts.stored)
    : new LtxUpload(ctx.store, key, {
        customMetadata: { [TIMESTAMP_METADATA]: timestamp },
        partSize: ctx.partSize,
        retryDelayMs: ctx.retryDelayMs,
      });
  const sums = new StagedPageChecksums(ctx.sql, formatTXID(header.maxTXID));
  const state = new DatabaseState(sums);
  if (pos) Object.assign(state, { pageSize: pos.pageSize, commit: pos.commit, txid: pos.txid, checksum: pos.checksum });
  async function* source(): AsyncGenerator<Uint8Array> {
    for await (const c of bodyChunks(head, reader)) {
      await upload.write(c);
      yield c;
    }
  }
  let applied: Awaited<ReturnType<typeof applyLTX>>;
  let info: ObjectInfo;
  try {
    applied = await applyLTX(state, source(), NO_PAGES, ctx.limits, { allowOverlap: opts.allowOverlap });
    info = await upload.finish();
  } catch (e) {
    await upload.abort();
    sums.discard();
    if (e instanceof UploadConflictError) return err('POSITION_MISMATCH', e.message, { pos: headJSON(pos) });
    throw e;
  }
  const now = ctx.now();
  let pages: number[] | undefined;
  ctx.transaction(() => {
    pages = sums.commit();
    ctx.catalog.setPosition({ pageSize: header.pageSize, commit: header.commit, txid: header.maxTXID, checksum: state.checksum }, now);
    ctx.catalog.addFile({
      level,
      minTXID: header.minTXID,
      maxTXID: header.maxTXID,
      size: info.size,
      timestamp: header.timestamp,
      fileChecksum: applied.trailer.fileChecksum,
      postApplyChecksum: state.checksum,
      commit: header.commit,
      createdAt: now,
      indexBytes: applied.indexBytes,
    });
  });
  ctx.onCommit?.({
    since: pos?.txid ?? 0n,
    txid: header.maxTXID,
    checksum: state.checksum,
    pageSize: header.pageSize,
    commit: header.commit,
    timestamp: header.timestamp,
    pages: pos && header.commit < pos.commit ? undefined : pages,
    size: info.size,
  });
  return ok(posJSON(header.maxTXID, state.checksum), 201);
}

/** An upload stand-in for an object already in R2: nothing to send, nothing to undo. */
class StoredObject {
  private readonly info: ObjectInfo;
  constructor(info: ObjectInfo) {
    this.info = info;
  }
  async write(_chunk: Uint8Array): Promise<void> {}
  async finish(): Promise<ObjectInfo> {
    return this.info;
  }
  async abort(): Promise<void> {}
}

/** Reads chunks until at least `n` bytes are in (or the stream ends). */
async function readAtLeast(reader: ChunkReader, n: number): Promise<{ chunks: Uint8Array[]; bytes: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < n) {
    const r = await reader.read(n - total); // waits for the header only: it alone decides a refusal
    if (r.done) break;
    chunks.push(r.value);
    total += r.value.length;
  }
  const bytes = new Uint8Array(Math.min(total, n));
  let at = 0;
  for (const c of chunks) {
    if (at >= bytes.length) break;
    const k = Math.min(c.length, bytes.length - at);
    bytes.set(c.subarray(0, k), at);
    at += k;
  }
  return { chunks, bytes };
}

/** Decodes the rest of a stream strictly; returns its size and file checksum. */
async function verifyStream(
  head: Uint8Array[],
  reader: ChunkReader,
  limits: Partial<DecoderLimits> | undefined,
): Promise<{ size: number; fileChecksum: bigint }> {
  // Every page is dropped at once: recycled buffers.
  const pages = new PageReader(bodyChunks(head, reader), limits, { recycle: true });
  await pages.open();
  while (await pages.next());
  return { size: pages.summary.size, fileChecksum: pages.summary.trailer.fileChecksum };
}

/** The body: the chunks already read (the header's), then the rest from `reader`. */
async function* bodyChunks(head: Uint8Array[], reader: ChunkReader): AsyncGenerator<Uint8Array> {
  yield* head;
  for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
}
