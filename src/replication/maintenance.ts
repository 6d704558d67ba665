// Maintenance planning: which compactions, snapshot and deletions a database is due at a given time (pure, Litestream's Store rules).
//
// Checked against benbjohnson/litestream at 63225f1 (store.go CompactDB/EnforceSnapshotRetention,
// compactor.go Compact/EnforceRetentionByTXID/EnforceL0Retention/VerifyLevelConsistency, db.go,
// compaction_level.go). As in Litestream, a compaction keeps its inputs: files leave the catalog only
// through the delete actions, whose rules (maintenance-retention.ts) keep per-transaction L0 files
// for a while and every compacted level back to the oldest kept snapshot for point-in-time reads.
// A caller that drops inputs when it compacts still gets valid plans, but loses that history and
// the read grace for the dropped files.

import {
  type CatalogEntry,
  type LevelFiles,
  MAX_LEVEL,
  SNAPSHOT_LEVEL,
  firstAfter,
  indexCatalog,
  nextBoundaryFrom,
  reachesHead,
} from './maintenance-catalog.ts';
import { type DeleteReason, type RetentionConfig, type RetentionPick, pickRetention, retentionDue } from './maintenance-retention.ts';

export type { CatalogEntry } from './maintenance-catalog.ts';
export type { DeleteReason } from './maintenance-retention.ts';

/** Resolved from `Config` (src/config.ts); all durations in milliseconds. */
export interface MaintenanceConfig {
  /** Compaction interval of levels 1, 2, …: index 0 is level 1 (at most 8 are used). */
  levelIntervalsMs: number[];
  /** A level-9 snapshot is due once per this interval, aligned to its multiples. */
  snapshotIntervalMs: number;
  /** Snapshots at least this old go (the newest always stays), then what they alone covered. */
  snapshotRetentionMs: number;
  /** L0 files at least this old that L1 covers go. 0 = as soon as L1 covers them. */
  l0RetentionMs: number;
  /** Files handed out in read plans within this window must not be deleted (see maintenance-retention.ts). */
  readGraceMs: number;
}

/** A file named by its catalog key. */
export interface FileRef {
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
}

export type MaintenanceAction =
  /** Merge the files below `level` that tile [minTXID, maxTXID] into one file at `level`. */
  | { kind: 'compact'; level: number; minTXID: bigint; maxTXID: bigint }
  /** Write a level-9 snapshot [1, maxTXID] of the database at `maxTXID` (the head). */
  | { kind: 'snapshot'; maxTXID: bigint }
  /** Delete these files (catalog rows and objects); `reason` names the retention rule. */
  | { kind: 'delete'; files: FileRef[]; reason: DeleteReason };

/** A gap or overlap between neighbouring files of one level: `between` = [prev MaxTXID, next MinTXID]. */
export interface LevelProblem {
  level: number;
  problem: 'gap' | 'overlap';
  between: [bigint, bigint];
}

/**
 * What is due at `now` for a database at `head`, in the order to run them: compactions from level 1
 * up, then the snapshot, then deletions. Each compaction plans on the ones before it in the list
 * (level L's run includes the level L-1 file planned just before), so run them in order and stop at
 * the first failure. Deletions never depend on the pass's own outputs. "Too early" and "nothing to
 * compact" are normal: an empty list.
 *
 * Safety: no snapshot and no deletion while the head is not restorable from the catalog (a broken
 * catalog is left for checkLevelConsistency and a human); the deletions are dropped altogether if
 * the head would not be restorable without them (the rules never do that; this is a last guard).
 * O(n log n) for n files (O(n) when each level arrives sorted by MinTXID).
 */
export function planMaintenance(files: readonly CatalogEntry[], head: bigint, now: number, cfg: MaintenanceConfig): MaintenanceAction[] {
  if (head <= 0n || files.length === 0) return [];
  const levels = indexCatalog(files);
  const actions: MaintenanceAction[] = planCompactions(levels, now, cfg);
  if (!reachesHead(levels, head)) return actions;
  if (snapshotDue(levels, head, cfg) <= now) actions.push({ kind: 'snapshot', maxTXID: head });
  const picks = safeRetention(levels, head, now, cfg);
  if (picks !== 'blocked') for (const p of picks) actions.push({ kind: 'delete', reason: p.reason, files: p.files.map(ref) });
  return actions;
}

/**
 * The earliest time (ms) at which `planMaintenance` has something to do, assuming no new writes:
 * `now` when something is due already, undefined when nothing ever will be (an idle database the
 * cron can skip until it is written to). Running actions changes the catalog, so ask again after.
 * Agrees with planMaintenance: for every t in [now, result) the plan is empty, at result it is not
 * (when planMaintenance's last guard holds deletions back, retention is left out here until the
 * catalog changes; future deletions it would block are not foreseen, which the rules never reach).
 */
export function nextMaintenanceDue(files: readonly CatalogEntry[], head: bigint, now: number, cfg: MaintenanceConfig): number | undefined {
  if (head <= 0n || files.length === 0) return undefined;
  const levels = indexCatalog(files);
  let due: number | undefined;
  const consider = (t: number | undefined): void => {
    if (t !== undefined && t !== Infinity && (due === undefined || t < due)) due = t;
  };
  const intervals = levelIntervals(cfg);
  for (let level = 1; level <= intervals.length; level++) {
    const run = sourceRun(levels, level, undefined, now);
    if (run.count >= 2) consider(compactionDue(levels, level, run, intervals[level - 1]));
  }
  if (reachesHead(levels, head)) {
    consider(snapshotDue(levels, head, cfg));
    // A blocked retention stays blocked until the catalog changes: not a reason to come back.
    if (safeRetention(levels, head, now, cfg) !== 'blocked') consider(retentionDue(levels, retentionConfig(cfg)));
  }
  return due === undefined ? undefined : Math.max(due, now);
}

/**
 * Litestream's `VerifyLevelConsistency`, for every level 0..8 at once: neighbouring files (by
 * MinTXID) must satisfy next.MinTXID = prev.MaxTXID + 1. Lists every gap and overlap, by level then
 * TXID. Level 9 (snapshots, all starting at 1) is not checked.
 */
export function checkLevelConsistency(files: readonly CatalogEntry[]): LevelProblem[] {
  const levels = indexCatalog(files);
  const out: LevelProblem[] = [];
  for (let level = 0; level <= MAX_LEVEL; level++) {
    const fs = levels[level].files;
    for (let i = 1; i < fs.length; i++) {
      const prev = fs[i - 1].maxTXID;
      const next = fs[i].minTXID;
      if (next > prev + 1n) out.push({ level, problem: 'gap', between: [prev, next] });
      else if (next <= prev) out.push({ level, problem: 'overlap', between: [prev, next] });
    }
  }
  return out;
}

function levelIntervals(cfg: MaintenanceConfig): number[] {
  return cfg.levelIntervalsMs.slice(0, MAX_LEVEL);
}

function retentionConfig(cfg: MaintenanceConfig): RetentionConfig {
  return {
    snapshotRetentionMs: cfg.snapshotRetentionMs,
    l0RetentionMs: cfg.l0RetentionMs,
    readGraceMs: cfg.readGraceMs,
    topLevel: levelIntervals(cfg).length,
  };
}

/** The retention picks at `now`, or 'blocked' when deleting them would leave the head unrestorable. */
function safeRetention(levels: readonly LevelFiles[], head: bigint, now: number, cfg: MaintenanceConfig): RetentionPick[] | 'blocked' {
  const picks = pickRetention(levels, now, retentionConfig(cfg));
  if (picks.length === 0) return picks;
  return reachesHead(levels, head, new Set(picks.flatMap((p) => p.files))) ? picks : 'blocked';
}

function ref(f: CatalogEntry): FileRef {
  return { level: f.level, minTXID: f.minTXID, maxTXID: f.maxTXID };
}

/**
 * Litestream's `Store.CompactDB` + `Compactor.Compact`, per level L = 1..n:
 * - the source is level L-1 only (`PrevLevel`), its files starting after level L's MaxTXID
 *   (`LTXFiles(srcLevel, seek = max+1)`): a level's first file starts at the first source file, so
 *   L1 tiles the history from the first L0 file on, and each level stays contiguous;
 * - the run is cut at the first gap or overlap in the source (Litestream would hand it to the LTX
 *   compactor, which refuses a gap); checkLevelConsistency reports it;
 * - nothing to compact: fewer than two files in the run. Litestream also compacts a single file; a
 *   one-file compaction is a byte copy that shortens no plan and frees nothing, so it waits for a
 *   second file (the DO's compactFiles refuses one input, too);
 * - too early: see `compactionDue`.
 * Level L's run also takes the level L-1 output planned just before it in this pass (when it is
 * contiguous), so at a 5-minute boundary L2 includes the minute L1 compacts at the same tick.
 */
function planCompactions(levels: readonly LevelFiles[], now: number, cfg: MaintenanceConfig): MaintenanceAction[] {
  const actions: MaintenanceAction[] = [];
  const intervals = levelIntervals(cfg);
  let planned: FileRef | undefined;
  for (let level = 1; level <= intervals.length; level++) {
    const run = sourceRun(levels, level, planned, now);
    planned = undefined;
    if (run.count < 2 || compactionDue(levels, level, run, intervals[level - 1]) > now) continue;
    planned = { level, minTXID: run.minTXID, maxTXID: run.maxTXID };
    actions.push({ kind: 'compact', ...planned });
  }
  return actions;
}

/**
 * When level L's compaction of `run` is due: the first multiple of L's interval at or after both the
 * newest level-L file's createdAt and the time the run became compactable (its second file). Litestream
 * runs each level's monitor at the multiples of its interval (`NextCompactionAt`) and skips a level
 * whose newest file was made after the last multiple (`dstInfo.CreatedAt.After(PrevCompactionAt(now))`
 * → too early). The second condition reproduces the monitor's timing for a cron that ticks every
 * minute: a run that becomes compactable between two multiples waits for the next one, also at a
 * level never compacted before and after a long idle stretch.
 */
function compactionDue(levels: readonly LevelFiles[], level: number, run: SourceRun, intervalMs: number): number {
  const newest = levels[level].newestCreatedAt;
  return nextBoundaryFrom(Math.max(newest ?? -Infinity, run.readyAt), intervalMs);
}

interface SourceRun {
  /** Files in the run, the planned one included. */
  count: number;
  minTXID: bigint;
  maxTXID: bigint;
  /** When the run had two files: its second file's createdAt (`plannedAt` for the planned one); Infinity below two. */
  readyAt: number;
}

/**
 * The contiguous run of level L-1 files after level L's MaxTXID, plus `planned` (a level L-1 file
 * this pass makes at `plannedAt`) when it continues the run.
 */
function sourceRun(levels: readonly LevelFiles[], level: number, planned: FileRef | undefined, plannedAt: number): SourceRun {
  const after = levels[level].maxTXID;
  const src = levels[level - 1].files;
  const run: SourceRun = { count: 0, minTXID: 0n, maxTXID: after, readyAt: Infinity };
  for (let i = firstAfter(src, after); i < src.length; i++) {
    const f = src[i];
    if (run.count > 0 && f.minTXID !== run.maxTXID + 1n) break;
    if (run.count === 0) run.minTXID = f.minTXID;
    run.maxTXID = f.maxTXID;
    run.count++;
    if (run.count === 2) run.readyAt = f.createdAt;
  }
  if (planned && planned.minTXID > after && (run.count === 0 || planned.minTXID === run.maxTXID + 1n)) {
    if (run.count === 0) run.minTXID = planned.minTXID;
    run.maxTXID = planned.maxTXID;
    run.count++;
    if (run.count === 2) run.readyAt = plannedAt;
  }
  return run;
}

/**
 * Litestream's snapshot path of `CompactDB` (level 9, interval = snapshotIntervalMs): due when the
 * head is beyond the newest snapshot's MaxTXID (`dstInfo.MaxTXID >= pos.TXID` → no compaction),
 * at the first multiple of the interval at or after the newest snapshot was made; at once when
 * there is none. Returns the due time (ms, may be in the past), or Infinity when never.
 */
function snapshotDue(levels: readonly LevelFiles[], head: bigint, cfg: MaintenanceConfig): number {
  const snaps = levels[SNAPSHOT_LEVEL];
  if (snaps.newestCreatedAt === undefined) return -Infinity;
  if (snaps.maxTXID >= head) return Infinity;
  return nextBoundaryFrom(snaps.newestCreatedAt, cfg.snapshotIntervalMs);
}
