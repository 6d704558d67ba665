// Retention selection: which snapshots, compacted files and L0 files may go (Litestream's three Enforce* rules + a read grace).

import { type CatalogEntry, type LevelFiles, MAX_LEVEL, SNAPSHOT_LEVEL, byMax, isSorted } from './maintenance-catalog.ts';

/** Why files are deleted: one delete action per rule. */
export type DeleteReason = 'snapshot-retention' | 'retention-by-txid' | 'l0-retention';

/** The retention settings, all in milliseconds. */
export interface RetentionConfig {
  snapshotRetentionMs: number;
  l0RetentionMs: number;
  readGraceMs: number;
  /** How many compaction levels are configured (1..8): level k < this is compacted into level k+1. */
  topLevel: number;
}

export interface RetentionPick {
  reason: DeleteReason;
  files: CatalogEntry[];
}

/**
 * The read-grace rule: a file is deleted only once the file that made it redundant (its
 * "replacement") has been in the catalog for `readGraceMs`. A head plan handed out before the
 * replacement existed could name the file; one handed out later starts from the replacement (or a
 * newer file), so a plan is safe for at least `readGraceMs` after it was made. Planners prefer fewer
 * files, then fewer bytes, so a head plan can still name a redundant file on a tie; such a reader
 * finds the file gone and re-plans once (PlanStaleError), the same as for any stale plan.
 */
function graced(replacementCreatedAt: number, now: number, cfg: RetentionConfig): boolean {
  return replacementCreatedAt + cfg.readGraceMs <= now;
}

/**
 * The three rules, evaluated at `now` on the catalog as it is (the outputs of compactions planned
 * in the same pass are not in it yet, so nothing here depends on them, and no delete touches a
 * planned compaction's inputs: those lie above the next level's MaxTXID, deletions below it).
 *
 * Litestream runs snapshot + TXID retention once per snapshot interval and L0 retention every 15 s;
 * here every rule runs on every pass, which only deletes the same files sooner.
 */
export function pickRetention(levels: readonly LevelFiles[], now: number, cfg: RetentionConfig): RetentionPick[] {
  const picks: RetentionPick[] = [];
  const snapshots = pickSnapshots(levels[SNAPSHOT_LEVEL].files, now, cfg);
  if (snapshots.deleted.length > 0) picks.push({ reason: 'snapshot-retention', files: snapshots.deleted });
  if (snapshots.oldestKept && graced(snapshots.oldestKept.createdAt, now, cfg)) {
    const byTXID = pickBelowSnapshot(levels, snapshots.oldestKept.maxTXID, cfg);
    if (byTXID.length > 0) picks.push({ reason: 'retention-by-txid', files: byTXID });
  }
  const l0 = pickL0(levels, now, cfg);
  if (l0.length > 0) picks.push({ reason: 'l0-retention', files: l0 });
  return picks;
}

/** Snapshots sorted by MaxTXID (all start at 1), oldest first. */
function snapshotOrder(files: readonly CatalogEntry[]): readonly CatalogEntry[] {
  return isSorted(files, byMax) ? files : [...files].sort(byMax);
}

/**
 * Rule 1, Litestream's `EnforceSnapshotRetention`: a snapshot whose age (by createdAt) is at least
 * `snapshotRetentionMs` is deleted, except the newest (greatest MaxTXID), which is always kept.
 * Read grace: some newer snapshot must have existed for `readGraceMs`. Litestream's `Before` is
 * strict (age > retention); here age ≥ retention, a millisecond apart, so due times are exact.
 * Returns the deleted snapshots and the oldest one kept (the floor for rule 2).
 */
function pickSnapshots(
  files: readonly CatalogEntry[],
  now: number,
  cfg: RetentionConfig,
): { deleted: CatalogEntry[]; oldestKept?: CatalogEntry } {
  const snaps = snapshotOrder(files);
  const deleted: CatalogEntry[] = [];
  let oldestKept: CatalogEntry | undefined = snaps[snaps.length - 1];
  let newerCreatedAt = Infinity;
  for (let i = snaps.length - 2; i >= 0; i--) {
    newerCreatedAt = Math.min(newerCreatedAt, snaps[i + 1].createdAt);
    const s = snaps[i];
    if (now - s.createdAt >= cfg.snapshotRetentionMs && graced(newerCreatedAt, now, cfg)) deleted.push(s);
    else oldestKept = s;
  }
  return { deleted: deleted.reverse(), oldestKept };
}

/**
 * Rule 2, Litestream's `EnforceRetentionByTXID` on levels 1..8: files whose MaxTXID is below the
 * oldest kept snapshot's MaxTXID are deleted, except each level's last file. (Litestream's Store
 * passes the MaxTXID of the newest snapshot it deleted in the same pass — compactor.go passes the
 * oldest retained one, as here; the read grace covers the in-flight plans that floor protects.)
 * Level 0 is left to rule 3, as in Litestream. One addition: below the top configured level a file
 * must also be covered by the next level (MaxTXID ≤ that level's MaxTXID), so the next compaction
 * finds its whole run and no level gets a gap; with the default levels this never binds. Deletions
 * are a prefix of each level, so a level stays contiguous.
 */
function pickBelowSnapshot(levels: readonly LevelFiles[], floor: bigint, cfg: RetentionConfig): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (let k = 1; k <= MAX_LEVEL; k++) {
    const files = levels[k].files;
    const covered = k < cfg.topLevel ? levels[k + 1].maxTXID : undefined;
    for (let i = 0; i < files.length - 1; i++) {
      const f = files[i];
      if (f.maxTXID >= floor || (covered !== undefined && f.maxTXID > covered)) break;
      out.push(f);
    }
  }
  return out;
}

/**
 * Rule 3, Litestream's `EnforceL0Retention`: an L0 file goes once its age (by createdAt) is at least
 * `l0RetentionMs` and L1 covers it (MaxTXID ≤ the greatest L1 MaxTXID), scanning oldest first and
 * stopping at the first file that must stay (so the kept L0 files stay contiguous), and never the
 * newest L0 file. Read grace: the earliest L1 file reaching the file's MaxTXID must have existed for
 * `readGraceMs`. Litestream disables the rule when the retention is 0; here 0 means "as soon as
 * covered", the natural reading of DESIGN §2's "kept 5 min after L1 covers it".
 */
function pickL0(levels: readonly LevelFiles[], now: number, cfg: RetentionConfig): CatalogEntry[] {
  const l0 = levels[0].files;
  const cover = l1Cover(levels[1].files);
  const out: CatalogEntry[] = [];
  for (let i = 0; i < l0.length - 1; i++) {
    const f = l0[i];
    const coveredAt = cover(f.maxTXID);
    if (coveredAt === undefined || now - f.createdAt < cfg.l0RetentionMs || !graced(coveredAt, now, cfg)) break;
    out.push(f);
  }
  return out;
}

/**
 * Returns txid → the earliest createdAt among L1 files with MaxTXID ≥ txid (undefined: L1 does not
 * reach it). L1 sorted by MaxTXID with a suffix minimum, answered by binary search.
 */
export function l1Cover(l1: readonly CatalogEntry[]): (txid: bigint) => number | undefined {
  const sorted = isSorted(l1, byMax) ? l1 : [...l1].sort(byMax);
  const suffixMin = new Array<number>(sorted.length);
  let m = Infinity;
  for (let i = sorted.length - 1; i >= 0; i--) suffixMin[i] = m = Math.min(m, sorted[i].createdAt);
  return (txid) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid].maxTXID < txid) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length ? suffixMin[lo] : undefined;
  };
}

/**
 * The earliest time at or after which some retention rule deletes a file from this catalog (it may be
 * ≤ now), assuming no new files; undefined when no rule ever will. Mirrors `pickRetention`: each
 * rule deletes a prefix, so only the first candidate of each rule and level decides.
 */
export function retentionDue(levels: readonly LevelFiles[], cfg: RetentionConfig): number | undefined {
  let due: number | undefined;
  const consider = (t: number): void => {
    if (due === undefined || t < due) due = t;
  };
  const snaps = snapshotOrder(levels[SNAPSHOT_LEVEL].files);
  // Rule 1: each snapshot but the newest, once old enough and a newer one has had its grace.
  let newerCreatedAt = Infinity;
  for (let i = snaps.length - 2; i >= 0; i--) {
    newerCreatedAt = Math.min(newerCreatedAt, snaps[i + 1].createdAt);
    consider(Math.max(snaps[i].createdAt + cfg.snapshotRetentionMs, newerCreatedAt + cfg.readGraceMs));
  }
  // Rule 2 with today's oldest snapshot as the floor (deleting snapshots, itself a due event above,
  // is what raises it later).
  if (snaps.length > 0 && pickBelowSnapshot(levels, snaps[0].maxTXID, cfg).length > 0) consider(snaps[0].createdAt + cfg.readGraceMs);
  // Rule 3: the oldest L0 file, if it is not the newest and L1 covers it.
  const l0 = levels[0].files;
  if (l0.length > 1) {
    const coveredAt = l1Cover(levels[1].files)(l0[0].maxTXID);
    if (coveredAt !== undefined) consider(Math.max(l0[0].createdAt + cfg.l0RetentionMs, coveredAt + cfg.readGraceMs));
  }
  return due;
}
