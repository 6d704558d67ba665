// Restore planner properties: random page histories, compactions and retention; plans applied page by page must give the model database.
import { describe, expect, it } from 'vitest';
import { type PlanFile, type PlanResult, oldestRestorable, planFewest, planGreedy } from '../../../src/replication/restore-plan.ts';
import { mulberry32 } from '../../../src/storage/prng.ts';

/** Reproduce a run with LTX_PLAN_SEED=<seed>. */
const SEED = process.env.LTX_PLAN_SEED !== undefined ? Number(process.env.LTX_PLAN_SEED) : (Date.now() % 2 ** 31) | 0;
const HISTORIES = 150;

/** A database state: page → version (the TXID that wrote it), and the size in pages. */
interface DbState {
  pages: Map<number, number>;
  commit: number;
}

/** An LTX file as page sets: what the Compactor would merge (ltx-format.md §11), no bytes. */
interface ModelFile extends PlanFile, DbState {}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/**
 * Transactions 1..n over a small database. TX 1 writes every page; a later one may shrink the
 * database or grow it (writing every new page, as SQLite does), and overwrites a few pages.
 */
function randomHistory(r: Rand, n: number): DbState[] {
  const txs: DbState[] = [{ pages: new Map(), commit: 0 }]; // index 0 unused
  let commit = 0;
  for (let t = 1; t <= n; t++) {
    const pages = new Map<number, number>();
    if (t === 1) {
      commit = int(r, 1, 8);
      for (let p = 1; p <= commit; p++) pages.set(p, t);
    } else {
      const x = r();
      if (x < 0.08 && commit > 1) commit = int(r, 1, commit - 1);
      else if (x < 0.2) {
        const grown = commit + int(r, 1, 3);
        for (let p = commit + 1; p <= grown; p++) pages.set(p, t);
        commit = grown;
      }
      for (let k = int(r, 0, 3); k > 0; k--) pages.set(int(r, 1, commit), t);
    }
    txs.push({ pages, commit });
  }
  return txs;
}

/** Newest wins, then truncate to the last commit: applying files, or merging transactions. */
function apply(parts: readonly DbState[]): DbState {
  const pages = new Map<number, number>();
  for (const p of parts) for (const [pgno, v] of p.pages) pages.set(pgno, v);
  const commit = parts[parts.length - 1].commit;
  for (const pgno of pages.keys()) if (pgno > commit) pages.delete(pgno);
  return { pages, commit };
}

function sorted(s: DbState): [number, [number, number][]] {
  return [s.commit, [...s.pages].sort((a, b) => a[0] - b[0])];
}

/** A file merging transactions min..max, like a compaction (or a snapshot when min = 1). */
function merged(txs: readonly DbState[], level: number, min: number, max: number): ModelFile {
  const st = apply(txs.slice(min, max + 1));
  return { level, minTXID: BigInt(min), maxTXID: BigInt(max), size: 64 + 100 * st.pages.size, timestamp: max * 1000, ...st };
}

/** Consecutive chunks of lo..hi TXIDs, starting at 1 or at a random later TXID. */
function chunks(r: Rand, n: number, lo: number, hi: number, start: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = start; a <= n; ) {
    const b = Math.min(n, a + int(r, lo, hi) - 1);
    out.push([a, b]);
    a = b + 1;
  }
  return out;
}

/** L0 batches, L1–L3 compactions, L9 snapshots, a few odd overlapping files, then retention. */
function randomCatalog(r: Rand, txs: readonly DbState[]): ModelFile[] {
  const n = txs.length - 1;
  const files: ModelFile[] = [];
  // L0: one file per batch of 1–3 transactions; sometimes the database began with a pushed snapshot.
  const firstBatch = r() < 0.3 ? int(r, 1, Math.min(6, n)) : 1;
  files.push(merged(txs, 0, 1, firstBatch));
  for (const [a, b] of chunks(r, n, 1, r() < 0.5 ? 1 : 3, firstBatch + 1)) files.push(merged(txs, 0, a, b));
  // L1–L3: each level contiguous in itself, from TXID 1 or starting later (compaction began later).
  const sizes: [number, number][] = [
    [2, 5],
    [4, 12],
    [10, 30],
  ];
  for (let level = 1; level <= 3; level++) {
    if (r() < 0.2) continue;
    const [lo, hi] = sizes[level - 1];
    for (const [a, b] of chunks(r, n, lo, hi, r() < 0.6 ? 1 : int(r, 1, n))) if (r() < 0.85) files.push(merged(txs, level, a, b));
  }
  // L9 snapshots at random TXIDs.
  for (let k = int(r, 0, 3); k > 0; k--) files.push(merged(txs, 9, 1, int(r, 1, n)));
  // Overlapping files at random levels (compactions run from odd starting points).
  for (let k = int(r, 0, 4); k > 0; k--) {
    const a = int(r, 1, n);
    files.push(merged(txs, int(r, 0, 8), a, int(r, a, Math.min(n, a + 15))));
  }
  // Retention: drop old L0 (covered or not), and rarely any file (holes).
  const l0Cutoff = r() < 0.5 ? int(r, 0, n) : 0;
  return files.filter((f) => !(f.level === 0 && Number(f.maxTXID) <= l0Cutoff && r() < 0.9) && r() > 0.03);
}

/** Oracle: every TXID a plan can end at exactly, by brute force over positions. */
function reachable(files: readonly PlanFile[], target: bigint): Set<bigint> {
  const usable = files.filter((f) => f.maxTXID <= target);
  const seen = new Set<bigint>([0n]);
  const queue: bigint[] = [0n];
  while (queue.length > 0) {
    const p = queue.pop() as bigint;
    for (const f of usable) {
      if (f.minTXID <= p + 1n && f.maxTXID > p && !seen.has(f.maxTXID)) {
        seen.add(f.maxTXID);
        queue.push(f.maxTXID);
      }
    }
  }
  seen.delete(0n);
  return seen;
}

/** Oracle: the least (files, bytes) of any plan to `target`, by an O(n²) DP. */
function bestCost(files: readonly PlanFile[], target: bigint): [number, number] | undefined {
  const usable = files.filter((f) => f.maxTXID <= target).sort((a, b) => (a.maxTXID < b.maxTXID ? -1 : a.maxTXID > b.maxTXID ? 1 : 0));
  const cost = new Map<bigint, [number, number]>([[0n, [0, 0]]]);
  const better = (a: [number, number], b: [number, number] | undefined) => b === undefined || a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  for (const f of usable) {
    for (const [p, c] of [...cost]) {
      if (f.minTXID <= p + 1n && p < f.maxTXID) {
        const cand: [number, number] = [c[0] + 1, c[1] + f.size];
        if (better(cand, cost.get(f.maxTXID))) cost.set(f.maxTXID, cand);
      }
    }
  }
  return target === 0n ? undefined : cost.get(target);
}

function checkPlan(r: PlanResult, target: bigint, model: DbState, ctx: string): void {
  if (!r.ok) return;
  expect(r.files[0].minTXID, ctx).toBe(1n);
  let p = 0n;
  for (const f of r.files) {
    expect(f.minTXID <= p + 1n && f.maxTXID > p && f.maxTXID <= target, ctx).toBe(true);
    p = f.maxTXID;
  }
  expect(p, ctx).toBe(target);
  expect(sorted(apply(r.files as ModelFile[])), ctx).toEqual(sorted(model));
}

describe(`restore plans over random histories (LTX_PLAN_SEED=${SEED})`, () => {
  it(`${HISTORIES} histories: both planners agree with the oracles and rebuild the model database`, () => {
    console.log(`restore-plan property seed: LTX_PLAN_SEED=${SEED}`);
    let planned = 0;
    let refused = 0;
    for (let h = 0; h < HISTORIES; h++) {
      const seed = (SEED + h * 7919) | 0;
      const r = mulberry32(seed);
      const txs = randomHistory(r, int(r, 1, 60));
      const files = randomCatalog(r, txs);
      // Shuffled: the planners must not rely on catalog order.
      for (let i = files.length - 1; i > 0; i--) {
        const j = int(r, 0, i);
        [files[i], files[j]] = [files[j], files[i]];
      }
      const n = txs.length - 1;
      const oldest = oldestRestorable(files);
      for (let t = 0; t <= n + 1; t++) {
        const target = BigInt(t);
        const ctx = `seed ${seed} target ${t}`;
        const g = planGreedy(files, target);
        const w = planFewest(files, target);
        const reach = reachable(files, target);
        expect(g.ok, ctx).toBe(reach.has(target));
        expect(w.ok, ctx).toBe(reach.has(target));
        if (g.ok && w.ok) {
          planned++;
          const model = t <= n ? apply(txs.slice(1, t + 1)) : undefined;
          expect(model, ctx).toBeDefined();
          checkPlan(g, target, model as DbState, `${ctx} greedy`);
          checkPlan(w, target, model as DbState, `${ctx} fewest`);
          expect(w.files.length, ctx).toBeLessThanOrEqual(g.files.length);
          // Reaching furthest first is already optimal in count (interval-cover exchange argument).
          expect(w.files.length, ctx).toBe(g.files.length);
          const bytes = w.files.reduce((s, f) => s + f.size, 0);
          expect([w.files.length, bytes], ctx).toEqual(bestCost(files, target));
        } else if (!g.ok && !w.ok) {
          refused++;
          expect(w, ctx).toEqual(g);
          const below = [...reach].filter((x) => x < target);
          const nearest = below.length > 0 ? below.reduce((a, b) => (a > b ? a : b)) : undefined;
          if (files.length === 0) expect(g.reason, ctx).toBe('empty');
          else if (oldest === undefined) expect(g.reason, ctx).toBe('gap');
          else if (target < oldest) expect(g, ctx).toEqual({ ok: false, reason: 'before-oldest', oldest });
          else {
            expect(['not-exact', 'gap'], ctx).toContain(g.reason);
            expect(g.nearest, ctx).toBe(nearest);
            // not-exact ⇔ some file continues `nearest` past the target, or nothing is later at all.
            const inside = files.some((f) => f.minTXID <= (nearest as bigint) + 1n && f.maxTXID > target);
            const later = files.some((f) => f.maxTXID > (nearest as bigint));
            expect(g.reason, ctx).toBe(inside || !later ? 'not-exact' : 'gap');
          }
        }
      }
    }
    // The generator must exercise both outcomes.
    expect(planned).toBeGreaterThan(HISTORIES * 5);
    expect(refused).toBeGreaterThan(HISTORIES);
  });
});
