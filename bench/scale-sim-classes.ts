// Inputs of the scale simulation (bench/scale-sim.ts): every model constant with its source, and the write mix of 1,000,000 databases.

import { mulberry32 } from '../src/storage/prng.ts';
import {
  DEFAULT_LEVEL_INTERVALS_MS,
  DEFAULT_L0_RETENTION_MS,
  DEFAULT_MAINTENANCE_BUDGET_MS,
  DEFAULT_MAX_DATABASE_BYTES,
  DEFAULT_READ_GRACE_MS,
  DEFAULT_REGISTRY_SHARDS,
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  DEFAULT_SNAPSHOT_RETENTION_MS,
} from '../src/config.ts';
import type { MaintenanceConfig } from '../src/replication/maintenance.ts';
import type { DbDay } from './scale-sim.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The real planner's defaults (src/config.ts, DESIGN §2): L1 1 min, L2 5 min, L3 1 h, snapshots 24 h kept 24 h, L0 5 min, grace 60 s. */
export const DEFAULT_MAINTENANCE: MaintenanceConfig = {
  levelIntervalsMs: [...DEFAULT_LEVEL_INTERVALS_MS],
  snapshotIntervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
  snapshotRetentionMs: DEFAULT_SNAPSHOT_RETENTION_MS,
  l0RetentionMs: DEFAULT_L0_RETENTION_MS,
  readGraceMs: DEFAULT_READ_GRACE_MS,
};

/** Every constant of the model, each with where it comes from. A run of `npm run bench -- scale` overrides the measured ones. */
export const SCALE_MODEL = {
  // Prices, paid plan, included allowances left out (they are per account and month, nothing at this scale).
  /** $ per million R2 Class A ops (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, ListObjects): https://developers.cloudflare.com/r2/pricing/ (Standard). */
  r2ClassAPerMillion: 4.5,
  /** $ per million R2 Class B ops (GetObject, HeadObject): same page. DeleteObject and AbortMultipartUpload are free (same page, "Free operations"). */
  r2ClassBPerMillion: 0.36,
  /** $ per GB-month of R2 Standard storage: same page. */
  r2StoragePerGBMonth: 0.015,
  /** $ per million DO requests (every RPC method call is one): https://developers.cloudflare.com/durable-objects/platform/pricing/ */
  doRequestPerMillion: 0.15,
  /** $ per million GB-s of DO duration, billed at 128 MB per active object: same page. */
  doGBsPerMillion: 12.5,
  doBilledGB: 0.128,
  /** $ per million SQLite rows written in DOs: same page ("SQLite storage backend"). */
  doRowsWrittenPerMillion: 1.0,
  /** $ per million Worker requests (pushes arrive over HTTP, the cron is one invocation a minute): https://developers.cloudflare.com/workers/platform/pricing/ */
  workerRequestPerMillion: 0.3,

  // Limits.
  /** Requests one Durable Object serves per second: DESIGN.md §7 ("one DO ≈ 1,000 req/s"). */
  doRequestsPerSecond: 1000,
  /** DO CPU per request, default and configurable maximum: DESIGN.md §7. */
  doCpuDefaultMs: 30_000,
  doCpuMaxMs: 300_000,
  /** LTX_EDGE_MAINTENANCE_BUDGET default: src/config.ts DEFAULT_MAINTENANCE_BUDGET_MS. */
  maintenanceBudgetMs: DEFAULT_MAINTENANCE_BUDGET_MS,
  /** Databases from this size are snapshotted in steps of at most this long, an alarm each: src/durable/snapshot-job.ts (CHUNKED_SNAPSHOT_BYTES, DEFAULT_SNAPSHOT_STEP_MS). */
  chunkedSnapshotBytes: 256 * MiB,
  snapshotStepMs: 20_000,
  /** LTX_EDGE_MAX_DATABASE_BYTES default (1 GiB): src/config.ts. */
  maxDatabaseBytes: DEFAULT_MAX_DATABASE_BYTES,
  /** Most databases a shard visits per tick, and DO calls in flight: src/durable/registry-maintain.ts DEFAULT_CRON_MAX_DATABASES / DEFAULT_CRON_CONCURRENCY. */
  cronMaxPerShard: 5000,
  cronConcurrency: 32,
  /** Cron period: wrangler.toml `* * * * *`, DESIGN §7 (1 minute minimum). */
  tickMs: MINUTE,
  /** The cron fires a little after its boundary: test/unit/replication/maintenance-simulation.test.ts ("up to 400 ms"). */
  tickDelayMs: 200,
  /** Each action of a pass commits this long after the previous: test/helpers/maintenance-model.ts (CatalogModel.apply). */
  actionMs: 50,
  /** LTX_EDGE_REGISTRY_SHARDS default and maximum: src/config.ts, src/registry/shard-of.ts MAX_REGISTRY_SHARDS. */
  defaultShards: DEFAULT_REGISTRY_SHARDS,
  maxShards: 1024,

  // How the DO talks to R2 (src/durable/ltx-upload.ts, src/durable/compact.ts).
  /** Objects up to one part are one put; larger: create + parts + head + complete (DEFAULT_PART_SIZE). */
  partBytes: 8 * MiB,
  /** Up to MAX_STREAMS inputs are streamed (2 gets each: 4-byte flags + body); more: files ≤ WHOLE_READ_BYTES read whole (1 get) if they add up to ≤ WHOLE_READ_BUDGET. */
  maxStreams: 4,
  wholeReadBytes: 4 * MiB,
  wholeReadBudget: 32 * MiB,
  /** Keys per R2 delete call (PENDING_BATCH). */
  deleteBatch: 1000,

  // Sizes.
  pageSize: 4096,
  /** LTX bytes per changed page: BENCHMARKS.md agent, "What the agent did", 1,000 tx/s row: 663 KiB / 246 pages per push (frames, LZ4, index). */
  ltxBytesPerPage: Math.round((663 * 1024) / 246),
  /** Fixed LTX bytes per file: shared/ltx-format.md §1 (100-byte header, 6-byte end marker, index terminator + 8-byte length, 16-byte trailer). */
  ltxFixedBytes: 131,

  // Measured (local workerd). `npm run bench -- scale` replaces maintainCallMs, registryCallMs and upsertRoundTripMs with its own
  // numbers, and snapshotMBps once a chunked-snapshot step is measured (bench/scale.ts SnapshotStepMeasurement).
  /** Snapshot merge MB/s of input: BENCHMARKS.md compact, "A 512.00 MiB snapshot + 200 change files", ours row (52.16 MB/s). */
  snapshotMBps: 52.16,
  /** DO time per push: BENCHMARKS.md ingest, "Small pushes", "… DatabaseDO.ingest() in the DO" (2.14 ms). Local R2: a lower bound. */
  pushDoMs: 2.14,
  /** Coalescing window of head announcements (one upsert in flight): BENCHMARKS.md ingest ladder, "the awaited registry upsert RPC" ≤ 0.33 ms. */
  upsertRoundTripMs: 0.33,
  /** Wall ms of one steady maintain call (L1 of 3 small files + L0 retention), one at a time: `npm run bench -- scale --quick`, 2026-12-07 (12.7–15.0 ms over 3 runs). */
  maintainCallMs: 13,
  /** Wall ms of one registry RPC (upsert, setDue), one at a time into one shard: the same runs (0.68–0.80 ms). */
  registryCallMs: 0.78,

  // DO SQLite rows written, counting index entries (D1 pricing's rule); from migrations/*.sql and src/durable/: estimates.
  /** Per push: a `pages` row per changed page; the `files` row + its max_txid index entry, `position`, two `stats` counters. */
  rowsPerPage: 1,
  rowsPerPushFixed: 5,
  /** Per compaction or snapshot: `files` row + index entry, the pending-output meta row written and deleted, a `stats` counter. */
  rowsPerMerge: 5,
  /** Per delete action: each file's `files` row + index entry; a pending meta row written and deleted, the generation, a counter. */
  rowsPerDeletedFile: 2,
  rowsPerDeleteFixed: 4,
  /** Per registry upsert or setDue: the `databases` row + its next_due index entry. */
  rowsPerRegistryCall: 2,
};

export type ScaleModel = typeof SCALE_MODEL;

/** What a database's day is billed for: units per day and $ per unit, from SCALE_MODEL's prices. */
export const COST_LINES: { line: string; units: (d: DbDay, m: ScaleModel) => number; usd: (m: ScaleModel) => number }[] = [
  { line: 'R2 Class A operations', units: (d) => d.classA, usd: (m) => m.r2ClassAPerMillion / 1e6 },
  { line: 'R2 Class B operations', units: (d) => d.classB, usd: (m) => m.r2ClassBPerMillion / 1e6 },
  {
    line: 'R2 storage, GB (the day average; $: a day of GB-month)',
    units: (d) => d.storedBytes / 1e9,
    usd: (m) => m.r2StoragePerGBMonth / 30,
  },
  {
    line: 'DO requests: ingest, maintain, upsert, setDue',
    units: (d) => d.pushes + 2 * d.visits + d.upserts,
    usd: (m) => m.doRequestPerMillion / 1e6,
  },
  {
    line: 'DO duration, GB-s (local per-call times: a lower bound)',
    units: (d, m) =>
      ((d.pushes * m.pushDoMs + d.visits * (m.maintainCallMs + m.registryCallMs) + d.upserts * m.registryCallMs) / 1000) * m.doBilledGB,
    usd: (m) => m.doGBsPerMillion / 1e6,
  },
  {
    line: 'DO SQLite rows written (estimate)',
    units: (d, m) => d.rowsWritten + (d.upserts + d.visits) * m.rowsPerRegistryCall,
    usd: (m) => m.doRowsWrittenPerMillion / 1e6,
  },
  { line: 'Worker requests: pushes', units: (d) => d.pushes, usd: (m) => m.workerRequestPerMillion / 1e6 },
];

/** R2 ops of one upload (src/durable/ltx-upload.ts): a put, or create + parts + complete (Class A) and a head before the complete (Class B). */
export function uploadOps(bytes: number, m: ScaleModel): { classA: number; classB: number } {
  const parts = Math.ceil(bytes / m.partBytes);
  return parts <= 1 ? { classA: 1, classB: 0 } : { classA: parts + 2, classB: 1 };
}

/** Class B ops of a merge's inputs (src/durable/compact.ts openInputs): streamed = 4-byte flags get + body get; read whole = one get. */
export function readOps(sizes: number[], m: ScaleModel): number {
  const small = sizes.reduce((n, s) => n + (s <= m.wholeReadBytes ? s : 0), 0);
  const streamAll = sizes.length <= m.maxStreams || small > m.wholeReadBudget;
  return sizes.reduce((n, s) => n + (streamAll || s > m.wholeReadBytes ? 2 : 1), 0);
}

/**
 * Expected distinct pages written by `pushes` pushes of `cls` (a compaction's output): each push writes
 * pagesPerPush pages, hotShare of them uniformly over the hot set and the rest over the whole database;
 * at most the database's pages.
 */
export function distinctPages(cls: DatabaseClass, m: ScaleModel, pushes: number): number {
  const pages = Math.ceil(cls.dbBytes / m.pageSize);
  const spread = (k: number, over: number) => over * -Math.expm1(k * Math.log1p(-1 / over));
  const k = pushes * cls.pagesPerPush;
  return Math.min(pages, spread(k * cls.hotShare, Math.min(cls.hotPages, pages)) + spread(k * (1 - cls.hotShare), pages));
}

/** When a database is pushed to within a day. */
export type Schedule =
  | { kind: 'none' }
  /** Every `everyMs`, all day, at +500 ms within the second. */
  | { kind: 'every'; everyMs: number }
  /** One push at a random time in each `slotMs` slot from `fromHour` to `toHour` (UTC). */
  | { kind: 'slots'; slotMs: number; fromHour: number; toHour: number };

export interface DatabaseClass {
  name: string;
  population: number;
  /** Why this many and this shape. */
  why: string;
  dbBytes: number;
  pagesPerPush: number;
  /** A push writes this share of its pages in a hot set of `hotPages` (b-tree right edges, hot rows), the rest uniformly over the database. */
  hotShare: number;
  hotPages: number;
  schedule: Schedule;
}

const busyEvery = { kind: 'every', everyMs: 1000 } as const;

/** 1,000,000 databases of a database-per-tenant service: a long idle tail, few busy ones, a handful of large ones. */
export const DEFAULT_CLASSES: DatabaseClass[] = [
  {
    name: 'dormant',
    population: 700_000,
    why: 'most tenants of a database-per-tenant service write nothing on a given day (trials, churned, seasonal); no write leaves nothing due',
    dbBytes: 1 * MiB,
    pagesPerPush: 0,
    hotShare: 0,
    hotPages: 1,
    schedule: { kind: 'none' },
  },
  {
    name: 'daily',
    population: 200_000,
    why: 'small tenants with one write a day (a sign-in, a nightly job) at a random time',
    dbBytes: 4 * MiB,
    pagesPerPush: 4,
    hotShare: 0.75,
    hotPages: 16,
    schedule: { kind: 'slots', slotMs: DAY, fromHour: 0, toHour: 24 },
  },
  {
    name: 'light',
    population: 90_000,
    why: 'active tenants: a write every ~10 min (random within each slot) through an 8-hour business day, 09–17 UTC',
    dbBytes: 16 * MiB,
    pagesPerPush: 6,
    hotShare: 0.75,
    hotPages: 64,
    schedule: { kind: 'slots', slotMs: 10 * MINUTE, fromHour: 9, toHour: 17 },
  },
  {
    name: 'busy',
    population: 9_000,
    why: 'an application writing all day behind `ltx-edge replicate`: one push per 1 s sync interval, a commit or two each',
    dbBytes: 64 * MiB,
    pagesPerPush: 4,
    hotShare: 0.75,
    hotPages: 64,
    schedule: busyEvery,
  },
  {
    name: 'hot',
    population: 900,
    why: '10 commits/s, coalesced by the agent into one push per 1 s sync interval (README "Replicating a live database"): more pages per push, not more pushes',
    dbBytes: 256 * MiB,
    pagesPerPush: 16,
    hotShare: 0.75,
    hotPages: 256,
    schedule: busyEvery,
  },
  {
    name: 'large-1GiB',
    population: 90,
    why: 'databases at the default cap LTX_EDGE_MAX_DATABASE_BYTES = 1 GiB, a batch of writes every 10 s',
    dbBytes: 1 * GiB,
    pagesPerPush: 64,
    hotShare: 0.5,
    hotPages: 1024,
    schedule: { kind: 'every', everyMs: 10_000 },
  },
  {
    name: 'large-10GiB',
    population: 10,
    why: '10 GiB: refused (413) unless LTX_EDGE_MAX_DATABASE_BYTES is raised; its snapshot runs in chunked steps (src/durable/snapshot-job.ts)',
    dbBytes: 10 * GiB,
    pagesPerPush: 64,
    hotShare: 0.5,
    hotPages: 1024,
    schedule: { kind: 'every', everyMs: 10_000 },
  },
];

/** Push times (ms, ascending) of one day starting at `dayStart`, `rand` for the random slots. */
export function pushTimes(s: Schedule, dayStart: number, rand: () => number): number[] {
  const out: number[] = [];
  if (s.kind === 'every') for (let t = 500; t < DAY; t += s.everyMs) out.push(dayStart + t);
  if (s.kind === 'slots') {
    for (let t = s.fromHour * HOUR; t < s.toHour * HOUR; t += s.slotMs) out.push(dayStart + t + Math.floor(rand() * s.slotMs));
  }
  return out;
}

/** mulberry32 (src/storage/prng.ts): every run sees the same schedules. */
export const seeded = mulberry32;
