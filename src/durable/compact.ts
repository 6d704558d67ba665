// Compaction inside the DO: merge a contiguous run of catalog files into one file at a higher level, then swap them.

import { formatHex64 } from '../ltx/checksum.ts';
import { compactLTX } from '../ltx/compactor.ts';
import { HEADER_FLAG_NO_CHECKSUM, SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { LTXError } from '../ltx/errors.ts';
import { TIMESTAMP_METADATA, formatTimestamp, ltxKey } from '../storage/keys.ts';
import { StorageError } from '../storage/object-store.ts';
import { withRetry } from '../storage/retry.ts';
import type { CatalogFile } from './catalog.ts';
import type { IngestContext } from './ingest.ts';
import { LtxUpload } from './ltx-upload.ts';
import { type RpcResult, err, ok } from './rpc-result.ts';
import type { FileJSON } from './info.ts';
import { fileJSON } from './info.ts';

export interface CompactRequest {
  /** Level of the output file (1..9). */
  level: number;
  /** Inclusive TXID range whose files (at lower levels) are merged; they must tile it exactly. */
  minTXID: bigint;
  maxTXID: bigint;
}

/**
 * Streams the inputs from R2 through the k-way merge into a multipart/put upload at the new level
 * (memory: one page per input plus one part), then, in one catalog transaction, adds the output and
 * drops the inputs, then deletes the input objects. A crash before the catalog commit leaves an
 * unreferenced object at the output key (overwritten by a re-run); after it, inputs not yet deleted
 * are unreferenced leftovers that a later retention pass removes. Readers holding plans that name
 * a deleted input re-plan once (PlanStaleError).
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
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { attempts: 5, baseDelayMs: ctx.retryDelayMs ?? 50, maxDelayMs: 2000 });
  const sources = files.map((f) => streamOf(ctx, f, retry));
  const tracked = (await Promise.all(files.map((f) => flagsOf(ctx, f, retry)))).every((flags) => (flags & HEADER_FLAG_NO_CHECKSUM) === 0);
  const upload = new LtxUpload(ctx.store, key, {
    customMetadata: { [TIMESTAMP_METADATA]: formatTimestamp(last.timestamp) },
    partSize: ctx.partSize,
    retryDelayMs: ctx.retryDelayMs,
  });
  // A re-run after a crash finds its own earlier output at the key: replace it (nothing references it).
  if (!ctx.catalog.file(level, first.minTXID, last.maxTXID)) await retry(() => ctx.store.delete(key));
  else return err('BAD_REQUEST', `level ${level} already holds ${formatHex64(first.minTXID)}-${formatHex64(last.maxTXID)}`);
  let tail: Uint8Array = new Uint8Array(0);
  try {
    for await (const chunk of compactLTX(sources, { headerFlags: tracked ? 0 : HEADER_FLAG_NO_CHECKSUM, limits: ctx.limits })) {
      await upload.write(chunk);
      tail = chunk;
    }
  } catch (e) {
    await upload.abort();
    if (e instanceof LTXError) return err('INTERNAL', `compaction input is invalid: ${e.code} ${e.message}`);
    if (e instanceof StorageError && e.retryable) return err('STORAGE_UNAVAILABLE', e.message);
    throw e;
  }
  const info = await upload.finish();
  const fileChecksum = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 8).getBigUint64(0);
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
  };
  ctx.transaction(() => {
    if (!opts.keepInputs) for (const f of files) ctx.catalog.deleteFile(f.level, f.minTXID, f.maxTXID);
    ctx.catalog.addFile(output);
  });
  if (!opts.keepInputs) await retry(() => ctx.store.delete(files.map((f) => ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID))));
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
    return err('BAD_REQUEST', `no contiguous run of at least two files tiles ${formatHex64(req.minTXID)}-${formatHex64(req.maxTXID)}`);
  }
  return ok(chain);
}

async function* streamOf(
  ctx: IngestContext,
  f: CatalogFile,
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): AsyncGenerator<Uint8Array> {
  const obj = await retry(() => ctx.store.get(ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID)));
  if (!obj) throw new StorageError('STORAGE_NOT_FOUND', `catalog file ${formatHex64(f.minTXID)}-${formatHex64(f.maxTXID)} is missing`);
  const reader = obj.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
}

async function flagsOf(ctx: IngestContext, f: CatalogFile, retry: <T>(fn: () => Promise<T>) => Promise<T>): Promise<number> {
  const obj = await retry(() => ctx.store.get(ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID), { offset: 4, length: 4 }));
  if (!obj) throw new StorageError('STORAGE_NOT_FOUND', 'catalog file is missing');
  const b = await obj.bytes();
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}

/** Removes files from the catalog, then their objects (retention). Returns how many went. */
export async function deleteFiles(ctx: IngestContext, files: { level: number; minTXID: bigint; maxTXID: bigint }[]): Promise<number> {
  if (files.length === 0) return 0;
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { attempts: 5, baseDelayMs: ctx.retryDelayMs ?? 50, maxDelayMs: 2000 });
  ctx.transaction(() => {
    for (const f of files) ctx.catalog.deleteFile(f.level, f.minTXID, f.maxTXID);
  });
  // After the catalog commit nothing plans with them; a failure here leaves unreferenced objects only.
  await retry(() => ctx.store.delete(files.map((f) => ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID))));
  return files.length;
}
