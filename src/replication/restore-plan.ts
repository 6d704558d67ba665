// Restore planning: which LTX files, oldest first, rebuild the database at a target TXID (ltx-format.md §11).

/** One catalog entry, as far as planning needs it. */
export interface PlanFile {
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
  /** Bytes of the LTX file. */
  size: number;
  /** LTX header timestamp, ms since the epoch (a compaction carries its last input's). */
  timestamp: number;
}

export type PlanResult =
  /**
   * `files` oldest first: `files[0].minTXID === 1n` (a snapshot), each next file satisfies
   * IsContiguous with the TXID reached so far (overlap allowed, never a gap), and the last
   * `maxTXID === target`. Applying them in order, newest page wins, truncated to the last file's
   * commit, gives the database at `target` (how Litestream's restore runs the Compactor).
   */
  | { ok: true; files: PlanFile[] }
  /**
   * - `empty`: no files at all.
   * - `before-oldest`: `target` < `oldest` (= oldestRestorable), i.e. older than retention.
   * - `not-exact`: `target` is inside a file that starts at a reachable TXID (its changes are
   *   merged with later ones), or past every file; `nearest` = the greatest TXID below `target`
   *   that a plan reaches exactly.
   * - `gap`: the catalog has a hole: no snapshot at all (no `nearest`), or nothing continues from
   *   `nearest` while later files exist.
   */
  | { ok: false; reason: 'before-oldest' | 'not-exact' | 'gap' | 'empty'; oldest?: bigint; nearest?: bigint };

/** Any file with MinTXID 1 starts from an empty database (ltx `IsSnapshot`), whatever its level. */
function isSnapshotFile(f: PlanFile): boolean {
  return f.minTXID === 1n;
}

/**
 * The smallest TXID some plan reaches exactly: every plan starts with a snapshot, so this is the
 * smallest MaxTXID among files with MinTXID 1. Undefined when there is no snapshot.
 */
export function oldestRestorable(files: readonly PlanFile[]): bigint | undefined {
  let oldest: bigint | undefined;
  for (const f of files) if (isSnapshotFile(f) && (oldest === undefined || f.maxTXID < oldest)) oldest = f.maxTXID;
  return oldest;
}

/**
 * The TXID of the state "as of" `atMs`: the largest MaxTXID among files whose header timestamp is
 * ≤ `atMs` (ms since the epoch); undefined when every file is newer. Callers then plan that TXID.
 * A snapshot's timestamp can be later than its last transaction, so this errs towards older states.
 */
export function txidAtTime(files: readonly PlanFile[], atMs: number): bigint | undefined {
  let txid: bigint | undefined;
  for (const f of files) if (f.timestamp <= atMs && (txid === undefined || f.maxTXID > txid)) txid = f.maxTXID;
  return txid;
}

/**
 * Litestream's restore rule (`CalcRestorePlan` + `restoreCandidateBetter`): from TXID p, among the
 * files with MaxTXID ≤ target that continue p (MinTXID ≤ p+1, MaxTXID > p), take the one reaching
 * furthest; ties: smaller MinTXID, then higher level (8 before 0), then older. Litestream starts
 * with the latest L9 snapshot; here any MinTXID-1 file is a snapshot, so the first step (from p = 0)
 * picks the snapshot reaching furthest at any level. O(n log n).
 */
export function planGreedy(files: readonly PlanFile[], target: bigint): PlanResult {
  const pre = precheck(files, target);
  if (pre) return pre;
  const walk = greedyWalk(files, target);
  return walk.reached === target ? { ok: true, files: walk.path } : failure(files, walk.reached);
}

/**
 * The plan with the fewest files; ties: fewer total bytes, then deterministically (higher level,
 * smaller MinTXID, older, smaller, and a later predecessor TXID). A shortest path over TXID
 * positions with files as edges, in O(n log n) (see `shortestPath`).
 */
export function planFewest(files: readonly PlanFile[], target: bigint): PlanResult {
  const pre = precheck(files, target);
  if (pre) return pre;
  const path = shortestPath(files, target);
  return path ? { ok: true, files: path } : failure(files, greedyWalk(files, target).reached);
}

/** The plan reads use: `planFewest`. */
export function planRestore(files: readonly PlanFile[], target: bigint): PlanResult {
  return planFewest(files, target);
}

function precheck(files: readonly PlanFile[], target: bigint): PlanResult | undefined {
  if (files.length === 0) return { ok: false, reason: 'empty' };
  const oldest = oldestRestorable(files);
  if (oldest === undefined) return { ok: false, reason: 'gap' };
  if (target < oldest) return { ok: false, reason: 'before-oldest', oldest };
  return undefined;
}

/**
 * Classifies a failed plan. `reached` = the greatest TXID ≤ target a plan reaches exactly (the
 * greedy walk's end: reaching furthest at each step is never worse, by the interval-cover exchange
 * argument, so greedy gets there whenever any plan does).
 */
function failure(files: readonly PlanFile[], reached: bigint): PlanResult {
  let continues = false;
  let later = false;
  for (const f of files) {
    if (f.maxTXID > reached) {
      later = true;
      // Continues `reached` yet was not usable, so it reaches past the target: target is inside it.
      if (f.minTXID <= reached + 1n) continues = true;
    }
  }
  if (continues || !later) return { ok: false, reason: 'not-exact', nearest: reached };
  return { ok: false, reason: 'gap', nearest: reached };
}

/** True when `a` is Litestream's better next file than `b` (restoreCandidateBetter). */
function greedyBetter(a: PlanFile, b: PlanFile): boolean {
  if (a.maxTXID !== b.maxTXID) return a.maxTXID > b.maxTXID;
  if (a.minTXID !== b.minTXID) return a.minTXID < b.minTXID;
  if (a.level !== b.level) return a.level > b.level;
  return a.timestamp < b.timestamp;
}

/**
 * Greedy walk from 0 towards `target`: files sorted by MinTXID enter the candidate set once they
 * can continue the position (MinTXID ≤ p+1), which only grows as p does, so one sweep suffices.
 */
function greedyWalk(files: readonly PlanFile[], target: bigint): { path: PlanFile[]; reached: bigint } {
  const usable = files.filter((f) => f.maxTXID <= target).sort((a, b) => cmpBig(a.minTXID, b.minTXID));
  const path: PlanFile[] = [];
  let p = 0n;
  let i = 0;
  let best: PlanFile | undefined;
  while (p < target) {
    for (; i < usable.length && usable[i].minTXID <= p + 1n; i++) {
      if (best === undefined || greedyBetter(usable[i], best)) best = usable[i];
    }
    if (best === undefined || best.maxTXID <= p) break;
    path.push(best);
    p = best.maxTXID;
  }
  return { path, reached: p };
}

/** Deterministic preference between files that give equal (count, bytes) at the same MaxTXID. */
function fileOrder(a: PlanFile, b: PlanFile): number {
  return b.level - a.level || cmpBig(a.minTXID, b.minTXID) || a.timestamp - b.timestamp || a.size - b.size;
}

/**
 * Shortest path by (files, bytes), lexicographic. Nodes are 0 and the distinct MaxTXIDs ≤ target; a
 * file [min, max] is an edge from every node u with min-1 ≤ u < max to max. Nodes are settled in
 * ascending TXID (edges only go forward), and the best predecessor for a file is a range-minimum
 * over the settled nodes with TXID ≥ min-1 — always a suffix — answered from a stack whose TXIDs
 * and costs both strictly increase (a newer node with a cost ≤ an older one's dominates it for every
 * later suffix), by binary search.
 */
function shortestPath(files: readonly PlanFile[], target: bigint): PlanFile[] | undefined {
  const usable = files.filter((f) => f.maxTXID <= target).sort((a, b) => cmpBig(a.maxTXID, b.maxTXID) || fileOrder(a, b));
  // Settled nodes, by index: TXID, cost, and the file + predecessor that reached it.
  const pos: bigint[] = [0n];
  const count: number[] = [0];
  const bytes: number[] = [0];
  const via: (PlanFile | undefined)[] = [undefined];
  const prev: number[] = [-1];
  const stack: number[] = [0];

  for (let i = 0; i < usable.length; ) {
    const v = usable[i].maxTXID;
    let bestFile: PlanFile | undefined;
    let bestPrev = -1;
    let bestCount = 0;
    let bestBytes = 0;
    for (; i < usable.length && usable[i].maxTXID === v; i++) {
      const f = usable[i];
      const j = lowerBound(stack, pos, f.minTXID - 1n);
      if (j === stack.length) continue;
      const u = stack[j];
      const c = count[u] + 1;
      const b = bytes[u] + f.size;
      // Strictly better only: the group is sorted by fileOrder, so the first of equals wins.
      if (bestFile === undefined || c < bestCount || (c === bestCount && b < bestBytes)) {
        bestFile = f;
        bestPrev = u;
        bestCount = c;
        bestBytes = b;
      }
    }
    if (bestFile === undefined) continue;
    const node = pos.length;
    pos.push(v);
    count.push(bestCount);
    bytes.push(bestBytes);
    via.push(bestFile);
    prev.push(bestPrev);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (count[top] < bestCount || (count[top] === bestCount && bytes[top] < bestBytes)) break;
      stack.pop();
    }
    stack.push(node);
  }

  const last = pos.length - 1;
  if (pos[last] !== target || last === 0) return undefined;
  const path: PlanFile[] = [];
  for (let n = last; n > 0; n = prev[n]) path.push(via[n] as PlanFile);
  return path.reverse();
}

/** First index into `stack` whose node TXID is ≥ `s` (stack TXIDs ascend). */
function lowerBound(stack: readonly number[], pos: readonly bigint[], s: bigint): number {
  let lo = 0;
  let hi = stack.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pos[stack[mid]] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
