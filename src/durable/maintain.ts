// Runs the due maintenance of one database (compaction, snapshot, retention) that the pure planner chose.

import { formatHex64, formatTXID } from '../ltx/index.ts';
import {
  type CatalogEntry,
  type MaintenanceAction,
  type MaintenanceConfig,
  checkLevelConsistency,
  nextMaintenanceDue,
  planMaintenance,
} from '../replication/maintenance.ts';
import { planRestore } from '../replication/restore-plan.ts';
import type { CatalogFile } from './catalog.ts';
import { StorageError } from '../storage/object-store.ts';
import { compactFiles, snapshotHead } from './compact.ts';
import { deleteFiles, hasPendingDeletes, sweepPendingDeletes } from './pending-deletes.ts';
import type { IngestContext } from './ingest.ts';
import { DEFAULT_SNAPSHOT_STEP_MS, type StepLimits, snapshotJob } from './snapshot-job.ts';
import { continueSnapshot, startChunkedSnapshot, wantsChunkedSnapshot } from './snapshot-chunked.ts';

export interface ActionJSON {
  kind: MaintenanceAction['kind'];
  level?: number;
  minTXID?: string;
  maxTXID?: string;
  files?: number;
  reason?: string;
  ok: boolean;
  error?: string;
  /** A chunked snapshot's progress: the next page to write, of `commit`, after `steps` steps; the most bytes the step held for upload. */
  progress?: { nextPgno: number; commit: number; steps: number; bufferedBytes: number };
}

export interface MaintenanceResult {
  actions: ActionJSON[];
  /** When maintenance is next due (ms), or null when idle until new writes. */
  nextDue: number | null;
  /** Level-consistency problems found after the pass (gaps/overlaps), counted in stats. */
  inconsistencies: number;
  /** Objects left out of the catalog by earlier failures that this pass deleted from R2. */
  swept: number;
  /** A chunked snapshot is still in progress after this pass (an alarm continues it). */
  snapshotRunning: boolean;
  /** The pass reached its time budget (ctx.deadline) with actions left: they are due on the next tick. */
  budgetExhausted: boolean;
}

/** With deletes still pending after a pass, come back this soon (ms) at the latest. */
const PENDING_RETRY_MS = 60_000;

function entries(files: CatalogFile[]): CatalogEntry[] {
  return files.map((f) => ({
    level: f.level,
    minTXID: f.minTXID,
    maxTXID: f.maxTXID,
    size: f.size,
    timestamp: f.timestamp,
    createdAt: f.createdAt,
  }));
}

/**
 * Plans with the pure planner, runs the actions in order (each one commits on its own, so a crash
 * between them leaves a consistent catalog and a re-run continues), and reports when to come back.
 * `filter` limits the pass to some actions (the admin routes run one kind on demand).
 */
export async function runMaintenance(
  ctx: IngestContext,
  cfg: MaintenanceConfig,
  now: number,
  onChange: () => void,
  filter: (a: MaintenanceAction) => boolean = () => true,
  snapshotLimits: StepLimits = {},
): Promise<MaintenanceResult> {
  const pos = ctx.catalog.position();
  if (!pos) return { actions: [], nextDue: null, inconsistencies: 0, swept: 0, budgetExhausted: false, snapshotRunning: false };
  // First what failed deletes, failed compactions or a dead DO left in R2 without a catalog row
  // (not the output of a chunked snapshot in progress: its last step may have completed it).
  const before = snapshotJob(ctx);
  const swept = await sweepPendingDeletes(ctx, new Set(before === undefined ? [] : [before.key]));
  const actions: ActionJSON[] = [];
  let budgetExhausted = false;
  // A chunked snapshot in progress takes its next step first, and no second one starts meanwhile.
  if (before && filter({ kind: 'snapshot', maxTXID: pos.txid })) actions.push(await continueSnapshot(ctx, stepLimits(ctx, snapshotLimits)));
  const job = before && snapshotJob(ctx);
  // Retention leaves the files a snapshot in progress reads.
  const pinned = new Set((job?.files ?? []).map((f) => `${f.level}/${f.minTXID}/${f.maxTXID}`));
  const planned = planMaintenance(entries(ctx.catalog.filesUpTo(pos.txid)), pos.txid, now, cfg)
    .filter(filter)
    .filter((a) => !(a.kind === 'snapshot' && job))
    .map((a) => (a.kind === 'delete' ? { ...a, files: a.files.filter((f) => !pinned.has(`${f.level}/${f.minTXID}/${f.maxTXID}`)) } : a))
    .filter((a) => a.kind !== 'delete' || a.files.length > 0);
  for (const action of planned) {
    if (ctx.deadline !== undefined && ctx.now() >= ctx.deadline) {
      budgetExhausted = true;
      break;
    }
    const report: ActionJSON = { kind: action.kind, ok: true };
    /** A merge's outcome on its report; one aborted at the budget ends the pass's budget too. */
    const merged = (r: Awaited<ReturnType<typeof compactFiles>>): void => {
      if (r.ok) report.files = r.value.inputs;
      else Object.assign(report, { ok: false, error: `${r.error.code}: ${r.error.message}` });
      if (!r.ok && r.error.code === 'MAINTENANCE_BUDGET_EXCEEDED') budgetExhausted = true;
    };
    if (action.kind === 'compact') {
      Object.assign(report, { level: action.level, minTXID: formatTXID(action.minTXID), maxTXID: formatTXID(action.maxTXID) });
      merged(await compactFiles(ctx, action));
    } else if (action.kind === 'snapshot') {
      Object.assign(report, { level: 9, minTXID: formatTXID(1n), maxTXID: formatTXID(action.maxTXID) });
      const all = ctx.catalog.filesUpTo(action.maxTXID);
      const plan = planRestore(entries(all), action.maxTXID);
      if (!plan.ok) Object.assign(report, { ok: false, error: `head not restorable: ${plan.reason}` });
      else if (wantsChunkedSnapshot(ctx, pos)) {
        Object.assign(report, await startChunkedSnapshot(ctx, pos, all, plan.files, stepLimits(ctx, snapshotLimits)));
      } else {
        // Keyed like the catalog, by (level, min, max): every snapshot starts at TXID 1.
        const byKey = new Map(all.map((f) => [`${f.level}/${f.minTXID}/${f.maxTXID}`, f]));
        merged(
          await snapshotHead(
            ctx,
            plan.files.map((f) => byKey.get(`${f.level}/${f.minTXID}/${f.maxTXID}`)!),
          ),
        );
      }
    } else {
      Object.assign(report, { reason: action.reason, files: action.files.length });
      try {
        await deleteFiles(ctx, action.files);
      } catch (e) {
        // The catalog rows are gone; the objects stay pending for the next pass.
        if (!(e instanceof StorageError)) throw e;
        Object.assign(report, { ok: false, error: `${e.code}: ${e.message}` });
      }
    }
    actions.push(report);
    onChange();
    if (!report.ok) break; // the next actions were planned on this one's result
  }
  const after = entries(ctx.catalog.filesUpTo(pos.txid));
  const inconsistencies = checkLevelConsistency(after).length;
  if (inconsistencies > 0)
    console.error(
      `level consistency: ${JSON.stringify(checkLevelConsistency(after), (_, v) => (typeof v === 'bigint' ? formatHex64(v) : v))}`,
    );
  // When to come back is a real time. `now` can run ahead of the clock: the admin routes plan "as if
  // every interval boundary had passed" (a year on), and due times from there would park the
  // database in the registry for that year. Ask from the earlier of the two.
  const clockNow = Math.min(now, ctx.now());
  let due = nextMaintenanceDue(after, pos.txid, clockNow, cfg);
  const snapshotRunning = snapshotJob(ctx) !== undefined;
  if (hasPendingDeletes(ctx) || snapshotRunning) due = Math.min(due ?? Infinity, clockNow + PENDING_RETRY_MS);
  return { actions, nextDue: due ?? null, inconsistencies, swept, budgetExhausted, snapshotRunning };
}

/** A step within what is left of the pass's budget (and the caller's bounds). */
function stepLimits(ctx: IngestContext, limits: StepLimits): StepLimits {
  if (ctx.deadline === undefined) return limits;
  const left = Math.max(1, ctx.deadline - ctx.now());
  return { ...limits, stepMs: Math.min(limits.stepMs ?? DEFAULT_SNAPSHOT_STEP_MS, left) };
}
