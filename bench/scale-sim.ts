// Scale model: one database per class stepped minute by minute through simulated days over the real planner, then scaled to 1,000,000 databases.

import { type CatalogEntry, type MaintenanceAction, nextMaintenanceDue, planMaintenance } from '../src/replication/maintenance.ts';
import { planRestore } from '../src/replication/restore-plan.ts';
import {
  COST_LINES,
  DAY,
  DEFAULT_CLASSES,
  DEFAULT_MAINTENANCE,
  type DatabaseClass,
  MINUTE,
  SCALE_MODEL,
  type ScaleModel,
  distinctPages,
  pushTimes,
  readOps,
  seeded,
  uploadOps,
} from './scale-sim-classes.ts';

export const TICKS = DAY / MINUTE;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const T0 = Date.UTC(2026, 0, 1);

const SUMS = ['pushes', 'upserts', 'visits', 'filesDeleted', 'classA', 'classB', 'freeOps', 'bytesWritten', 'bytesRead'] as const;
const MORE = ['storedBytes', 'rowsWritten', 'snapshotInputBytes'] as const;
const ARRAYS = { compactions: 10, maxLagMs: 10, visitsPerTick: TICKS, upsertsPerTick: TICKS } as const;
/**
 * One database's measured day (the last simulated day), the mean over its samples; bytes. `upserts`:
 * head announcements that reached the registry (one in flight per database); `visits`: maintain calls
 * from its shard (each makes one setDue call back); `compactions[L]`: into level L (9: snapshots);
 * `freeOps`: R2 deletes; `storedBytes`: in R2, the day's average; `maxLagMs[k]` (k = level, 9 snapshot,
 * 0 retention) and `snapshotInputBytes`: maxima over the samples; per tick of the day: maintain calls,
 * and upserts in the minute before it.
 */
export type DbDay = Record<(typeof SUMS)[number] | (typeof MORE)[number], number> & Record<keyof typeof ARRAYS, number[]>;

export interface SimOptions {
  model?: Partial<ScaleModel>;
  classes?: DatabaseClass[];
  /** Simulated days before the measured one (retention and snapshots reach their steady state); default 1. */
  warmupDays?: number;
  /** Seeds averaged per class with a random schedule; default 16. */
  samples?: number;
  /** Shard counts to report; default 16 and 1,024. */
  shards?: number[];
}

const zeros = (n: number): number[] => new Array(n).fill(0);
const zeroDay = (): DbDay =>
  Object.fromEntries([...[...SUMS, ...MORE].map((k) => [k, 0]), ...Object.entries(ARRAYS).map(([k, n]) => [k, zeros(n)])]) as DbDay;

/**
 * Steps one database of `cls` through warmupDays + 1 days: pushes add L0 files, every tick where the
 * registry holds it due runs planMaintenance and applies the actions (compaction outputs sized by the
 * expected distinct pages of their pushes, capped at the database; snapshots the whole database),
 * and the next due time comes from nextMaintenanceDue, as in src/durable/maintain.ts.
 */
export function simulateDatabase(cls: DatabaseClass, m: ScaleModel, warmupDays: number, seed: number): DbDay {
  const cfg = DEFAULT_MAINTENANCE;
  const rand = seeded(seed);
  const pages = Math.ceil(cls.dbBytes / m.pageSize);
  const bytesOf = (p: number): number => m.ltxFixedBytes + Math.round(p) * m.ltxBytesPerPage;
  const d = zeroDay();
  const measuredFrom = T0 + warmupDays * DAY;
  // The catalog in insertion order, which is TXID order within each level (as the DO's catalog query returns it).
  let files: CatalogEntry[] = [];
  let counting = false;
  let stored = 0;
  let head = 1n;
  const add = (f: CatalogEntry): void => {
    files.push(f);
    stored += f.size;
  };
  const upload = (bytes: number): void => {
    if (!counting) return;
    d.bytesWritten += bytes;
    const ops = uploadOps(bytes, m);
    d.classA += ops.classA;
    d.classB += ops.classB;
  };
  const read = (inputs: CatalogEntry[]): number => {
    if (!counting) return 0;
    d.classB += readOps(
      inputs.map((f) => f.size),
      m,
    );
    const bytes = inputs.reduce((n, f) => n + f.size, 0);
    d.bytesRead += bytes;
    d.freeOps += 1; // the output key's delete before the upload
    d.rowsWritten += m.rowsPerMerge;
    return bytes;
  };
  const apply = (a: MaintenanceAction, at: number): void => {
    if (a.kind !== 'delete') {
      // A compaction merges the level below in its range; a snapshot, the head's restore plan (src/durable/maintain.ts).
      const [level, minTXID] = a.kind === 'snapshot' ? [9, 1n] : [a.level, a.minTXID];
      const plan =
        level === 9
          ? planRestore(files, a.maxTXID)
          : { ok: true as const, files: files.filter((f) => f.level === level - 1 && f.minTXID >= minTXID && f.maxTXID <= a.maxTXID) };
      if (!plan.ok) throw new Error(`${cls.name}: head ${a.maxTXID} not restorable (${plan.reason})`);
      const inputs = plan.files as CatalogEntry[];
      const inputBytes = read(inputs);
      const size = bytesOf(level === 9 ? pages : distinctPages(cls, m, Number(a.maxTXID - minTXID + 1n)));
      upload(size);
      add({ level, minTXID, maxTXID: a.maxTXID, size, timestamp: inputs[inputs.length - 1].timestamp, createdAt: at });
      if (level === 9) d.snapshotInputBytes = Math.max(d.snapshotInputBytes, inputBytes);
      if (counting) d.compactions[level]++;
      return;
    }
    const gone: Set<bigint>[] = []; // within a level, MaxTXID names a file
    for (const f of a.files) (gone[f.level] ??= new Set()).add(f.maxTXID);
    files = files.filter((f) => !gone[f.level]?.has(f.maxTXID));
    stored = files.reduce((n, f) => n + f.size, 0);
    if (!counting) return;
    d.filesDeleted += a.files.length;
    d.freeOps += Math.ceil(a.files.length / m.deleteBatch);
    d.rowsWritten += a.files.length * m.rowsPerDeletedFile + m.rowsPerDeleteFixed;
  };
  // The database was imported (a snapshot at TXID 1) a day before the simulation starts.
  add({ level: 9, minTXID: 1n, maxTXID: 1n, size: bytesOf(pages), timestamp: T0 - DAY, createdAt: T0 - DAY });
  let nextDue: number | null = nextMaintenanceDue(files, head, T0, cfg) ?? null;
  let lastUpsert = -Infinity;
  /** Per action kind (maxLagMs' index): when the planner first had it while the registry did not hold the database due. */
  const pendingSince: (number | undefined)[] = new Array(10).fill(undefined);
  const pushes = Array.from({ length: warmupDays + 1 }, (_, day) => pushTimes(cls.schedule, T0 + day * DAY, rand)).flat();
  let p = 0;
  for (let tick = 1; tick <= (warmupDays + 1) * TICKS; tick++) {
    const boundary = T0 + tick * MINUTE;
    const now = boundary + m.tickDelayMs;
    for (; p < pushes.length && pushes[p] < now; p++) {
      const t = pushes[p];
      counting = t >= measuredFrom && t < measuredFrom + DAY;
      const size = bytesOf(cls.pagesPerPush);
      head++;
      add({ level: 0, minTXID: head, maxTXID: head, size, timestamp: t, createdAt: t });
      upload(size);
      nextDue = Math.min(nextDue ?? Infinity, Math.ceil(t / MINUTE) * MINUTE);
      if (!counting) continue;
      d.pushes++;
      d.rowsWritten += cls.pagesPerPush * m.rowsPerPage + m.rowsPerPushFixed;
      if (t - lastUpsert >= m.upsertRoundTripMs) {
        lastUpsert = t;
        d.upserts++;
        d.upsertsPerTick[Math.floor((t - measuredFrom) / MINUTE)]++;
      }
    }
    // The measured day's ticks: 00:00 (its midnight snapshot) to 23:59.
    counting = boundary >= measuredFrom && boundary < measuredFrom + DAY;
    if (counting) d.storedBytes += stored / TICKS;
    const due = nextDue !== null && nextDue <= now;
    // The planner runs at every tick, due or not: work it finds while the registry holds the database idle is lag.
    const actions = planMaintenance(files, head, now, cfg);
    const kinds = actions.map((a) => (a.kind === 'compact' ? a.level : a.kind === 'snapshot' ? 9 : 0));
    if (!due) {
      for (const k of kinds) pendingSince[k] ??= now;
      continue;
    }
    for (const k of kinds) {
      if (counting) d.maxLagMs[k] = Math.max(d.maxLagMs[k], now - (pendingSince[k] ?? now));
      pendingSince[k] = undefined;
    }
    for (const [i, a] of actions.entries()) apply(a, now + m.actionMs * (i + 1));
    nextDue = nextMaintenanceDue(files, head, now, cfg) ?? null;
    if (!counting) continue;
    d.visits++;
    d.visitsPerTick[(boundary - measuredFrom) / MINUTE]++;
  }
  return d;
}

/** The element-wise mean of several days (maxLagMs and snapshotInputBytes: the maximum). */
function mean(days: DbDay[]): DbDay {
  const out = zeroDay() as Record<string, number | number[]>;
  for (const [k, v] of Object.entries(out)) {
    const fold = (xs: number[]) =>
      k === 'maxLagMs' || k === 'snapshotInputBytes' ? Math.max(...xs) : xs.reduce((a, b) => a + b) / xs.length;
    const all = days.map((x) => x[k as keyof DbDay]);
    out[k] = Array.isArray(v) ? v.map((_, i) => fold(all.map((a) => (a as number[])[i]))) : fold(all as number[]);
  }
  return out as DbDay;
}

/**
 * Per shard: requests/s (upserts + setDue + the tick call) and databases due per tick, the day's mean and busiest minute;
 * `capacity`: databases maintained per tick, min(cron cap, 60 s × min(32 in flight / maintain call, spare requests/s: a
 * visit's setDue is one)); `lagTicks`: how long the busiest tick's last database waits, ceil(busiest / capacity) − 1.
 */
export type ShardLoad = Record<'shards' | 'reqPerSec' | 'reqPerSecPeak' | 'due' | 'duePeak' | 'capacity' | 'lagTicks', number>;

/** A day's snapshot: merge input, time at snapshotMBps, steps (from 256 MiB: ≤ 20 s each, inside budget and CPU; else one call). */
export type SnapshotSteps = { cls: DatabaseClass; chunked: boolean } & Record<'inputMB' | 'seconds' | 'steps' | 'stepSeconds', number>;

export interface ScaleResult {
  model: ScaleModel;
  classes: { cls: DatabaseClass; day: DbDay; usdPerDay: number }[];
  databases: number;
  pushesPerSec: number;
  costs: { line: string; units: number; usdPerDay: number }[];
  usdPerDay: number;
  loads: ShardLoad[];
  /** Fewest shards with no lag and every shard inside its request budget, for this mix. */
  shardsNeeded: number;
  /** Most databases of this mix, and of busy databases alone, that `shards` handle, and what binds first. */
  limits: { shards: number; mix: number; mixBinds: string; busy: number; busyBinds: string }[];
  snapshots: SnapshotSteps[];
  simMs: number;
}

/** Totals per tick of the day: maintain calls, and registry requests (upserts + setDue). */
type Workload = { due: number[]; req: number[] };

function shardLoad(w: Workload, m: ScaleModel, shards: number, k = 1): ShardLoad {
  const s = m.tickMs / 1000;
  const perSec = (perTick: number) => (k * perTick) / shards / s + 1 / s;
  const reqPerSec = perSec(w.req.reduce((a, b) => a + b, 0) / TICKS);
  const spare = Math.max(0, m.doRequestsPerSecond - reqPerSec);
  const capacity = Math.floor(Math.min(m.cronMaxPerShard, s * Math.min((m.cronConcurrency * 1000) / m.maintainCallMs, spare)));
  const duePeak = (k * Math.max(...w.due)) / shards;
  const lagTicks = capacity === 0 ? Infinity : Math.max(0, Math.ceil(duePeak / capacity) - 1);
  const due = (k * w.due.reduce((a, b) => a + b, 0)) / TICKS / shards;
  return { shards, reqPerSec, reqPerSecPeak: perSec(Math.max(...w.req)), due, duePeak, capacity, lagTicks };
}

const fits = (l: ShardLoad, m: ScaleModel) => l.lagTicks === 0 && l.reqPerSecPeak <= m.doRequestsPerSecond;

/** The largest multiple of `w` that `shards` handle, and the limit just past it. */
function largest(w: Workload, m: ScaleModel, shards: number): { k: number; binds: string } {
  let [lo, hi] = [0, 1e9];
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (fits(shardLoad(w, m, shards, mid), m)) lo = mid;
    else hi = mid;
  }
  const l = shardLoad(w, m, shards, hi * 1.001);
  const perShard = `${n0(m.doRequestsPerSecond)} requests/s per shard`;
  const binds =
    l.reqPerSecPeak > m.doRequestsPerSecond
      ? `registry requests (${perShard})`
      : l.capacity < m.cronMaxPerShard
        ? `registry requests (${perShard}; the upserts leave room for ${n0(l.capacity)} setDue calls, so visits, a tick)`
        : `the cron cap (${n0(l.capacity)} databases per shard per tick)`;
  return { k: lo, binds };
}

/** Runs every class (one database each; random schedules over seeds and phases) and scales it to its population. */
export function simulateScale(opts: SimOptions = {}): ScaleResult {
  const t0 = performance.now();
  const m: ScaleModel = { ...SCALE_MODEL, ...opts.model };
  const classes = (opts.classes ?? DEFAULT_CLASSES).map((cls, ci) => {
    // A random schedule's samples also start 1–8 days further in, so the measured day meets every phase of its
    // compaction cycle (written once a day, a database compacts L1 every other day: two L0 files make a run).
    const random = cls.schedule.kind === 'slots';
    const warmup = (s: number) => (opts.warmupDays ?? 1) + (random ? 1 + (s % 8) : 0);
    const run = (_: unknown, s: number) => simulateDatabase(cls, m, warmup(s), 1000 * ci + s + 1);
    const day = mean(Array.from({ length: random ? (opts.samples ?? 16) : 1 }, run));
    return { cls, day, usdPerDay: COST_LINES.reduce((n, c) => n + c.units(day, m) * c.usd(m), 0) };
  });
  const total = (f: (d: DbDay) => number) => classes.reduce((n, c) => n + c.cls.population * f(c.day), 0);
  const priced = (line: string, units: number, usd: number) => ({ line, units, usdPerDay: units * usd });
  const costs = COST_LINES.map((c) =>
    priced(
      c.line,
      total((d) => c.units(d, m)),
      c.usd(m),
    ),
  );
  const cron = TICKS * (1 + m.defaultShards);
  const cronUsd = (TICKS * m.workerRequestPerMillion + (cron - TICKS) * m.doRequestPerMillion) / 1e6;
  costs.push({ line: `cron: Worker invocations + tick calls to ${m.defaultShards} shards`, units: cron, usdPerDay: cronUsd });
  const workload = (cs: typeof classes, pop: (c: (typeof classes)[number]) => number): Workload => ({
    due: zeros(TICKS).map((_, i) => cs.reduce((n, c) => n + pop(c) * c.day.visitsPerTick[i], 0)),
    req: zeros(TICKS).map((_, i) => cs.reduce((n, c) => n + pop(c) * (c.day.upsertsPerTick[i] + c.day.visitsPerTick[i]), 0)),
  });
  const mix = workload(classes, (c) => c.cls.population);
  const [busyOnly, one] = [classes.filter((c) => c.cls.name === 'busy'), () => 1];
  const busy = workload(busyOnly, one);
  let shardsNeeded = 1;
  while (shardsNeeded < m.maxShards && !fits(shardLoad(mix, m, shardsNeeded), m)) shardsNeeded++;
  const databases = classes.reduce((n, c) => n + c.cls.population, 0);
  const shardCounts = opts.shards ?? [m.defaultShards, m.maxShards];
  const limits = shardCounts.map((shards) => {
    const [a, b] = [largest(mix, m, shards), largest(busy, m, shards)];
    return { shards, mix: Math.floor(a.k * databases), mixBinds: a.binds, busy: Math.floor(b.k), busyBinds: b.binds };
  });
  const stepSeconds = Math.min(m.snapshotStepMs, m.maintenanceBudgetMs, m.doCpuDefaultMs) / 1000;
  const snapshots = classes
    .filter((c) => c.day.snapshotInputBytes > 0)
    .map(({ cls, day }): SnapshotSteps => {
      const [inputMB, seconds] = [day.snapshotInputBytes / 1e6, day.snapshotInputBytes / 1e6 / m.snapshotMBps];
      const chunked = cls.dbBytes >= m.chunkedSnapshotBytes;
      return { cls, chunked, inputMB, seconds, stepSeconds, steps: chunked ? Math.ceil(seconds / stepSeconds) : 1 };
    });
  const loads = [...new Set([...shardCounts, shardsNeeded])].sort((x, y) => x - y).map((s) => shardLoad(mix, m, s));
  const [usdPerDay, pushesPerSec] = [costs.reduce((n, c) => n + c.usdPerDay, 0), total((d) => d.pushes) / 86_400];
  const simMs = performance.now() - t0;
  return { model: m, classes, databases, pushesPerSec, costs, usdPerDay, loads, shardsNeeded, limits, snapshots, simMs };
}
