// Maintenance planner: compaction boundaries with a fake clock, snapshots, each retention rule, read grace, level checks, 50k-file speed.
import { describe, expect, it } from 'vitest';
import {
  type CatalogEntry,
  type MaintenanceConfig,
  checkLevelConsistency,
  nextMaintenanceDue,
  planMaintenance,
} from '../../../src/replication/maintenance.ts';
import { planRestore } from '../../../src/replication/restore-plan.ts';
import { mulberry32 } from '../../../src/storage/prng.ts';
import { CatalogModel, DAY, DEFAULTS, HOUR, MINUTE, T0, describeAction, file } from '../../helpers/maintenance-model.ts';

function plan(files: CatalogEntry[], head: number | bigint, now: number, cfg: MaintenanceConfig = DEFAULTS): string[] {
  return planMaintenance(files, BigInt(head), now, cfg).map(describeAction);
}

/** Applies the plan at `now` and checks the head stays restorable and every level contiguous. */
function tick(m: CatalogModel, now: number, cfg: MaintenanceConfig = DEFAULTS): string[] {
  const actions = planMaintenance(m.list(), m.head, now, cfg);
  m.apply(actions, now);
  expect(planRestore(m.list(), m.head).ok).toBe(true);
  expect(checkLevelConsistency(m.list())).toEqual([]);
  return actions.map(describeAction);
}

describe('compaction on a fake clock', () => {
  it('1,000 L0 files over 20 minutes: L1 every minute, L2 every 5 minutes, the first snapshot at once, L0 kept 5 minutes', () => {
    const m = new CatalogModel();
    const pushAt = (i: number): number => T0 + 600 + i * 1200; // 50 pushes per minute, TXIDs 1..1000
    let pushed = 0;
    const got: Record<number, string[]> = {};
    for (let minute = 1; minute <= 20; minute++) {
      const now = T0 + minute * MINUTE + 100;
      while (pushed < 1000 && pushAt(pushed) < now) m.push(pushAt(pushed++));
      got[minute] = tick(m, now);
    }
    const l1 = (k: number): string => `compact L1 ${50 * k - 49}-${50 * k}`;
    const l0Gone = (k: number): string => `delete l0-retention L0 ${50 * k - 49}-${50 * k} (50)`;
    const want: Record<number, string[]> = {
      1: [l1(1), 'snapshot 50'],
      2: [l1(2)],
      3: [l1(3)],
      4: [l1(4)],
      // L2 waits for the 5-minute boundary (never compacted before), then takes the minute L1 compacts now.
      5: [l1(5), 'compact L2 1-250'],
      // The first L0 minute is 5 minutes old and L1 has covered it for more than the grace.
      6: [l1(6), l0Gone(1)],
    };
    for (let k = 7; k <= 20; k++)
      want[k] = k % 5 === 0 ? [l1(k), `compact L2 ${250 * (k / 5) - 249}-${250 * (k / 5)}`, l0Gone(k - 5)] : [l1(k), l0Gone(k - 5)];
    expect(got).toEqual(want);
    // No L3 within the first hour; the day's snapshot is not due again.
    expect(m.list().filter((f) => f.level === 3)).toEqual([]);
    // Next: the oldest L0 file left (TXID 751, pushed at 15:00.6) turns 5 minutes old.
    expect(nextMaintenanceDue(m.list(), m.head, T0 + 20 * MINUTE + 100, DEFAULTS)).toBe(T0 + 20 * MINUTE + 600);
  });

  it('an hour of pushes: L3 at the hour takes the L2 and L1 compacted at the same tick', () => {
    const m = new CatalogModel();
    const got: string[][] = [];
    for (let minute = 1; minute <= 60; minute++) {
      const now = T0 + minute * MINUTE + 100;
      m.push(now - 40_000, 5); // two batches of 5 transactions per minute
      m.push(now - 20_000, 5);
      got.push(tick(m, now));
    }
    expect(got[58].filter((a) => a.startsWith('compact'))).toEqual(['compact L1 581-590']);
    expect(got[59].filter((a) => a.startsWith('compact'))).toEqual(['compact L1 591-600', 'compact L2 551-600', 'compact L3 1-600']);
  });

  const cases: { name: string; files: CatalogEntry[]; head: number; now: number; want: string[] }[] = [
    {
      name: 'too early: L1 was compacted after the last minute boundary',
      files: [
        file(1, 1, 10, T0 + MINUTE + 100),
        file(0, 11, 11, T0 + MINUTE + 5_000),
        file(0, 12, 12, T0 + MINUTE + 6_000),
        file(9, 1, 10, T0 + 100),
      ],
      head: 12,
      now: T0 + 2 * MINUTE - 1,
      want: [],
    },
    {
      name: 'due: the next minute boundary has passed',
      files: [
        file(1, 1, 10, T0 + MINUTE + 100),
        file(0, 11, 11, T0 + MINUTE + 5_000),
        file(0, 12, 12, T0 + MINUTE + 6_000),
        file(9, 1, 10, T0 + 100),
      ],
      head: 12,
      now: T0 + 2 * MINUTE,
      want: ['compact L1 11-12'],
    },
    {
      name: 'too early: a level never compacted waits for the boundary after its oldest input',
      files: [file(1, 1, 10, T0 + MINUTE), file(1, 11, 20, T0 + 2 * MINUTE), file(9, 1, 20, T0 + 2 * MINUTE + 1)],
      head: 20,
      now: T0 + 5 * MINUTE - 1,
      want: [],
    },
    {
      name: 'nothing to compact: every L0 file is in L1',
      files: [file(0, 1, 1, T0 + 1_000), file(0, 2, 2, T0 + 2_000), file(1, 1, 2, T0 + MINUTE), file(9, 1, 2, T0 + MINUTE)],
      head: 2,
      now: T0 + 3 * MINUTE,
      want: [],
    },
    {
      name: 'nothing to compact: a single new file waits for a second one',
      files: [file(1, 1, 10, T0 + MINUTE), file(0, 11, 11, T0 + MINUTE + 1_000), file(9, 1, 10, T0 + MINUTE)],
      head: 11,
      now: T0 + 10 * MINUTE,
      want: [],
    },
    {
      name: 'a gap in the source cuts the run (and checkLevelConsistency reports it)',
      files: [file(0, 1, 1, T0), file(0, 2, 2, T0), file(0, 4, 4, T0), file(0, 5, 5, T0), file(9, 1, 5, T0)],
      head: 5,
      now: T0 + MINUTE,
      want: ['compact L1 1-2'],
    },
    {
      name: 'a source run starting past the level (history below it is gone) starts there, as Litestream seeks',
      files: [
        file(1, 1, 10, T0),
        file(0, 21, 21, T0 + 1_000),
        file(0, 22, 22, T0 + 2_000),
        file(9, 1, 30, T0),
        file(0, 23, 30, T0 + 3_000),
      ],
      head: 30,
      now: T0 + MINUTE,
      want: ['compact L1 21-30'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(plan(c.files, c.head, c.now)).toEqual(c.want);
    });
  }
});

describe('snapshots', () => {
  const base = [file(0, 1, 1, T0 + 1_000), file(0, 2, 2, T0 + 2_000)];
  const cases: { name: string; files: CatalogEntry[]; head: number; now: number; want: string[] }[] = [
    { name: 'none yet: at once', files: base, head: 2, now: T0 + 3_000, want: ['snapshot 2'] },
    {
      name: 'newest made yesterday, head beyond it: due at the day boundary',
      files: [file(9, 1, 1, T0 - HOUR), ...base],
      head: 2,
      now: T0 + 3_000,
      want: ['snapshot 2'],
    },
    {
      name: 'made after the last day boundary: too early',
      files: [file(9, 1, 1, T0 + 500), ...base],
      head: 2,
      now: T0 + DAY - 1,
      want: [],
    },
    { name: 'at the next day boundary', files: [file(9, 1, 1, T0 + 500), ...base], head: 2, now: T0 + DAY, want: ['snapshot 2'] },
    { name: 'head not beyond the newest snapshot', files: [file(9, 1, 2, T0 - DAY), ...base], head: 2, now: T0 + DAY, want: [] },
    {
      name: 'head not restorable (no file starts at 1): no snapshot, no deletion',
      files: [file(0, 2, 2, T0 - DAY), file(0, 3, 3, T0 - DAY)],
      head: 3,
      now: T0,
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(plan(c.files, c.head, c.now).filter((a) => !a.startsWith('compact'))).toEqual(c.want);
    });
  }
});

describe('retention', () => {
  // Two days of history: snapshots at day boundaries, hourly L1, L0 for the last few minutes.
  const cfg: MaintenanceConfig = { ...DEFAULTS, levelIntervalsMs: [HOUR, 6 * HOUR] };
  const now = T0 + 2 * DAY + 30 * MINUTE;

  const cases: { name: string; files: CatalogEntry[]; head: number; now: number; cfg?: MaintenanceConfig; want: string[] }[] = [
    {
      name: 'rule 1: a snapshot older than the retention goes once a newer one has had its grace; then rule 2 below the kept one',
      files: [
        file(9, 1, 100, T0 + 100),
        file(9, 1, 200, T0 + DAY + 100),
        file(1, 1, 100, T0 + 100),
        file(1, 101, 150, T0 + 12 * HOUR),
        file(1, 151, 200, T0 + DAY),
        file(1, 201, 210, T0 + DAY + HOUR),
        file(2, 1, 200, T0 + DAY),
        file(2, 201, 210, T0 + DAY + 6 * HOUR),
      ],
      head: 210,
      now: T0 + DAY + 100 + MINUTE,
      cfg: { ...cfg, levelIntervalsMs: [HOUR, 6 * HOUR, 24 * HOUR] },
      want: ['delete snapshot-retention L9 1-100 (1)', 'delete retention-by-txid L1 1-150 (2)'],
    },
    {
      name: 'rule 1 read grace: the newer snapshot is younger than the grace',
      files: [file(9, 1, 100, T0 + 100), file(9, 1, 200, T0 + DAY + 100), file(1, 1, 200, T0 + DAY)],
      head: 200,
      now: T0 + DAY + 100 + MINUTE - 1,
      want: [],
    },
    {
      name: 'rule 1: the only snapshot stays however old',
      files: [file(9, 1, 100, T0 - 30 * DAY), file(1, 1, 100, T0 - 30 * DAY)],
      head: 100,
      now,
      want: [],
    },
    {
      name: 'rule 2: below the oldest kept snapshot, each level keeps its last file, and L1 must be in L2 first',
      files: [
        file(9, 1, 300, T0 + DAY),
        file(1, 1, 100, T0 + HOUR),
        file(1, 101, 200, T0 + 2 * HOUR),
        file(1, 201, 250, T0 + 3 * HOUR),
        file(1, 251, 260, T0 + 4 * HOUR),
        file(2, 1, 200, T0 + 6 * HOUR),
        file(2, 201, 260, T0 + DAY - 1),
        file(1, 261, 320, T0 + DAY + HOUR),
      ],
      head: 320,
      now,
      // L1 201-250 is in L2 (≤ 260) and below 300; 251-260 too; L2 1-200 goes, L2 201-260 is the level's last.
      want: ['delete retention-by-txid L1,L2 1-260 (5)'],
    },
    {
      name: 'rule 2: files L2 has not compacted yet stay',
      files: [
        file(9, 1, 300, T0 + DAY),
        file(1, 1, 100, T0 + HOUR),
        file(1, 101, 200, T0 + 2 * HOUR),
        file(1, 201, 320, T0 + DAY + HOUR),
        file(2, 1, 100, T0 + 6 * HOUR),
      ],
      head: 320,
      now,
      want: ['delete retention-by-txid L1 1-100 (1)'],
    },
    {
      name: 'rule 2 read grace: the floor snapshot is younger than the grace',
      files: [
        file(9, 1, 300, now - MINUTE + 1),
        file(1, 1, 100, T0 + HOUR),
        file(1, 101, 300, T0 + 2 * HOUR),
        file(2, 1, 300, T0 + 6 * HOUR),
      ],
      head: 300,
      now,
      want: [],
    },
    {
      name: 'rule 3: L0 older than 5 minutes and covered by L1 goes, oldest first, stopping at the first that stays',
      files: [
        file(9, 1, 10, T0),
        file(1, 1, 13, now - 10 * MINUTE),
        file(0, 11, 11, now - 7 * MINUTE),
        file(0, 12, 12, now - 6 * MINUTE),
        file(0, 13, 13, now - 4 * MINUTE), // too young: stops here
        file(0, 14, 14, now - 3 * MINUTE),
      ],
      head: 14,
      now,
      want: ['delete l0-retention L0 11-12 (2)'],
    },
    {
      name: "rule 3: a file beyond L1's MaxTXID stays, and so does everything after it",
      files: [
        file(9, 1, 10, T0),
        file(1, 1, 11, now - 10 * MINUTE),
        file(0, 11, 11, now - 9 * MINUTE),
        file(0, 12, 12, now - 9 * MINUTE),
        file(0, 13, 13, now - 8 * MINUTE),
      ],
      head: 13,
      now,
      want: ['delete l0-retention L0 11-11 (1)'],
    },
    {
      name: 'rule 3: the newest L0 file stays even when covered',
      files: [file(9, 1, 10, T0), file(1, 1, 12, now - 10 * MINUTE), file(0, 11, 11, now - 9 * MINUTE), file(0, 12, 12, now - 9 * MINUTE)],
      head: 12,
      now,
      want: ['delete l0-retention L0 11-11 (1)'],
    },
    {
      name: 'rule 3 read grace: the L1 file covering it is younger than the grace',
      files: [
        file(9, 1, 10, T0),
        file(1, 1, 12, now - MINUTE + 1),
        file(0, 11, 11, now - 9 * MINUTE),
        file(0, 12, 12, now - 9 * MINUTE),
        file(0, 13, 13, now - 9 * MINUTE),
      ],
      head: 13,
      now,
      want: [],
    },
    {
      name: 'rule 3 with retention 0: as soon as covered (after the grace)',
      files: [
        file(9, 1, 10, T0),
        file(1, 1, 12, now - MINUTE),
        file(0, 11, 11, now - 2_000),
        file(0, 12, 12, now - 1_000),
        file(0, 13, 13, now - 500),
      ],
      head: 13,
      now,
      cfg: { ...cfg, l0RetentionMs: 0 },
      want: ['delete l0-retention L0 11-12 (2)'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const config = c.cfg ?? cfg;
      const actions = planMaintenance(c.files, BigInt(c.head), c.now, config);
      expect(actions.filter((a) => a.kind === 'delete').map(describeAction)).toEqual(c.want);
      // Deletions keep the head restorable and the levels contiguous.
      const gone = new Set(actions.flatMap((a) => (a.kind === 'delete' ? a.files.map((f) => `${f.level}/${f.minTXID}-${f.maxTXID}`) : [])));
      const after = c.files.filter((f) => !gone.has(`${f.level}/${f.minTXID}-${f.maxTXID}`));
      expect(planRestore(after, BigInt(c.head)).ok).toBe(true);
      expect(checkLevelConsistency(after)).toEqual(checkLevelConsistency(c.files));
    });
  }

  it('last guard: L0 files "covered" by L1\'s MaxTXID but inside an L1 gap stay (the head needs them)', () => {
    // An adopted replica whose L1 has a hole at 11..19: Litestream's rule 3 would delete L0 11..19.
    const old = T0 - DAY;
    const files = [
      file(9, 1, 5, T0 + HOUR),
      file(1, 1, 10, old),
      file(1, 20, 30, old),
      ...Array.from({ length: 9 }, (_, i) => file(0, 11 + i, 11 + i, old)),
      file(0, 20, 30, old),
      file(0, 31, 31, old),
    ];
    expect(planRestore(files, 31n).ok).toBe(true);
    expect(planMaintenance(files, 31n, T0 + 2 * HOUR, cfg)).toEqual([]);
    // Not due again until the day's snapshot: the blocked deletions are no reason to come back.
    expect(nextMaintenanceDue(files, 31n, T0 + 2 * HOUR, cfg)).toBe(T0 + DAY);
    expect(checkLevelConsistency(files)).toEqual([{ level: 1, problem: 'gap', between: [10n, 20n] }]);
  });
});

describe('nextMaintenanceDue', () => {
  it('undefined for an idle, fully maintained database; a boundary after new writes; now when due', () => {
    const m = new CatalogModel();
    for (let i = 0; i < 10; i++) m.push(T0 + 1_000 * (i + 1));
    for (let minute = 1; minute <= 120; minute++) tick(m, T0 + minute * MINUTE);
    const idle = T0 + 121 * MINUTE;
    // The newest L0 file and the levels' last files stay; a snapshot exists at the head.
    expect(nextMaintenanceDue(m.list(), m.head, idle, DEFAULTS)).toBeUndefined();
    m.push(idle + 5_000);
    m.push(idle + 6_000);
    // L0 10 is no longer the newest L0 file: rule 3 may take it at once.
    expect(nextMaintenanceDue(m.list(), m.head, idle + 7_000, DEFAULTS)).toBe(idle + 7_000);
    expect(tick(m, idle + 7_000)).toEqual(['delete l0-retention L0 10-10 (1)']);
    // Then L1 at the next minute boundary (the two new files), and the snapshot at the next day boundary.
    expect(nextMaintenanceDue(m.list(), m.head, idle + 8_000, DEFAULTS)).toBe(T0 + 122 * MINUTE);
    expect(tick(m, T0 + 122 * MINUTE)).toEqual(['compact L1 11-12']);
    // L2 takes L1 1-10 and 11-12 at the next 5-minute boundary (two files since 122:00).
    expect(nextMaintenanceDue(m.list(), m.head, T0 + 122 * MINUTE + 1_000, DEFAULTS)).toBe(T0 + 125 * MINUTE);
    expect(tick(m, T0 + 125 * MINUTE)).toEqual(['compact L2 1-12']);
  });

  it('agrees with planMaintenance: empty before the due time, something at it', () => {
    const m = new CatalogModel();
    const counts = { future: 0, idle: 0 };
    for (let minute = 1; minute <= 3 * 24 * 60; minute += 7) {
      // Bursts with pauses, so some passes end idle.
      if (minute % 200 < 120) for (let s = 0; s < 7 * 60; s += 13) m.push(T0 + (minute - 1) * MINUTE + s * 1000, 3);
      const now = T0 + (minute + 6) * MINUTE + 777;
      m.apply(planMaintenance(m.list(), m.head, now, DEFAULTS), now);
      const after = now + 1_000;
      const due = nextMaintenanceDue(m.list(), m.head, after, DEFAULTS);
      const actions = planMaintenance(m.list(), m.head, after, DEFAULTS);
      if (due === undefined) {
        expect(actions).toEqual([]);
        expect(planMaintenance(m.list(), m.head, after + 365 * DAY, DEFAULTS)).toEqual([]);
        counts.idle++;
      } else if (due === after) {
        expect(actions.length).toBeGreaterThan(0);
      } else {
        expect(due).toBeGreaterThan(after);
        expect(actions).toEqual([]);
        expect(planMaintenance(m.list(), m.head, due - 1, DEFAULTS)).toEqual([]);
        expect(planMaintenance(m.list(), m.head, due, DEFAULTS).length).toBeGreaterThan(0);
        counts.future++;
      }
    }
    expect(counts.future).toBeGreaterThan(100);
  });
});

describe('checkLevelConsistency', () => {
  it('lists gaps and overlaps per level 0..8, not snapshots', () => {
    const files = [
      file(0, 5, 5, T0),
      file(0, 7, 7, T0),
      file(1, 1, 10, T0),
      file(1, 8, 20, T0),
      file(1, 21, 30, T0),
      file(2, 1, 30, T0),
      file(9, 1, 10, T0),
      file(9, 1, 30, T0),
    ];
    expect(checkLevelConsistency(files)).toEqual([
      { level: 0, problem: 'gap', between: [5n, 7n] },
      { level: 1, problem: 'overlap', between: [10n, 8n] },
    ]);
    expect(checkLevelConsistency([])).toEqual([]);
  });
});

describe('speed', () => {
  it('plans a 50,000-file catalog in well under 100 ms', () => {
    // A month of hourly L1 would be 720 files; take 40,000 L1 + 8,000 L2 + 2,000 L0 and 2 snapshots.
    const files: CatalogEntry[] = [];
    const now = T0 + 60 * DAY;
    let txid = 0;
    const l1: CatalogEntry[] = [];
    for (let i = 0; i < 40_000; i++) {
      l1.push(file(1, txid + 1, txid + 10, now - (40_000 - i) * MINUTE));
      txid += 10;
    }
    for (let i = 0; i < 8_000; i++) files.push(file(2, i * 50 + 1, i * 50 + 50, now - (8_000 - i) * 5 * MINUTE));
    files.push(...l1);
    for (let i = 0; i < 2_000; i++) files.push(file(0, txid + 1 + i, txid + 1 + i, now - (2_000 - i) * 100));
    files.push(file(9, 1, 200_000, now - 2 * DAY), file(9, 1, 350_000, now - DAY / 2));
    const head = BigInt(txid + 2_000);
    // Shuffled too: the planner must not rely on order.
    const rand = mulberry32(7);
    const shuffled = [...files];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    for (const input of [files, shuffled]) {
      let planMs = Infinity;
      let dueMs = Infinity;
      let actions = planMaintenance(input, head, now, DEFAULTS);
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        actions = planMaintenance(input, head, now, DEFAULTS);
        const mid = performance.now();
        nextMaintenanceDue(input, head, now, DEFAULTS);
        planMs = Math.min(planMs, mid - start);
        dueMs = Math.min(dueMs, performance.now() - mid);
      }
      const order = input === files ? 'sorted' : 'shuffled';
      console.log(
        `${input.length} files (${order}): planMaintenance ${planMs.toFixed(1)} ms, nextMaintenanceDue ${dueMs.toFixed(1)} ms, ${actions.length} actions`,
      );
      expect(planMs).toBeLessThan(100);
      expect(dueMs).toBeLessThan(100);
      expect(actions.some((a) => a.kind === 'delete')).toBe(true);
    }
  });
});
