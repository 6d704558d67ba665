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
import { compactFiles, deleteFiles, hasPendingDeletes, snapshotHead, sweepPendingDeletes } from './compact.ts';
import type { IngestContext } from './ingest.ts';

export interface ActionJSON {
  kind: MaintenanceAction['kind'];
  level?: number;
  minTXID?: string;
  maxTXID?: string;
  files?: number;
  reason?: string;
  ok: boolean;
  error?: string;
}

export interface MaintenanceResult {
  actions: ActionJSON[];
  /** When maintenance is next due (ms), or null when idle until new writes. */
  nextDue: number | null;
  /** Level-consistency problems found after the pass (gaps/overlaps), counted in stats. */
  inconsistencies: number;
  /** Objects left out of the catalog by earlier failures that this pass deleted from R2. */
  swept: number;
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
): Promise<MaintenanceResult> {
  const pos = ctx.catalog.position();
  if (!pos) return { actions: [], nextDue: null, inconsistencies: 0, swept: 0, budgetExhausted: false };
  // First what failed deletes, failed compactions or a dead DO left in R2 without a catalog row.
  const swept = await sweepPendingDeletes(ctx);
  const actions: ActionJSON[] = [];
  let budgetExhausted = false;
  for (const action of planMaintenance(entries(ctx.catalog.filesUpTo(pos.txid)), pos.txid, now, cfg).filter(filter)) {
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
      else {
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
  if (hasPendingDeletes(ctx)) due = Math.min(due ?? Infinity, clockNow + PENDING_RETRY_MS);
  return { actions, nextDue: due ?? null, inconsistencies, swept, budgetExhausted };
}
