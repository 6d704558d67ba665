// Restore planner: table-driven catalogs (Litestream-like levels, overlaps, gaps, holes), time lookup, and 20k-file catalogs.
import { describe, expect, it } from 'vitest';
import {
  type PlanFile,
  type PlanResult,
  oldestRestorable,
  planFewest,
  planGreedy,
  planRestore,
  txidAtTime,
} from '../../../src/replication/restore-plan.ts';

/** A file `L<level> [min,max]`; size and timestamp default to something plausible. */
function f(level: number, min: number, max: number, size = 1000, timestamp = max * 1000): PlanFile {
  return { level, minTXID: BigInt(min), maxTXID: BigInt(max), size, timestamp };
}

/** L0 files [from], [from+1], … [to]. */
function l0(from: number, to: number): PlanFile[] {
  const out: PlanFile[] = [];
  for (let t = from; t <= to; t++) out.push(f(0, t, t, 100));
  return out;
}

/** Plans as `L<level>:<min>-<max>` for readable expectations. */
function names(r: PlanResult): string[] | PlanResult {
  return r.ok ? r.files.map((x) => `L${x.level}:${x.minTXID}-${x.maxTXID}`) : r;
}

/** The shape every successful plan must have. */
function expectWellFormed(r: PlanResult, target: bigint): void {
  if (!r.ok) return;
  expect(r.files[0].minTXID).toBe(1n);
  expect(r.files[r.files.length - 1].maxTXID).toBe(target);
  let p = 0n;
  for (const x of r.files) {
    expect(x.maxTXID <= target).toBe(true);
    expect(x.minTXID <= p + 1n && x.maxTXID > p).toBe(true);
    p = x.maxTXID;
  }
}

// Like a Litestream replica a while after start: daily snapshot, hourly L3, 5-min L2, L1, recent L0.
const litestream: PlanFile[] = [
  f(9, 1, 100, 50_000),
  f(3, 1, 60, 40_000),
  f(3, 61, 90, 9_000),
  f(2, 91, 95, 2_000),
  f(2, 96, 100, 2_000),
  f(1, 91, 105, 3_000),
  ...l0(101, 110),
];

interface Case {
  name: string;
  files: PlanFile[];
  target: number;
  greedy: string[] | PlanResult;
  /** Defaults to `greedy`. */
  fewest?: string[] | PlanResult;
}

const cases: Case[] = [
  { name: 'empty catalog', files: [], target: 5, greedy: { ok: false, reason: 'empty' } },
  { name: 'target = snapshot', files: litestream, target: 100, greedy: ['L9:1-100'] },
  { name: 'snapshot too new: compacted levels', files: litestream, target: 90, greedy: ['L3:1-60', 'L3:61-90'] },
  { name: 'L3 then L2', files: litestream, target: 95, greedy: ['L3:1-60', 'L3:61-90', 'L2:91-95'] },
  { name: 'L1 overlapping the snapshot', files: litestream, target: 105, greedy: ['L9:1-100', 'L1:91-105'] },
  {
    name: 'L1 too new: L0 after the snapshot',
    files: litestream,
    target: 103,
    greedy: ['L9:1-100', 'L0:101-101', 'L0:102-102', 'L0:103-103'],
  },
  {
    name: 'snapshot, L1, then L0 to the head',
    files: litestream,
    target: 110,
    greedy: ['L9:1-100', 'L1:91-105', 'L0:106-106', 'L0:107-107', 'L0:108-108', 'L0:109-109', 'L0:110-110'],
  },
  { name: 'before the oldest snapshot', files: litestream, target: 59, greedy: { ok: false, reason: 'before-oldest', oldest: 60n } },
  { name: 'TXID 0', files: litestream, target: 0, greedy: { ok: false, reason: 'before-oldest', oldest: 60n } },
  {
    name: 'inside L2 91-95 (only L1/L2 continue 90)',
    files: litestream,
    target: 93,
    greedy: { ok: false, reason: 'not-exact', nearest: 90n },
  },
  { name: 'inside L3 61-90', files: litestream, target: 75, greedy: { ok: false, reason: 'not-exact', nearest: 60n } },
  { name: 'past the head', files: litestream, target: 111, greedy: { ok: false, reason: 'not-exact', nearest: 110n } },
  { name: 'no snapshot at all', files: l0(5, 9), target: 9, greedy: { ok: false, reason: 'gap' } },
  {
    name: 'hole in L0',
    files: [f(9, 1, 10), ...l0(11, 11), ...l0(13, 14)],
    target: 14,
    greedy: { ok: false, reason: 'gap', nearest: 11n },
  },
  {
    name: 'target in the hole',
    files: [f(9, 1, 10), ...l0(11, 11), ...l0(13, 14)],
    target: 12,
    greedy: { ok: false, reason: 'gap', nearest: 11n },
  },
  { name: 'before the hole', files: [f(9, 1, 10), ...l0(11, 11), ...l0(13, 14)], target: 11, greedy: ['L9:1-10', 'L0:11-11'] },
  { name: 'pushed snapshot at L0', files: [f(0, 1, 5), ...l0(6, 7)], target: 7, greedy: ['L0:1-5', 'L0:6-6', 'L0:7-7'] },
  {
    name: 'inside a pushed snapshot',
    files: [f(0, 1, 5), ...l0(6, 7)],
    target: 3,
    greedy: { ok: false, reason: 'before-oldest', oldest: 5n },
  },
  {
    name: 'multi-TXID L0 batch',
    files: [f(9, 1, 10), f(0, 11, 15), f(0, 16, 16)],
    target: 16,
    greedy: ['L9:1-10', 'L0:11-15', 'L0:16-16'],
  },
  {
    name: 'inside a multi-TXID batch',
    files: [f(9, 1, 10), f(0, 11, 15), f(0, 16, 16)],
    target: 12,
    greedy: { ok: false, reason: 'not-exact', nearest: 10n },
  },
  {
    name: 'level with holes filled by L0',
    files: [f(1, 1, 10), f(1, 21, 30), ...l0(1, 30)],
    target: 30,
    greedy: ['L1:1-10', ...l0(11, 20).map((x) => `L0:${x.minTXID}-${x.maxTXID}`), 'L1:21-30'],
  },
  {
    name: 'a compaction with MinTXID 1 is a snapshot',
    files: [f(9, 1, 50), f(3, 1, 90), ...l0(51, 95)],
    target: 95,
    greedy: ['L3:1-90', 'L0:91-91', 'L0:92-92', 'L0:93-93', 'L0:94-94', 'L0:95-95'],
  },
  {
    name: 'two snapshots: the older one when the newer is past the target',
    files: [f(9, 1, 50), f(9, 1, 100), ...l0(51, 60)],
    target: 52,
    greedy: ['L9:1-50', 'L0:51-51', 'L0:52-52'],
  },
  {
    name: 'equal ranges: the higher level',
    files: [f(9, 1, 10, 500), f(2, 11, 20), f(1, 11, 20)],
    target: 20,
    greedy: ['L9:1-10', 'L2:11-20'],
  },
  {
    name: 'equal reach: the smaller MinTXID first (Litestream)',
    files: [f(9, 1, 10), f(1, 5, 20, 900), f(2, 11, 20, 100)],
    target: 20,
    greedy: ['L9:1-10', 'L1:5-20'],
    fewest: ['L9:1-10', 'L2:11-20'],
  },
  {
    name: 'same snapshot range: fewer bytes',
    files: [f(9, 1, 10, 1000), f(3, 1, 10, 100)],
    target: 10,
    greedy: ['L9:1-10'],
    fewest: ['L3:1-10'],
  },
  {
    name: 'reaching furthest first can cost more bytes',
    files: [f(9, 1, 10, 100), f(2, 1, 12, 1000), f(1, 11, 20, 50)],
    target: 20,
    greedy: ['L2:1-12', 'L1:11-20'],
    fewest: ['L9:1-10', 'L1:11-20'],
  },
  {
    name: 'fewer files beat fewer bytes',
    files: [f(9, 1, 10, 100), ...l0(11, 12), f(1, 11, 12, 10_000)],
    target: 12,
    greedy: ['L9:1-10', 'L1:11-12'],
  },
];

describe('planGreedy / planFewest: table', () => {
  for (const c of cases) {
    it(c.name, () => {
      const target = BigInt(c.target);
      const g = planGreedy(c.files, target);
      const w = planFewest(c.files, target);
      expect(names(g)).toEqual(c.greedy);
      expect(names(w)).toEqual(c.fewest ?? c.greedy);
      expect(planRestore(c.files, target)).toEqual(w);
      expectWellFormed(g, target);
      expectWellFormed(w, target);
      // Input order never matters.
      const reversed = [...c.files].reverse();
      expect(planGreedy(reversed, target)).toEqual(g);
      expect(planFewest(reversed, target)).toEqual(w);
    });
  }
});

describe('oldestRestorable', () => {
  it('is the smallest MaxTXID among MinTXID-1 files at any level', () => {
    expect(oldestRestorable(litestream)).toBe(60n);
    expect(oldestRestorable([f(9, 1, 100), f(0, 1, 7), ...l0(8, 9)])).toBe(7n);
    expect(oldestRestorable(l0(2, 9))).toBeUndefined();
    expect(oldestRestorable([])).toBeUndefined();
  });
});

describe('txidAtTime', () => {
  const files = [f(9, 1, 10, 1, 10_000), f(0, 11, 11, 1, 11_000), f(0, 12, 12, 1, 12_000), f(1, 11, 12, 1, 12_000)];
  const table: [string, number, bigint | undefined][] = [
    ['before every file', 9_999, undefined],
    ['exactly a snapshot timestamp', 10_000, 10n],
    ['between two transactions', 11_500, 11n],
    ['exactly the newest', 12_000, 12n],
    ['long after', 1e15, 12n],
  ];
  for (const [name, at, want] of table) it(name, () => expect(txidAtTime(files, at)).toBe(want));
  it('no files', () => expect(txidAtTime([], 1)).toBeUndefined());
});

describe('large catalogs', () => {
  // A month of L0 before compaction: ~20k files, plus levels that overlap them. Timing is not
  // asserted; an O(n²) planner would take tens of seconds here and trip the test timeout.
  const n = 20_000;
  const files: PlanFile[] = [f(9, 1, 1, 4096)];
  for (let t = 2; t <= n; t++) files.push(f(0, t, t, 100));
  for (let t = 1; t + 29 <= n; t += 30) files.push(f(1, t, t + 29, 2000));
  for (let t = 1; t + 299 <= n; t += 300) files.push(f(2, t, t + 299, 9000));
  for (let t = 1; t + 3599 <= n; t += 3600) files.push(f(3, t, t + 3599, 30_000));

  it('plans every planner at several targets', () => {
    for (const target of [1n, 2n, 777n, 3600n, 10_001n, 19_999n, BigInt(n)]) {
      const g = planGreedy(files, target);
      const w = planFewest(files, target);
      expect(g.ok && w.ok).toBe(true);
      expectWellFormed(g, target);
      expectWellFormed(w, target);
      if (g.ok && w.ok) expect(w.files.length).toBeLessThanOrEqual(g.files.length);
    }
    const head = planFewest(files, BigInt(n));
    // 5 × L3 (to 18000), 6 × L2 (to 19800), 6 × L1 (to 19980), 20 × L0.
    expect(head.ok && head.files.length).toBe(5 + 6 + 6 + 20);
  });

  it('a chain of 20k L0 files with no compaction', () => {
    const chain = [f(0, 1, 1), ...l0(2, n)];
    const w = planFewest(chain, BigInt(n));
    expect(w.ok && w.files.length).toBe(n);
    const g = planGreedy(chain, BigInt(n));
    expect(g.ok && g.files.length).toBe(n);
  });
});
