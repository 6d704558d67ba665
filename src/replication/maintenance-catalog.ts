// Maintenance planning's view of a catalog: files grouped by level and sorted, wall-clock alignment, head reachability.

/** One catalog row, as maintenance planning needs it. */
export interface CatalogEntry {
  /** 0 = one file per pushed batch, 1..8 = compactions, 9 = snapshots (DESIGN §2). */
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
  /** Bytes of the LTX file. */
  size: number;
  /** LTX header timestamp, ms since the epoch. */
  timestamp: number;
  /** When the file entered the catalog, ms since the epoch (Litestream's `FileInfo.CreatedAt`). */
  createdAt: number;
}

/** Level 9 holds snapshots (MinTXID 1, MaxTXID = the head when written); Litestream's `SnapshotLevel`. */
export const SNAPSHOT_LEVEL = 9;

/** Highest compaction level (Litestream: `SnapshotLevel - 1`). */
export const MAX_LEVEL = 8;

/** The files of one level, sorted by (MinTXID, MaxTXID), with what planning asks of the level. */
export interface LevelFiles {
  files: CatalogEntry[];
  /** Greatest MaxTXID at the level; 0n when empty (Litestream's `MaxLTXFileInfo(level).MaxTXID`). */
  maxTXID: bigint;
  /** Latest createdAt at the level (ms); undefined when empty ("never compacted"). */
  newestCreatedAt: number | undefined;
}

/**
 * Groups `files` by level into an array indexed 0..9. Rows at levels outside 0..9 are ignored. The
 * catalog usually arrives sorted, so each level is checked in O(n) before it is sorted.
 */
export function indexCatalog(files: readonly CatalogEntry[]): LevelFiles[] {
  const levels: LevelFiles[] = [];
  for (let l = 0; l <= SNAPSHOT_LEVEL; l++) levels.push({ files: [], maxTXID: 0n, newestCreatedAt: undefined });
  for (const f of files) {
    if (!Number.isInteger(f.level) || f.level < 0 || f.level > SNAPSHOT_LEVEL) continue;
    const lv = levels[f.level];
    lv.files.push(f);
    if (f.maxTXID > lv.maxTXID) lv.maxTXID = f.maxTXID;
    if (lv.newestCreatedAt === undefined || f.createdAt > lv.newestCreatedAt) lv.newestCreatedAt = f.createdAt;
  }
  for (const lv of levels) if (!isSorted(lv.files, byRange)) lv.files.sort(byRange);
  return levels;
}

/** Order by MinTXID, then MaxTXID. */
export function byRange(a: CatalogEntry, b: CatalogEntry): number {
  return cmpBig(a.minTXID, b.minTXID) || cmpBig(a.maxTXID, b.maxTXID);
}

/** Order by MaxTXID. */
export function byMax(a: CatalogEntry, b: CatalogEntry): number {
  return cmpBig(a.maxTXID, b.maxTXID);
}

export function isSorted<T>(xs: readonly T[], cmp: (a: T, b: T) => number): boolean {
  for (let i = 1; i < xs.length; i++) if (cmp(xs[i - 1], xs[i]) > 0) return false;
  return true;
}

export function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index in `files` (sorted by MinTXID) whose MinTXID is > `txid`: Litestream's `LTXFiles(level, seek=txid+1)`. */
export function firstAfter(files: readonly CatalogEntry[], txid: bigint): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid].minTXID <= txid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first multiple of `intervalMs` since the Unix epoch at or after `t` (ms). Litestream aligns to
 * multiples counted from Go's zero time (`Time.Truncate`); the two agree for every interval that
 * divides a day, like 1 m, 5 m, 1 h and 24 h.
 */
export function nextBoundaryFrom(t: number, intervalMs: number): number {
  return Math.ceil(t / intervalMs) * intervalMs;
}

/**
 * True when some chain of files rebuilds exactly `head` (what `planRestore` needs): from TXID 0,
 * any file with MinTXID ≤ reach+1 and MaxTXID ≤ head extends the furthest reachable TXID (the
 * interval-cover sweep; a MinTXID-1 file at any level starts from an empty database). `skip` leaves
 * files out, to test a catalog after deletions. O(n + levels) over the per-level sorted lists.
 */
export function reachesHead(levels: readonly LevelFiles[], head: bigint, skip?: ReadonlySet<CatalogEntry>): boolean {
  if (head <= 0n) return false;
  const next = levels.map(() => 0);
  let reach = 0n;
  for (let progressed = true; progressed && reach < head; ) {
    progressed = false;
    for (let l = 0; l < levels.length; l++) {
      const files = levels[l].files;
      let i = next[l];
      for (; i < files.length && files[i].minTXID <= reach + 1n; i++) {
        const f = files[i];
        if (f.maxTXID <= head && f.maxTXID > reach && !skip?.has(f)) reach = f.maxTXID;
      }
      if (i !== next[l]) progressed = true;
      next[l] = i;
    }
  }
  return reach === head;
}
