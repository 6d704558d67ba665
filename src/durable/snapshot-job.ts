// A snapshot too large for one DO call, written in steps bounded by time and memory; its state lives in the DO between steps.

import {
  CHECKSUM_FLAG,
  type EncoderState,
  HEADER_FLAG_NO_CHECKSUM,
  LTXEncoder,
  SNAPSHOT_LEVEL,
  concatBytes,
  formatTimestamp,
  formatTXID,
  lockPgno,
  makeHeader,
  parseHex64,
  tailFacts,
  INDEX_TAIL_SIZE,
} from '../ltx/index.ts';
import { type ReadPlan, PlanError, PlanStaleError } from '../replication/plan.ts';
import { planPages } from '../replication/snapshot-stream.ts';
import { TIMESTAMP_METADATA, ltxKey } from '../storage/keys.ts';
import { StorageError, type UploadedPart } from '../storage/object-store.ts';
import type { CatalogFile } from './catalog.ts';
import { clearPendingOutput, markOutputPending } from './pending-deletes.ts';
import { type FileJSON, fileJSON } from './info.ts';
import { type IngestContext, retryOf } from './ingest.ts';
import { DEFAULT_PART_SIZE } from './ltx-upload.ts';

/** Databases at least this large are snapshotted in steps; smaller ones in one merge (compact.ts). */
export const CHUNKED_SNAPSHOT_BYTES = 256 * 1024 * 1024;
/** Wall time of one step: inside the DO's default 30 s of CPU, whatever the step spends waiting. */
export const DEFAULT_SNAPSHOT_STEP_MS = 20_000;
/** Run buffers of the plan's files during a step, split between them (snapshot-stream.ts). */
const SCAN_BUFFER_BYTES = 16 * 1024 * 1024;
/** The tail is stored in rows of at most this many bytes (a DO SQLite value holds up to 2 MB). */
const TAIL_ROW_BYTES = 1024 * 1024;
const STATE_KEY = 'snapshot-job';

/** Bounds of one step; tests make them small. */
export interface StepLimits {
  stepMs?: number;
  /** Stop after this many pages (tests). */
  maxPages?: number;
  /** The part size of a job this step starts (default ctx.partSize, else DEFAULT_PART_SIZE). */
  partSize?: number;
}

/** What a step did. */
export type StepResult = { txid: string } & (
  | { state: 'running'; nextPgno: number; commit: number; parts: number; steps: number; peakBufferedBytes: number }
  | { state: 'done'; file: FileJSON; steps: number; peakBufferedBytes: number }
  | { state: 'restarted'; reason: string }
);

/** The job between steps (the meta row, JSON; bigints as 16 hex digits). */
interface JobState {
  key: string;
  plan: Omit<ReadPlan, 'txid' | 'checksum' | 'files'> & {
    txid: string;
    checksum: string;
    files: { level: number; minTXID: string; maxTXID: string; size: number; commit?: number }[];
  };
  /** The true post-apply checksum at plan.txid (the catalog's): the finished file must agree. */
  expect: string;
  timestamp: number;
  noChecksum: boolean;
  /** Every part but the last is this size (R2 wants them equal): fixed when the job starts. */
  partSize: number;
  uploadId?: string;
  parts: UploadedPart[];
  nextPgno: number;
  encoder?: { offset: number; prevPgno: number; crc: string; pagesChecksum: string };
  steps: number;
}

/** The job in progress, if any: its output key and the catalog files it reads (retention must leave them). */
export function snapshotJob(ctx: IngestContext): { key: string; files: { level: number; minTXID: bigint; maxTXID: bigint }[] } | undefined {
  const s = loadState(ctx);
  if (!s) return undefined;
  return {
    key: s.key,
    files: s.plan.files.map((f) => ({ level: f.level, minTXID: BigInt('0x' + f.minTXID), maxTXID: BigInt('0x' + f.maxTXID) })),
  };
}

/** Starts a chunked snapshot of `plan` (the head's restore plan; `last` its newest file). */
export function startSnapshotJob(ctx: IngestContext, plan: ReadPlan, last: CatalogFile, noChecksum: boolean, partSize?: number): void {
  const key = ltxKey(ctx.prefix, ctx.name, SNAPSHOT_LEVEL, 1n, plan.txid);
  const state: JobState = {
    key,
    plan: {
      ...plan,
      txid: formatTXID(plan.txid),
      checksum: formatTXID(plan.checksum),
      files: plan.files.map((f) => ({ ...f, minTXID: formatTXID(f.minTXID), maxTXID: formatTXID(f.maxTXID) })),
    },
    expect: formatTXID(last.postApplyChecksum),
    timestamp: last.timestamp,
    noChecksum,
    partSize: partSize ?? ctx.partSize ?? DEFAULT_PART_SIZE,
    parts: [],
    nextPgno: 1,
    steps: 0,
  };
  ctx.transaction(() => {
    clearTables(ctx);
    markOutputPending(ctx, key);
    saveState(ctx, state);
  });
}

/**
 * One step: the merged pages from where the last step ended, encoded into the output, full parts
 * uploaded as they fill; at the time or page bound, the state (encoder, parts, index rows, the bytes
 * short of a part) commits in one transaction. A crash before that commit repeats the step from the
 * last one: its parts are uploaded again under the same numbers, byte for byte the same. The last
 * step checks the whole file's checksum against the catalog, completes the upload and adds the file
 * to the catalog with the job's end, in one transaction. A plan file gone (retention, a delete) or a
 * page that disagrees: the job is dropped (its upload aborted) and the caller starts over.
 */
export async function snapshotStep(ctx: IngestContext, limits: StepLimits = {}): Promise<StepResult> {
  const state = loadState(ctx);
  if (!state) throw new Error('no snapshot job');
  try {
    return await stepOnce(ctx, state, limits);
  } catch (e) {
    // The upload is gone: an earlier attempt completed it and died before its catalog commit.
    if (e instanceof StorageError && e.code === 'STORAGE_NO_SUCH_UPLOAD') return adoptCompleted(ctx, loadState(ctx)!);
    throw e;
  }
}

async function stepOnce(ctx: IngestContext, state: JobState, limits: StepLimits): Promise<StepResult> {
  const started = ctx.now();
  const partSize = state.partSize;
  const plan = planOf(state);
  const header = makeHeader({
    flags: state.noChecksum ? HEADER_FLAG_NO_CHECKSUM : 0,
    pageSize: plan.pageSize,
    commit: plan.commit,
    minTXID: 1n,
    maxTXID: plan.txid,
    timestamp: state.timestamp,
  });
  const enc = state.encoder ? LTXEncoder.resume(header, encoderState(state.encoder)) : new LTXEncoder(header);
  const buffer: Uint8Array[] = [loadTail(ctx)];
  let buffered = buffer[0].length;
  let peak = buffered;
  if (!state.encoder) {
    const start = enc.start();
    buffer.push(start);
    buffered += start.length;
  }
  const retry = retryOf(ctx);
  const upload = () => (state.uploadId ? ctx.store.resumeMultipart(state.key, state.uploadId) : undefined);
  const flushParts = async (): Promise<void> => {
    while (buffered >= partSize) {
      const all = concatBytes(buffer);
      if (!state.uploadId) {
        const created = await retry(() => ctx.store.createMultipart(state.key, { customMetadata: metadata(state) }));
        state.uploadId = created.uploadId;
        // Remembered at once: an upload nobody knows the id of could never be aborted.
        saveState(ctx, state);
      }
      const partNumber = state.parts.length + 1;
      const body = all.subarray(0, partSize);
      const part = await retry(() => upload()!.uploadPart(partNumber, body));
      state.parts.push(part);
      buffer.length = 0;
      buffer.push(all.subarray(partSize));
      buffered = all.length - partSize;
    }
  };
  let pages = 0;
  let next = state.nextPgno;
  try {
    for await (const page of planPages(ctx.store, plan, ctx.prefix, next, { scanBufferBytes: SCAN_BUFFER_BYTES })) {
      const frame = enc.encodePage(page.pgno, page.data);
      buffer.push(frame);
      buffered += frame.length;
      peak = Math.max(peak, buffered);
      next = page.pgno + 1;
      pages++;
      await flushParts();
      const outOfTime = ctx.now() - started >= (limits.stepMs ?? DEFAULT_SNAPSHOT_STEP_MS);
      if (outOfTime || (limits.maxPages !== undefined && pages >= limits.maxPages)) break;
    }
  } catch (e) {
    if (e instanceof PlanStaleError || e instanceof PlanError) return restart(ctx, state, e.message);
    throw e;
  }
  state.steps++;
  if (next <= plan.commit && !(next === plan.commit && next === lockPgno(plan.pageSize))) {
    state.nextPgno = next;
    commitStep(ctx, state, enc, concatBytes(buffer));
    return {
      txid: state.plan.txid,
      state: 'running',
      nextPgno: next,
      commit: plan.commit,
      parts: state.parts.length,
      steps: state.steps,
      peakBufferedBytes: peak,
    };
  }
  const closing = closeFile(ctx, state, enc);
  if (typeof closing === 'string') return restart(ctx, state, closing);
  buffer.push(closing);
  buffered += closing.length;
  await flushParts();
  return finish(ctx, state, concatBytes(buffer), tailFacts(closing), peak, retry);
}

/** Drops the job: aborts its upload (no parts stay behind) and clears its state. */
export async function abortSnapshotJob(ctx: IngestContext): Promise<void> {
  const state = loadState(ctx);
  if (!state) return;
  if (state.uploadId) {
    await retryOf(ctx)(() => ctx.store.resumeMultipart(state.key, state.uploadId!).abort()).catch((e: unknown) => {
      // An upload already completed or aborted is gone: nothing is left to abort.
      if (!(e instanceof StorageError)) throw e;
    });
  }
  ctx.transaction(() => {
    clearTables(ctx);
    clearPendingOutput(ctx, state.key);
    ctx.sql.exec('DELETE FROM meta WHERE key = ?', STATE_KEY);
  });
}

async function restart(ctx: IngestContext, state: JobState, reason: string): Promise<StepResult> {
  console.error(`snapshot of ${ctx.name} at ${state.plan.txid} starts over: ${reason}`);
  await abortSnapshotJob(ctx);
  return { txid: state.plan.txid, state: 'restarted', reason };
}

/** The end of the file (end marker, the whole page index, trailer), or why the job must start over. */
function closeFile(ctx: IngestContext, state: JobState, enc: LTXEncoder): Uint8Array | string {
  const saved = ctx.sql.exec('SELECT pgno, offset, size FROM snapshot_index ORDER BY pgno').toArray();
  const fresh = enc.takeIndex();
  const index = {
    pgnos: [...saved.map((r) => Number(r.pgno)), ...fresh.pgnos],
    offsets: [...saved.map((r) => Number(r.offset)), ...fresh.offsets],
    sizes: [...saved.map((r) => Number(r.size)), ...fresh.sizes],
  };
  // Every page of the output, XORed: the catalog's true checksum of the database at this TXID.
  const computed = CHECKSUM_FLAG | enc.pagesChecksum;
  if (computed !== parseHex64(state.expect)) return `the pages' checksum ${formatTXID(computed)} is not the catalog's ${state.expect}`;
  return enc.finish(undefined, index);
}

/** Uploads the rest (`last`, at most a part), then adds the file to the catalog and ends the job, in one transaction. */
async function finish(
  ctx: IngestContext,
  state: JobState,
  last: Uint8Array,
  tail: { fileChecksum: bigint; indexBytes: number },
  peak: number,
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<StepResult> {
  // Visible from here on, and until the catalog commit below a pending delete (a pass's sweep may have taken the mark).
  markOutputPending(ctx, state.key);
  let size: number;
  if (!state.uploadId) {
    const put = await retry(() => ctx.store.put(state.key, last, { customMetadata: metadata(state) }));
    size = put?.size ?? last.length;
  } else {
    size = await completeUpload(ctx, state, last, retry);
  }
  return commitFile(ctx, state, size, tail, peak);
}

/** Adds the finished file to the catalog and ends the job, in one transaction. */
function commitFile(
  ctx: IngestContext,
  state: JobState,
  size: number,
  { fileChecksum, indexBytes }: { fileChecksum: bigint; indexBytes: number },
  peak: number,
): StepResult {
  const plan = planOf(state);
  const file: CatalogFile = {
    level: SNAPSHOT_LEVEL,
    minTXID: 1n,
    maxTXID: plan.txid,
    size,
    timestamp: state.timestamp,
    fileChecksum,
    postApplyChecksum: parseHex64(state.expect)!,
    commit: plan.commit,
    createdAt: ctx.now(),
    indexBytes,
  };
  ctx.transaction(() => {
    ctx.catalog.addFile(file);
    clearTables(ctx);
    clearPendingOutput(ctx, state.key);
    ctx.sql.exec('DELETE FROM meta WHERE key = ?', STATE_KEY);
  });
  return { txid: state.plan.txid, state: 'done', file: fileJSON(file), steps: state.steps, peakBufferedBytes: peak };
}

/** Sends the last part and completes the upload. */
async function completeUpload(
  ctx: IngestContext,
  state: JobState,
  last: Uint8Array,
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<number> {
  const upload = ctx.store.resumeMultipart(state.key, state.uploadId!);
  const part = await retry(() => upload.uploadPart(state.parts.length + 1, last));
  return (await retry(() => upload.complete([...state.parts, part]))).size;
}

/**
 * The job's upload no longer exists. Only the job's last step completes it, after the pages'
 * checksum matched the catalog's, so an object at the key is the finished file: it joins the catalog
 * (size from R2, file checksum and index length from its last bytes). No object: the upload was aborted; start over.
 */
async function adoptCompleted(ctx: IngestContext, state: JobState): Promise<StepResult> {
  const retry = retryOf(ctx);
  const there = await retry(() => ctx.store.head(state.key));
  if (!there) return restart(ctx, state, 'its upload is gone and nothing is at its key');
  const end = await retry(async () =>
    (await ctx.store.get(state.key, { offset: there.size - INDEX_TAIL_SIZE, length: INDEX_TAIL_SIZE }))?.bytes(),
  );
  if (end?.length !== INDEX_TAIL_SIZE) return restart(ctx, state, 'its completed object has no trailer');
  return commitFile(ctx, state, there.size, tailFacts(end), 0);
}

function commitStep(ctx: IngestContext, state: JobState, enc: LTXEncoder, tail: Uint8Array): void {
  const fresh = enc.takeIndex();
  const s = enc.saveState();
  state.encoder = { offset: s.offset, prevPgno: s.prevPgno, crc: formatTXID(s.crc), pagesChecksum: formatTXID(s.pagesChecksum) };
  ctx.transaction(() => {
    for (let i = 0; i < fresh.pgnos.length; i++) {
      ctx.sql.exec(
        'INSERT OR REPLACE INTO snapshot_index (pgno, offset, size) VALUES (?, ?, ?)',
        fresh.pgnos[i],
        fresh.offsets[i],
        fresh.sizes[i],
      );
    }
    ctx.sql.exec('DELETE FROM snapshot_tail');
    for (let at = 0, seq = 0; at < tail.length; at += TAIL_ROW_BYTES, seq++) {
      ctx.sql.exec('INSERT INTO snapshot_tail (seq, bytes) VALUES (?, ?)', seq, tail.subarray(at, at + TAIL_ROW_BYTES));
    }
    saveState(ctx, state);
  });
}

function loadTail(ctx: IngestContext): Uint8Array {
  const rows = ctx.sql.exec('SELECT bytes FROM snapshot_tail ORDER BY seq').toArray();
  return concatBytes(rows.map((r) => new Uint8Array(r.bytes as ArrayBuffer)));
}

function clearTables(ctx: IngestContext): void {
  ctx.sql.exec('DELETE FROM snapshot_index');
  ctx.sql.exec('DELETE FROM snapshot_tail');
}

function loadState(ctx: IngestContext): JobState | undefined {
  const r = ctx.sql.exec('SELECT value FROM meta WHERE key = ?', STATE_KEY).toArray()[0];
  return r ? (JSON.parse(String(r.value)) as JobState) : undefined;
}

function saveState(ctx: IngestContext, state: JobState): void {
  ctx.sql.exec(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    STATE_KEY,
    JSON.stringify(state),
  );
}

function planOf(state: JobState): ReadPlan {
  const p = state.plan;
  return {
    ...p,
    txid: parseHex64(p.txid)!,
    checksum: parseHex64(p.checksum)!,
    files: p.files.map((f) => ({ ...f, minTXID: parseHex64(f.minTXID)!, maxTXID: parseHex64(f.maxTXID)! })),
  };
}

function encoderState(e: NonNullable<JobState['encoder']>): EncoderState {
  return { offset: e.offset, prevPgno: e.prevPgno, crc: parseHex64(e.crc)!, pagesChecksum: parseHex64(e.pagesChecksum)! };
}

function metadata(state: JobState): Record<string, string> {
  return { [TIMESTAMP_METADATA]: formatTimestamp(state.timestamp) };
}
