// Maintenance's side of chunked snapshots: which databases get one, starting it, and each step as an action report.

import { HEADER_FLAG_NO_CHECKSUM, SNAPSHOT_LEVEL, formatTXID } from '../ltx/index.ts';
import type { PlanFile } from '../replication/restore-plan.ts';
import type { ReadPlan } from '../replication/plan.ts';
import { StorageError } from '../storage/object-store.ts';
import type { CatalogFile, Position } from './catalog.ts';
import { flagsOf } from './compact.ts';
import { type IngestContext, retryOf } from './ingest.ts';
import type { ActionJSON } from './maintain.ts';
import { CHUNKED_SNAPSHOT_BYTES, DEFAULT_SNAPSHOT_STEP_MS, type StepLimits, snapshotStep, startSnapshotJob } from './snapshot-job.ts';

/** True when the database at `pos` is snapshotted in steps (at least ctx.chunkedSnapshotBytes, default CHUNKED_SNAPSHOT_BYTES). */
export function wantsChunkedSnapshot(ctx: IngestContext, pos: Position): boolean {
  return pos.commit * pos.pageSize >= (ctx.chunkedSnapshotBytes ?? CHUNKED_SNAPSHOT_BYTES);
}

/** Starts a chunked snapshot of the head's restore plan (`planFiles` out of `all`) and takes its first step. */
export async function startChunkedSnapshot(
  ctx: IngestContext,
  pos: Position,
  all: CatalogFile[],
  planFiles: readonly PlanFile[],
  limits: StepLimits,
): Promise<ActionJSON> {
  const byKey = new Map(all.map((f) => [`${f.level}/${f.minTXID}/${f.maxTXID}`, f]));
  const files = planFiles.map((f) => byKey.get(`${f.level}/${f.minTXID}/${f.maxTXID}`)!);
  const last = files[files.length - 1];
  const retry = retryOf(ctx);
  let flags: number[];
  try {
    flags = await Promise.all(files.map((f) => flagsOf(ctx, f, retry)));
  } catch (e) {
    if (e instanceof StorageError) return failed(last.maxTXID, `${e.code}: ${e.message}`);
    throw e;
  }
  const plan: ReadPlan = {
    db: ctx.name,
    txid: last.maxTXID,
    pageSize: pos.pageSize,
    commit: last.commit,
    checksum: last.postApplyChecksum,
    files: files.map((f) => ({ level: f.level, minTXID: f.minTXID, maxTXID: f.maxTXID, size: f.size, commit: f.commit })),
  };
  startSnapshotJob(
    ctx,
    plan,
    last,
    flags.some((fl) => (fl & HEADER_FLAG_NO_CHECKSUM) !== 0),
    limits.partSize,
  );
  return continueSnapshot(ctx, limits);
}

/** The next step of the snapshot in progress, as the pass reports it. */
export async function continueSnapshot(ctx: IngestContext, limits: StepLimits): Promise<ActionJSON> {
  const bounded = { ...limits, stepMs: Math.min(limits.stepMs ?? DEFAULT_SNAPSHOT_STEP_MS, DEFAULT_SNAPSHOT_STEP_MS) };
  try {
    const r = await snapshotStep(ctx, bounded);
    const report: ActionJSON = {
      kind: 'snapshot',
      level: SNAPSHOT_LEVEL,
      minTXID: formatTXID(1n),
      maxTXID: r.txid,
      ok: r.state !== 'restarted',
    };
    if (r.state === 'running')
      report.progress = { nextPgno: r.nextPgno, commit: r.commit, steps: r.steps, bufferedBytes: r.peakBufferedBytes };
    if (r.state === 'restarted') report.error = `snapshot started over: ${r.reason}`;
    return report;
  } catch (e) {
    if (e instanceof StorageError && e.retryable) return failed(undefined, `${e.code}: ${e.message}`);
    throw e;
  }
}

function failed(txid: bigint | undefined, error: string): ActionJSON {
  return {
    kind: 'snapshot',
    level: SNAPSHOT_LEVEL,
    minTXID: formatTXID(1n),
    ...(txid === undefined ? {} : { maxTXID: formatTXID(txid) }),
    ok: false,
    error,
  };
}
