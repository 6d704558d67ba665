// Maintenance simulation: a month of ~1 push/s with idle stretches, the planner's actions applied every minute, invariants after every tick.
import { describe, expect, it } from 'vitest';
import {
  type MaintenanceConfig,
  checkLevelConsistency,
  nextMaintenanceDue,
  planMaintenance,
} from '../../../src/replication/maintenance.ts';
import { oldestRestorable, planRestore } from '../../../src/replication/restore-plan.ts';
import { mulberry32 } from '../../../src/storage/prng.ts';
import { CatalogModel, type CompactMode, DAY, DEFAULTS, HOUR, MINUTE, T0 } from '../../helpers/maintenance-model.ts';

/** Reproduce a run with LTX_MAINT_SEED=<seed>; LTX_MAINT_DAYS sets the simulated span (default 30). */
const SEED = process.env.LTX_MAINT_SEED !== undefined ? Number(process.env.LTX_MAINT_SEED) : (Date.now() % 2 ** 31) | 0;
const DAYS = Number(process.env.LTX_MAINT_DAYS ?? 30);

interface Stats {
  ticks: number;
  pushes: number;
  actions: Record<string, number>;
  maxFiles: number;
  maxPerLevel: number[];
  maxHeadPlan: number;
  /** Point-in-time window after the first two days: now minus the header time of the oldest restorable TXID. */
  minWindowMs: number;
  maxWindowMs: number;
  idleTicks: number;
}

/**
 * Upper bound on the catalog: each level keeps what lies above the oldest kept snapshot (at most
 * retention + interval + grace old, plus a level interval of lag), L0 what is younger than its
 * retention plus an L1 interval and the grace at up to 3 transactions a second, and the snapshots.
 */
function fileBound(cfg: MaintenanceConfig): number {
  const span = cfg.snapshotRetentionMs + cfg.snapshotIntervalMs + cfg.readGraceMs + 2 * MINUTE;
  let bound = Math.ceil(cfg.snapshotRetentionMs / cfg.snapshotIntervalMs) + 2;
  for (const iv of cfg.levelIntervalsMs) bound += Math.ceil((span + iv) / iv) + 1;
  bound += ((cfg.l0RetentionMs + cfg.levelIntervalsMs[0] + cfg.readGraceMs + MINUTE) / 1000) * 3 + 1;
  return Math.ceil(bound);
}

/**
 * Upper bound on the head plan right after a tick: one snapshot, the top level's files since it, and
 * for each lower level the files since the level above last compacted (at most the ratio of the
 * intervals), plus the L0 file a lone push leaves uncompacted.
 */
function planBound(cfg: MaintenanceConfig): number {
  const iv = cfg.levelIntervalsMs;
  let bound = 1 + Math.ceil(cfg.snapshotIntervalMs / iv[iv.length - 1]) + 1;
  for (let l = 0; l < iv.length - 1; l++) bound += Math.ceil(iv[l + 1] / iv[l]) + 1;
  return bound + 2;
}

/** A plan is a chain: it starts with a snapshot, each file continues the last, and it ends at `target`. */
function wellFormed(files: readonly { minTXID: bigint; maxTXID: bigint }[], target: bigint): boolean {
  let p = 0n;
  for (const f of files) {
    if (f.minTXID > p + 1n || f.maxTXID <= p || f.maxTXID > target) return false;
    p = f.maxTXID;
  }
  return files.length > 0 && files[0].minTXID === 1n && p === target;
}

function simulate(mode: CompactMode, days: number, seed: number, cfg: MaintenanceConfig): Stats {
  const rand = mulberry32(seed);
  const m = new CatalogModel(mode);
  const stats: Stats = {
    ticks: 0,
    pushes: 0,
    actions: {},
    maxFiles: 0,
    maxPerLevel: new Array(10).fill(0),
    maxHeadPlan: 0,
    minWindowMs: Infinity,
    maxWindowMs: 0,
    idleTicks: 0,
  };
  const filesBound = fileBound(cfg);
  const headPlanBound = planBound(cfg);
  let idleUntil = 0;
  for (let minute = 0; minute < days * 1440; minute++) {
    const start = T0 + minute * MINUTE;
    // About 1 push a second (sometimes 0, 2 or 3 transactions), with rare idle stretches of up to 3 h.
    if (start >= idleUntil && rand() < 0.002) idleUntil = start + Math.floor(rand() * 3 * 60) * MINUTE;
    if (start >= idleUntil) {
      for (let s = 0; s < 60; s++) {
        const x = rand();
        const txns = x < 0.85 ? 1 : x < 0.9 ? 0 : x < 0.97 ? 2 : 3;
        if (txns > 0) {
          m.push(start + s * 1000 + 500, txns);
          stats.pushes++;
        }
      }
    }
    // The cron fires up to 400 ms after the minute boundary.
    const now = start + MINUTE + Math.floor(rand() * 400);
    const sampled = minute % 13 === 0;
    const before = sampled ? m.list() : [];
    const actions = planMaintenance(m.list(), m.head, now, cfg);
    if (actions.length === 0) stats.idleTicks++;
    for (const a of actions) {
      const k = a.kind === 'compact' ? `compact L${a.level}` : a.kind === 'snapshot' ? 'snapshot' : `delete ${a.reason}`;
      stats.actions[k] = (stats.actions[k] ?? 0) + (a.kind === 'delete' ? a.files.length : 1);
    }
    m.apply(actions, now);
    stats.ticks++;

    const files = m.list();
    const fail = (what: string): string => `seed ${seed}, ${mode}, minute ${minute}: ${what}`;
    const problems = checkLevelConsistency(files);
    if (problems.length > 0)
      expect.fail(fail(`level problems ${JSON.stringify(problems, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`));
    const head = planRestore(files, m.head);
    if (!head.ok) expect.fail(fail(`head ${m.head} not restorable: ${head.reason}`));
    if (!wellFormed(head.files, m.head)) expect.fail(fail('head plan is not a chain from a snapshot'));
    stats.maxHeadPlan = Math.max(stats.maxHeadPlan, head.files.length);
    if (head.files.length > headPlanBound) expect.fail(fail(`head plan of ${head.files.length} files > ${headPlanBound}`));
    stats.maxFiles = Math.max(stats.maxFiles, files.length);
    if (files.length > filesBound) expect.fail(fail(`${files.length} files > ${filesBound}`));
    const perLevel = new Array(10).fill(0);
    for (const f of files) perLevel[f.level]++;
    perLevel.forEach((n, l) => {
      stats.maxPerLevel[l] = Math.max(stats.maxPerLevel[l], n);
    });

    // Every few ticks: no hole in the restorable window, compaction boundaries in it restore, and
    // nextMaintenanceDue agrees with the planner a second later.
    if (sampled) {
      const oldest = oldestRestorable(files) as bigint;
      const span = m.head - oldest;
      const x = oldest + BigInt(Math.floor(rand() * Number(span + 1n)));
      const r = planRestore(files, x);
      if (!r.ok && r.reason !== 'not-exact') expect.fail(fail(`TXID ${x} in [${oldest}, ${m.head}]: ${r.reason}`));
      // Restorable now: a chain from a snapshot, and restorable before the pass (nothing invented).
      if (r.ok && (!wellFormed(r.files, x) || !planRestore(before, x).ok)) expect.fail(fail(`TXID ${x} restores now but did not before`));
      const compacted = files.filter((f) => f.level >= 1 && f.level <= 8 && f.maxTXID >= oldest);
      if (compacted.length > 0) {
        const f = compacted[Math.floor(rand() * compacted.length)];
        if (!planRestore(files, f.maxTXID).ok) expect.fail(fail(`L${f.level} end ${f.maxTXID} not restorable`));
      }
      const after = now + 1_000;
      const due = nextMaintenanceDue(files, m.head, after, cfg);
      const planned = planMaintenance(files, m.head, after, cfg).length;
      if ((due !== undefined && due <= after) !== planned > 0)
        expect.fail(fail(`nextMaintenanceDue ${due} vs ${planned} actions at ${after}`));
      if (minute > 2 * 1440) {
        let oldestAt = Infinity;
        for (const f of files) if (f.maxTXID === oldest && f.timestamp < oldestAt) oldestAt = f.timestamp;
        stats.minWindowMs = Math.min(stats.minWindowMs, now - oldestAt);
        stats.maxWindowMs = Math.max(stats.maxWindowMs, now - oldestAt);
      }
    }
  }
  return stats;
}

function report(mode: CompactMode, days: number, s: Stats): void {
  const h = (ms: number): string => `${(ms / 3_600_000).toFixed(2)} h`;
  console.log(
    [
      `maintenance simulation (seed ${SEED}, ${mode}, ${days} days): ${s.ticks} ticks (${s.idleTicks} with nothing to do), ${s.pushes} pushes`,
      `  actions: ${JSON.stringify(s.actions)}`,
      `  files kept: max ${s.maxFiles} (bound ${fileBound(DEFAULTS)}); per level max ${s.maxPerLevel.map((n, l) => `L${l}=${n}`).join(' ')}`,
      `  head plan: max ${s.maxHeadPlan} files (bound ${planBound(DEFAULTS)})`,
      `  point-in-time window after day 2: ${h(s.minWindowMs)} .. ${h(s.maxWindowMs)}`,
    ].join('\n'),
  );
}

describe(`maintenance simulation (seed ${SEED})`, () => {
  it(`Litestream semantics (compaction keeps inputs, retention deletes): ${DAYS} days at ~1 push/s`, () => {
    const s = simulate('keep', DAYS, SEED, DEFAULTS);
    report('keep', DAYS, s);
    // A snapshot a day (idle stretches may push one past a boundary), the older ones retired.
    expect(s.actions.snapshot ?? 0).toBeGreaterThanOrEqual(DAYS - 1);
    if (DAYS >= 3) {
      expect(s.actions['delete snapshot-retention'] ?? 0).toBeGreaterThanOrEqual(DAYS - 3);
      expect(s.actions['delete retention-by-txid'] ?? 0).toBeGreaterThan(0);
    }
  }, 300_000);

  it('random configurations, late ticks and damaged catalogs: actions always apply and never cost the head', () => {
    const rand = mulberry32(SEED ^ 0x5bd1e995);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    let damaged = 0;
    let blockedHeads = 0;
    for (let run = 0; run < 12; run++) {
      const steps = [30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, HOUR];
      const levelIntervalsMs = steps.filter(() => rand() < 0.5).slice(0, 1 + Math.floor(rand() * 4));
      if (levelIntervalsMs.length === 0) levelIntervalsMs.push(MINUTE);
      const cfg: MaintenanceConfig = {
        levelIntervalsMs,
        snapshotIntervalMs: pick([HOUR, 6 * HOUR, DAY]),
        snapshotRetentionMs: pick([30 * MINUTE, HOUR, 6 * HOUR, DAY]),
        l0RetentionMs: pick([0, MINUTE, 5 * MINUTE]),
        readGraceMs: pick([0, 30_000, MINUTE, 10 * MINUTE]),
      };
      const m = new CatalogModel(rand() < 0.5 ? 'keep' : 'replace');
      const rate = rand();
      for (let minute = 0; minute < 1440; minute++) {
        const start = T0 + minute * MINUTE;
        for (let s = 0; s < 60; s += 10) if (rand() < rate) m.push(start + s * 1000 + 1, 1 + Math.floor(rand() * 3));
        if (m.head === 0n) continue;
        // Lost files (a damaged or partly adopted replica): mostly ones the head's plan does not use
        // (holes elsewhere), sometimes any file but the head's last.
        if (rand() < 0.003) {
          const headPlan = planRestore(m.list(), m.head);
          const used = new Set(headPlan.ok && rand() < 0.8 ? headPlan.files : []);
          const files = m.list().filter((f) => f.maxTXID !== m.head && !used.has(f));
          if (files.length > 0) {
            const f = pick(files);
            m.apply([{ kind: 'delete', reason: 'l0-retention', files: [f] }], start);
            damaged++;
          }
        }
        const now = start + MINUTE + Math.floor(rand() * 45_000);
        const before = m.list();
        const restorable = planRestore(before, m.head).ok;
        if (!restorable) blockedHeads++;
        const actions = planMaintenance(before, m.head, now, cfg);
        const fail = (what: string): string => `seed ${SEED}, run ${run}, minute ${minute}, ${JSON.stringify(cfg)}: ${what}`;
        if (!restorable && actions.some((a) => a.kind !== 'compact'))
          expect.fail(fail('snapshot or delete while the head is not restorable'));
        m.apply(actions, now);
        if (restorable && !planRestore(m.list(), m.head).ok)
          expect.fail(fail(`head ${m.head} lost by ${actions.map((a) => a.kind).join(',')}`));
      }
    }
    console.log(
      `random configurations (seed ${SEED}): 12 runs, ${damaged} files lost on purpose, ${blockedHeads} ticks with an unrestorable head`,
    );
  }, 300_000);

  it('the DO as it is today (compaction drops its inputs at once): 3 days', () => {
    const s = simulate('replace', 3, SEED, DEFAULTS);
    report('replace', 3, s);
    expect(s.maxFiles).toBeLessThan(200);
  }, 300_000);
});
