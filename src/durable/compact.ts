// Compaction inside the DO: merge a contiguous run of catalog files into one file at a higher level, then swap them.

import {
  type ByteSource,
  compactLTX,
  HEADER_FLAG_NO_CHECKSUM,
  LTXError,
  SNAPSHOT_LEVEL,
  formatTimestamp,
  formatTXID,
  tailFacts,
} from '../ltx/index.ts';
import { TIMESTAMP_METADATA, ltxKey } from '../storage/keys.ts';
import { StorageError } from '../storage/object-store.ts';
import type { CatalogFile } from './catalog.ts';
import { type IngestContext, retryOf } from './ingest.ts';
import { addPending, clearPendingOutput, deletePending, markOutputPending } from './pending-deletes.ts';
import { LtxUpload } from './ltx-upload.ts';
import { type RpcResult, err, ok } from './rpc-result.ts';
import type { FileJSON } from './info.ts';
import { fileJSON } from './info.ts';

/** A merge ran past its maintenance pass's deadline and was aborted: nothing of it was committed. */
export class BudgetExceededError extends Error {
  constructor(deadline: number) {
    super(`aborted at the maintenance time budget (deadline ${new Date(deadline).toISOString()})`);
    this.name = 'BudgetExceededError';
  }
}

export interface CompactRequest {
  /** Level of the output file (1..9). */
  level: number;
  /** Inclusive TXID range whose files (at lower levels) are merged; they must tile it exactly. */
  minTXID: bigint;
  maxTXID: bigint;
}

/**
 * Streams the inputs from R2 through the k-way merge into a multipart/put upload at the new level
 * (memory: one page per input plus one part), then adds the output to the catalog. The output key is
 * a pending delete until that commit, so a failure or a crash in between leaves an object the next
 * maintenance pass removes (sweepPendingDeletes). The inputs stay until retention.
 */
export async function compactFiles(ctx: IngestContext, req: CompactRequest): Promise<RpcResult<{ file: FileJSON; inputs: number }>> {
  const inputs = chooseInputs(ctx, req);
  if (!inputs.ok) return inputs;
  // The inputs stay (Litestream keeps them; DESIGN §2 keeps L0 5 min after L1 covers it): retention
  // deletes them once the output has existed for the read grace period.
  return mergeIntoLevel(ctx, req.level, inputs.value, { keepInputs: true });
}

/**
 * A level-9 snapshot of the head: the files of the head's restore plan (any levels, overlaps
 * allowed) merged into one file [1, head]. Its inputs stay; retention removes what it makes redundant.
 */
export async function snapshotHead(ctx: IngestContext, planFiles: CatalogFile[]): Promise<RpcResult<{ file: FileJSON; inputs: number }>> {
  if (planFiles.length === 0) return err('NOT_FOUND', 'nothing to snapshot');
  if (planFiles.length === 1 && planFiles[0].level === SNAPSHOT_LEVEL) return err('BAD_REQUEST', 'the head is already a snapshot');
  return mergeIntoLevel(ctx, SNAPSHOT_LEVEL, planFiles, { keepInputs: true });
}

/** Streams `files` through the k-way merge into one object at `level`, then swaps the catalog. */
async function mergeIntoLevel(
  ctx: IngestContext,
  level: number,
  files: CatalogFile[],
  opts: { keepInputs?: boolean } = {},
): Promise<RpcResult<{ file: FileJSON; inputs: number }>> {
  const first = files[0];
  const last = files[files.length - 1];
  const key = ltxKey(ctx.prefix, ctx.name, level, first.minTXID, last.maxTXID);
  const retry = retryOf(ctx);
  if (ctx.catalog.file(level, first.minTXID, last.maxTXID)) {
    return err('BAD_REQUEST', `level ${level} already holds ${formatTXID(first.minTXID)}-${formatTXID(last.maxTXID)}`);
  }
  let inputs: { sources: ByteSource[]; tracked: boolean };
  try {
    inputs = await openInputs(ctx, files, retry);
  } catch (e) {
    if (e instanceof LTXError) return err('INTERNAL', `compaction input is invalid: ${e.code} ${e.message}`);
    if (e instanceof StorageError && e.retryable) return err('STORAGE_UNAVAILABLE', e.message);
    throw e;
  }
  const { sources, tracked } = inputs;
  const upload = new LtxUpload(ctx.store, key, {
    customMetadata: { [TIMESTAMP_METADATA]: formatTimestamp(last.timestamp) },
    partSize: ctx.partSize,
    retryDelayMs: ctx.retryDelayMs,
  });
  // Until the catalog commit references the output, its key is a pending delete.
  markOutputPending(ctx, key);
  // A re-run after a crash finds its own earlier output at the key: replace it (nothing references it).
  await retry(() => ctx.store.delete(key));
  let tail: Uint8Array = new Uint8Array(0);
  try {
    for await (const chunk of compactLTX(sources, { headerFlags: tracked ? 0 : HEADER_FLAG_NO_CHECKSUM, limits: ctx.limits })) {
      await upload.write(chunk);
      tail = chunk;
      // The clock moves on I/O (each part uploaded), so this notices an overrun within a part.
      if (ctx.deadline !== undefined && ctx.now() > ctx.deadline) throw new BudgetExceededError(ctx.deadline);
    }
  } catch (e) {
    await upload.abort();
    if (e instanceof BudgetExceededError) return err('MAINTENANCE_BUDGET_EXCEEDED', e.message);
    if (e instanceof LTXError) return err('INTERNAL', `compaction input is invalid: ${e.code} ${e.message}`);
    if (e instanceof StorageError && e.retryable) return err('STORAGE_UNAVAILABLE', e.message);
    throw e;
  }
  let info: Awaited<ReturnType<LtxUpload['finish']>>;
  try {
    info = await upload.finish();
  } catch (e) {
    // Whatever reached the key stays a pending delete for the next pass.
    if (e instanceof StorageError && e.retryable) return err('STORAGE_UNAVAILABLE', e.message);
    throw e;
  }
  // The last chunk is the encoder's finish(): end marker, index, its length, trailer.
  const { fileChecksum, indexBytes } = tailFacts(tail);
  const output: CatalogFile = {
    level,
    minTXID: first.minTXID,
    maxTXID: last.maxTXID,
    size: info.size,
    timestamp: last.timestamp,
    fileChecksum,
    postApplyChecksum: last.postApplyChecksum,
    commit: last.commit,
    createdAt: ctx.now(),
    indexBytes,
  };
  const dropped = opts.keepInputs ? [] : files;
  const batches = ctx.transaction(() => {
    for (const f of dropped) ctx.catalog.deleteFile(f.level, f.minTXID, f.maxTXID);
    ctx.catalog.addFile(output);
    clearPendingOutput(ctx, key);
    return addPending(
      ctx,
      dropped.map((f) => ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID)),
    );
  });
  await deletePending(ctx, batches);
  return ok({ file: fileJSON(output), inputs: files.length });
}

/** The files of the level below `req.level` that tile [min, max] exactly, one chain, oldest first. */
function chooseInputs(ctx: IngestContext, req: CompactRequest): RpcResult<CatalogFile[]> {
  if (!Number.isInteger(req.level) || req.level < 1 || req.level > 9) return err('BAD_REQUEST', 'level must be 1..9');
  if (req.minTXID < 1n || req.maxTXID < req.minTXID) return err('BAD_REQUEST', 'invalid TXID range');
  const candidates = ctx.catalog
    .filesUpTo(req.maxTXID)
    .filter((f) => f.level === req.level - 1 && f.minTXID >= req.minTXID)
    .sort((a, b) => (a.minTXID < b.minTXID ? -1 : a.minTXID > b.minTXID ? 1 : b.level - a.level));
  const chain: CatalogFile[] = [];
  let next = req.minTXID;
  for (const f of candidates) {
    if (f.minTXID !== next) continue;
    chain.push(f);
    next = f.maxTXID + 1n;
  }
  if (chain.length < 2 || next !== req.maxTXID + 1n) {
    return err('BAD_REQUEST', `no contiguous run of at least two files tiles ${formatTXID(req.minTXID)}-${formatTXID(req.maxTXID)}`);
  }
  return ok(chain);
}

/** Inputs merged at once at most: each open input holds a decoder (a 256 KiB page slab). */
const MERGE_FAN_IN = 32;
/** Up to this many inputs are all streamed (one R2 connection each; a Worker has 6 at once). */
const MAX_STREAMS = 4;
/** With more inputs, those up to this size are read whole (closing their connection at once)... */
const WHOLE_READ_BYTES = 4 * 1024 * 1024;
/** ...as long as they add up to at most this much, and pre-merged in memory, MERGE_FAN_IN at a time. */
const WHOLE_READ_BUDGET = 32 * 1024 * 1024;
/** Whole reads in flight at once (a Worker has 6 connections per invocation). */
const READ_CONCURRENCY = 4;

/**
 * The merge's inputs, oldest first, and whether all of them track checksums. Up to MAX_STREAMS
 * files: each streamed from R2 (its flags from a 4-byte ranged get). More: the small ones are read
 * whole (no connection stays open) and, beyond MERGE_FAN_IN inputs (a backlog of thousands of L0
 * files), pre-merged in memory MERGE_FAN_IN consecutive files at a time as they are read, so memory
 * and connections stay bounded instead of growing with the file count (one decoder slab each).
 * Only files larger than WHOLE_READ_BYTES stay streamed: more than 6 of those in one run would
 * still exceed a Worker's connections. A pre-merged group applies exactly like its files (it is
 * compactLTX's output; NoChecksum unless all of them track checksums).
 */
async function openInputs(
  ctx: IngestContext,
  files: CatalogFile[],
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<{ sources: ByteSource[]; tracked: boolean }> {
  const smallBytes = files.reduce((n, f) => n + (f.size <= WHOLE_READ_BYTES ? f.size : 0), 0);
  if (files.length <= MAX_STREAMS || smallBytes > WHOLE_READ_BUDGET) {
    const tracked = (await Promise.all(files.map((f) => flagsOf(ctx, f, retry)))).every((flags) => (flags & HEADER_FLAG_NO_CHECKSUM) === 0);
    return { sources: files.map((f) => streamOf(ctx, f, retry)), tracked };
  }
  const premerge = files.length > MERGE_FAN_IN;
  let inputs: ({ bytes: Uint8Array } | { file: CatalogFile })[] = [];
  let run: CatalogFile[] = [];
  const flush = async (): Promise<void> => {
    for (let i = 0; i < run.length; i += MERGE_FAN_IN) {
      const bytes = await readWhole(ctx, run.slice(i, i + MERGE_FAN_IN), retry);
      if (premerge && bytes.length > 1) inputs.push({ bytes: await mergeInMemory(ctx, bytes) });
      else for (const b of bytes) inputs.push({ bytes: b });
    }
    run = [];
  };
  for (const f of files) {
    if (f.size <= WHOLE_READ_BYTES) {
      run.push(f);
      continue;
    }
    await flush();
    inputs.push({ file: f });
  }
  await flush();
  // Thousands of files: merge the merged groups again until few inputs are left.
  while (inputs.length > MERGE_FAN_IN) {
    const next: typeof inputs = [];
    let group: Uint8Array[] = [];
    const close = async (): Promise<void> => {
      if (group.length > 0) next.push({ bytes: group.length === 1 ? group[0] : await mergeInMemory(ctx, group) });
      group = [];
    };
    for (const input of inputs) {
      if ('file' in input) {
        await close();
        next.push(input);
      } else {
        group.push(input.bytes);
        if (group.length === MERGE_FAN_IN) await close();
      }
    }
    await close();
    if (next.length === inputs.length) break; // only large files left between single groups
    inputs = next;
  }
  const flags = await Promise.all(inputs.map((i) => ('file' in i ? flagsOf(ctx, i.file, retry) : Promise.resolve(headerFlags(i.bytes)))));
  const tracked = flags.every((fl) => (fl & HEADER_FLAG_NO_CHECKSUM) === 0);
  return { sources: inputs.map((i) => ('file' in i ? streamOf(ctx, i.file, retry) : [i.bytes])), tracked };
}

/** The files' bytes, in order, READ_CONCURRENCY gets at a time. */
async function readWhole(ctx: IngestContext, files: CatalogFile[], retry: <T>(fn: () => Promise<T>) => Promise<T>): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array>(files.length);
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const f = files[i];
      out[i] = await retry(async () => {
        const obj = await ctx.store.get(ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID));
        if (!obj) throw new StorageError('STORAGE_NOT_FOUND', `catalog file ${formatTXID(f.minTXID)}-${formatTXID(f.maxTXID)} is missing`);
        return obj.bytes();
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, reader));
  return out;
}

/** Consecutive LTX files merged into one, in memory (tracking checksums only if all of them do). */
async function mergeInMemory(ctx: IngestContext, files: Uint8Array[]): Promise<Uint8Array> {
  const tracked = files.every((b) => (headerFlags(b) & HEADER_FLAG_NO_CHECKSUM) === 0);
  const chunks: Uint8Array[] = [];
  for await (const c of compactLTX(
    files.map((b) => [b]),
    { headerFlags: tracked ? 0 : HEADER_FLAG_NO_CHECKSUM, limits: ctx.limits },
  ))
    chunks.push(c);
  return concat(chunks);
}

/** The header's flags (bytes 4..8; the decoder validates the rest). */
function headerFlags(b: Uint8Array): number {
  return b.length >= 8 ? new DataView(b.buffer, b.byteOffset + 4, 4).getUint32(0) : 0;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function* streamOf(ctx: IngestContext, f: CatalogFile, retry: <T>(fn: () => Promise<T>) => Promise<T>): AsyncGenerator<Uint8Array> {
  const obj = await retry(() => ctx.store.get(ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID)));
  if (!obj) throw new StorageError('STORAGE_NOT_FOUND', `catalog file ${formatTXID(f.minTXID)}-${formatTXID(f.maxTXID)} is missing`);
  const reader = obj.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
}

/** A file's header flags, from a 4-byte ranged get. */
export async function flagsOf(ctx: IngestContext, f: CatalogFile, retry: <T>(fn: () => Promise<T>) => Promise<T>): Promise<number> {
  const obj = await retry(() => ctx.store.get(ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID), { offset: 4, length: 4 }));
  if (!obj) throw new StorageError('STORAGE_NOT_FOUND', 'catalog file is missing');
  const b = await obj.bytes();
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}
