// Scale suite: registry upserts per shard and databases maintained per tick in local workerd, then a simulated day of 1,000,000 databases.

import os from 'node:os';
import { type Section, type Suite, formatRate, formatRatio, median, renderSections } from './harness.ts';
import { type ScaleResult, type SnapshotSteps, simulateScale } from './scale-sim.ts';
import { type DatabaseClass, SCALE_MODEL, type ScaleModel } from './scale-sim-classes.ts';
import { RSS_SAMPLE_MS, type RssSample, runWorkerdBench } from './workerd-run.ts';

const TEST_FILE = 'bench/workers/scale.bench-test.ts';

/** Handed to the workerd side through LTX_BENCH_PARAMS (always complete); the results come back as SCALE_BENCH_RESULT. */
export interface ScaleBenchParams {
  /** Upsert calls per round and variant, rounds, calls in flight, distinct database names, shards of the spread variant. */
  upserts: number;
  upsertRounds: number;
  upsertConcurrency: number;
  upsertDatabases: number;
  spreadShards: number;
  /** Small databases in each of the two measured shards (together ≤ 500: locally each visited DO keeps SQLite files open). */
  maintainDatabases: number;
  /** maintain calls in flight per shard (DEFAULT_CRON_CONCURRENCY). */
  concurrency: number;
  /** Seeds per random-schedule class in the simulation. */
  samples: number;
  /** Chunked snapshot measured: database pages (4 KiB, incompressible) and pages per step. */
  snapshotPages: number;
  snapshotStepPages: number;
}

export interface UpsertMeasurement {
  label: string;
  shards: number;
  concurrency: number;
  calls: number;
  /** Wall ms of each round. */
  ms: number[];
}

export interface TickMeasurement {
  label: string;
  concurrency: number;
  /** Wall ms of RegistryDO.tick, and what its summary counted. */
  ms: number;
  due: number;
  maintained: number;
  actions: number;
}

/** Chunked-snapshot steps: database MB written per second within a step, the most bytes a step held for upload, workerd's peak RSS growth (filled in here from the samples). */
export interface SnapshotStepMeasurement {
  mbPerSec: number;
  peakMiB: number;
  stepSeconds: number;
  /** Most output bytes one step held waiting for a part (the job's own memory). */
  bufferedMiB: number;
  steps: number;
  what: string; // e.g. "64 MiB, 4 KiB pages, incompressible"
  /** Date.now() around the steps, for the RSS samples. */
  window: { start: number; end: number };
}

export interface ScaleBenchResult {
  params: ScaleBenchParams;
  shards: number;
  upserts: UpsertMeasurement[];
  ticks: TickMeasurement[];
  snapshotStep?: SnapshotStepMeasurement;
  started: number;
  ended: number;
}

const DEFAULT_PARAMS: ScaleBenchParams = {
  ...{ upserts: 20_000, upsertRounds: 3, upsertConcurrency: 64, upsertDatabases: 1000, spreadShards: 4 },
  ...{ maintainDatabases: 200, concurrency: 32, samples: 16, snapshotPages: 65_536, snapshotStepPages: 8192 },
};
const QUICK_PARAMS: Partial<ScaleBenchParams> = {
  upserts: 5000,
  upsertRounds: 2,
  maintainDatabases: 100,
  snapshotPages: 16_384,
  snapshotStepPages: 4096,
};
const SMOKE_PARAMS: Partial<ScaleBenchParams> = {
  ...{ upserts: 200, upsertRounds: 1, upsertDatabases: 50, maintainDatabases: 8, samples: 2 },
  ...{ snapshotPages: 1024, snapshotStepPages: 256 },
};

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const num = (x: number) => (Math.abs(x) >= 100 ? n0(x) : x >= 10 ? x.toFixed(1) : x === 0 ? '0' : x.toPrecision(2));
const usd = (x: number) => (x >= 100 ? `$${n0(x)}` : x >= 0.01 ? `$${x.toFixed(2)}` : x === 0 ? '$0' : `$${x.toPrecision(2)}`);
const mb = (bytes: number) => num(bytes / 1e6);
const cols = (spec: string) => spec.split('|');
const pair = (a: number, b: number) => `${num(a)} / ${num(b)}`;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const size = (bytes: number) => (bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / 2 ** 20} MiB`);

/** The model constants this run measured: maintain call and registry call times. */
export function measuredModel(r: ScaleBenchResult): Partial<ScaleModel> {
  const seq = r.ticks.find((t) => t.concurrency === 1);
  const up = r.upserts.find((u) => u.concurrency === 1);
  const callMs = up ? median(up.ms) / up.calls : SCALE_MODEL.registryCallMs;
  return {
    ...(seq && seq.maintained > 0 ? { maintainCallMs: seq.ms / seq.maintained } : {}),
    ...(up ? { registryCallMs: callMs, upsertRoundTripMs: callMs } : {}),
    ...(r.snapshotStep ? { snapshotMBps: r.snapshotStep.mbPerSec } : {}),
  };
}

function measuredSections(r: ScaleBenchResult): Section[] {
  const rate = (u: UpsertMeasurement) => u.calls / (median(u.ms) / 1000);
  const base = r.upserts.find((u) => u.shards === 1 && u.concurrency > 1);
  const vsBase = (u: UpsertMeasurement) => (base ? formatRatio(rate(u) / rate(base)) : '');
  const steady = r.ticks.find((t) => t.concurrency > 1 && t.label.includes('steady'));
  const seq = r.ticks.find((t) => t.concurrency === 1);
  const rows = r.ticks.map((t) => [t.label, String(t.concurrency), n0(t.due), n0(t.maintained), n0(t.actions), n0(t.ms)]);
  const perCall = r.ticks.map((t) => (t.concurrency === 1 ? (t.ms / t.maintained).toFixed(1) : ''));
  const perSec = r.ticks.map((t) => formatRate(t.maintained / (t.ms / 1000)));
  return [
    {
      title: 'Registry upserts into one shard (local workerd)',
      intro: [
        `RegistryDO.upsert RPCs from the test isolate, ${r.params.upsertDatabases} database names (each homed in the shard it is sent to), repeated heads; ${r.params.upsertRounds} rounds per variant after a warm-up; the median round. Locally the test, every shard and every DO share one isolate and thread, so spreading over shards cannot go faster here; in production each shard is its own Durable Object (≈ ${SCALE_MODEL.doRequestsPerSecond} req/s each, DESIGN §7).`,
      ],
      table: {
        columns: ['variant', 'calls in flight', 'upserts/s', 'ms per call', 'vs one shard'],
        rows: r.upserts.map((u) => [u.label, `${u.concurrency}`, formatRate(rate(u)), (median(u.ms) / u.calls).toFixed(3), vsBase(u)]),
      },
    },
    {
      title: 'Databases maintained per tick by one shard (local workerd)',
      intro: [
        `${r.params.maintainDatabases} small real databases homed in one shard (test/helpers/chain.ts \`buildChain\`, 4 KiB pages: a snapshot and two changes of 1–3 pages each, pushed through POST …/ltx; three more files before each later pass), then RegistryDO.tick of that shard (src/durable/registry-maintain.ts: \`maintain\` on each due DatabaseDO, then its setDue back) at future minute boundaries that are not 5-minute ones. The steady pass runs in two shards with two sets of databases: ${r.params.concurrency} calls in flight, and one at a time (ms per maintain call). Wall ms around the tick RPC; local R2 on disk, so production calls take longer (R2 round trips).`,
      ],
      table: {
        columns: ['pass', 'in flight', 'due', 'maintained', 'actions', 'tick ms', 'ms per maintain call', 'databases/s per shard'],
        rows: rows.map((row, i) => [...row, perCall[i], perSec[i]]),
      },
      notes: [
        steady && seq
          ? `Locally every DO runs on the test's one thread: ${steady.concurrency} calls in flight make ${formatRate(steady.maintained / (steady.ms / 1000))} databases/s, one at a time ${formatRate(seq.maintained / (seq.ms / 1000))}. In production each database is its own DO: ${SCALE_MODEL.cronConcurrency} in flight at ${(seq.ms / seq.maintained).toFixed(1)} ms a call maintain ${formatRate((SCALE_MODEL.cronConcurrency * 1000 * seq.maintained) / seq.ms)}/s, and the cap of ${SCALE_MODEL.cronMaxPerShard} per tick binds before the tick's 60 s while a call takes under ${((SCALE_MODEL.cronConcurrency * 60_000) / SCALE_MODEL.cronMaxPerShard).toFixed(0)} ms.`
          : '',
        r.snapshotStep
          ? `Chunked snapshot (${r.snapshotStep.what}, src/durable/snapshot-job.ts driven by maintain calls): ${r.snapshotStep.steps} steps of ${r.snapshotStep.stepSeconds.toFixed(2)} s (median), ${formatRate(r.snapshotStep.mbPerSec)} MB/s of database per step; at most ${r.snapshotStep.bufferedMiB.toFixed(1)} MiB of output held by a step (one 8 MiB part and a page at most), workerd peak RSS growth ${r.snapshotStep.peakMiB.toFixed(0)} MiB; the simulation uses this MB/s.`
          : `No chunked-snapshot step measured in this run: the simulation keeps snapshotMBps = ${SCALE_MODEL.snapshotMBps} (BENCHMARKS.md compact, 512 MiB snapshot + 200 change files).`,
      ].filter((x) => x !== ''),
    },
  ];
}

const snapRow = (s: SnapshotSteps) => [
  ...[s.cls.name, size(s.cls.dbBytes), n0(s.inputMB), num(s.seconds)],
  ...[s.chunked ? 'yes' : 'no', `${s.steps}`, num(s.chunked ? Math.min(s.seconds, s.stepSeconds) : s.seconds)],
];

/** The simulation's tables: the write mix, a database's day per class, a million databases' price, shards and cron, snapshot steps. */
export function simSections(r: ScaleResult): Section[] {
  const m = r.model;
  const lvl = (d: ScaleResult['classes'][number]['day']) => [1, 2, 3, 9].map((l) => num(d.compactions[l])).join(' / ');
  const lagS = Math.max(...r.classes.flatMap((c) => c.day.maxLagMs)) / 1000;
  const lagOf = r.classes.filter((c) => c.day.maxLagMs.some((x) => x > 0)).map((c) => c.cls.name);
  const pushBytes = (c: DatabaseClass) => m.ltxFixedBytes + c.pagesPerPush * m.ltxBytesPerPage;
  const s16 = r.loads.find((l) => l.shards === m.defaultShards);
  const due = r.classes[0].day.visitsPerTick.map((_, i) => r.classes.reduce((n, c) => n + c.cls.population * c.day.visitsPerTick[i], 0));
  const hhmm = (i: number) => `${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
  const busiest = due.flatMap((v, i) => (v >= 0.999 * Math.max(...due) ? [hhmm(i)] : [])).join(', ');
  return [
    {
      title: `Simulation: the write mix of ${n0(r.databases)} databases`,
      intro: [
        `One database per class is stepped minute by minute through a warm-up day (more for random schedules) and a measured day over the real planner (\`planMaintenance\` / \`nextMaintenanceDue\`, default config: L1 1 min, L2 5 min, L3 1 h, snapshots 24 h kept 24 h, L0 5 min, grace 60 s): pushes add L0 files, the cron visits it whenever the registry holds it due, the actions are applied to its catalog. Compaction outputs hold the expected distinct pages of their pushes (a hot set plus uniform writes, at most the database), snapshots the whole database, ${m.ltxBytesPerPage} LTX bytes per page. Classes with a random schedule average several seeds whose measured day falls at every phase of their compaction cycle. Then every count is multiplied by the class population. Simulation time: ${(r.simMs / 1000).toFixed(1)} s.`,
      ],
      table: {
        columns: ['class', 'databases', 'size', 'pages per push', 'bytes per push', 'pushes per day'],
        rows: r.classes.map(({ cls, day }) => [
          cls.name,
          n0(cls.population),
          size(cls.dbBytes),
          `${cls.pagesPerPush}`,
          n0(pushBytes(cls)),
          num(day.pushes),
        ]),
      },
      notes: [
        ...r.classes.map((c) => `${c.cls.name}: ${c.cls.why}.`),
        `The default cap LTX_EDGE_MAX_DATABASE_BYTES is ${size(m.maxDatabaseBytes)}: the 10 GiB class needs it raised.`,
      ],
    },
    {
      title: 'Simulation: one database per day, by class',
      table: {
        columns: cols(
          'class|maintain calls|DO requests|L1 / L2 / L3 / snapshots|files deleted|R2 Class A|R2 Class B|R2 deletes (free)|MB written|MB read|MB stored|$ per day',
        ),
        rows: r.classes.map(({ cls, day: d, usdPerDay }) => [
          ...[cls.name, num(d.visits), num(d.pushes + 2 * d.visits + d.upserts), lvl(d)],
          ...[d.filesDeleted, d.classA, d.classB, d.freeOps].map(num),
          ...[d.bytesWritten, d.bytesRead, d.storedBytes].map(mb),
          usd(usdPerDay),
        ]),
      },
      notes: [
        'DO requests: the pushes (ingest), the maintain calls and their setDue, the head upserts. R2 ops as src/durable/ writes and reads: a push or an output ≤ 8 MiB is one put, larger a multipart upload (create + 8 MiB parts + complete, and a head); a merge reads up to 4 inputs streamed (a 4-byte flags get + the body), more of them whole when small; retention deletes are free. Reads by clients are not counted.',
        `Maintenance lag: ${lagS === 0 ? 'none' : `at most ${lagS} s`} — the longest any work the planner had waited for its database's visit${lagOf.length ? ` (${lagOf.join(', ')}: retention of the previous L0 file, which a push in the last ${m.tickDelayMs} ms before a boundary makes deletable while the registry next holds the database due at the next boundary)` : ''}. With enough cron capacity every level runs at its boundary.`,
      ],
    },
    {
      title: `Simulation: ${n0(r.databases)} databases, operations and price per day`,
      table: {
        columns: ['what', 'per day', '$ per day', '$ per month (30 days)'],
        rows: [
          ...r.costs.map((c) => [c.line, num(c.units), usd(c.usdPerDay), usd(c.usdPerDay * 30)]),
          ['total', '', usd(r.usdPerDay), usd(r.usdPerDay * 30)],
        ],
      },
      notes: [
        `Prices: R2 Class A $${m.r2ClassAPerMillion}/M, Class B $${m.r2ClassBPerMillion}/M, storage $${m.r2StoragePerGBMonth}/GB-month (https://developers.cloudflare.com/r2/pricing/); DO requests $${m.doRequestPerMillion}/M, duration $${m.doGBsPerMillion}/M GB-s at 128 MB, SQLite rows written $${m.doRowsWrittenPerMillion}/M (https://developers.cloudflare.com/durable-objects/platform/pricing/); Worker requests $${m.workerRequestPerMillion}/M (https://developers.cloudflare.com/workers/platform/pricing/). Free allowances and the $5 plan left out.`,
        `Average write rate: ${n0(r.pushesPerSec)} pushes/s.`,
      ],
    },
    {
      title: 'Simulation: registry shards and the cron',
      table: {
        columns: cols(
          `shards|requests/s per shard (mean / busiest minute)|of ${m.doRequestsPerSecond}/s|due per shard per tick (mean / busiest)|capacity per tick|headroom at the busiest tick|lag at the busiest tick`,
        ),
        rows: r.loads.map((l) => [
          ...[`${l.shards}`, pair(l.reqPerSec, l.reqPerSecPeak), pct(l.reqPerSecPeak / m.doRequestsPerSecond)],
          ...[
            pair(l.due, l.duePeak),
            n0(l.capacity),
            formatRatio(l.capacity / l.duePeak),
            `${l.lagTicks} tick${l.lagTicks === 1 ? '' : 's'}`,
          ],
        ]),
      },
      notes: [
        `Requests: coalesced head upserts (one in flight per database, so one per push at these rates), one setDue per visit, one tick call a minute. Capacity per tick = min(${m.cronMaxPerShard} (cap), 60 s × min(${m.cronConcurrency} in flight / ${m.maintainCallMs.toFixed(1)} ms per maintain call, requests/s the upserts leave for setDue)).`,
        `The busiest ticks: ${busiest} UTC (at midnight every database written the day before snapshots, and drops yesterday's snapshot a grace later; at the top of an hour every one written in it compacts L3; busy ones compact L1 at every tick). ${s16 && s16.lagTicks > 0 ? `At ${m.defaultShards} shards ${n0(s16.duePeak - s16.capacity)} databases per shard wait one more tick there. ` : ''}${r.shardsNeeded} shards is the fewest with no lag and every shard within ${m.doRequestsPerSecond} requests/s.`,
      ],
    },
    {
      title: 'Simulation: what one deployment handles',
      table: {
        columns: ['shards', 'databases of this mix', 'pushes/s', 'binds first', 'busy databases alone (1 push/s)', 'binds first'],
        rows: r.limits.map((l) => [
          `${l.shards}`,
          n0(l.mix),
          n0((l.mix / r.databases) * r.pushesPerSec),
          l.mixBinds,
          n0(l.busy),
          l.busyBinds,
        ]),
      },
      notes: [
        'The largest multiple of the mix (or of busy databases alone) with no lag at the busiest tick and every shard within its request budget.',
      ],
    },
    {
      title: 'Simulation: snapshot steps',
      table: {
        columns: cols(`class|size|merge input MB|s at ${m.snapshotMBps.toFixed(1)} MB/s|in steps (≥ 256 MiB)|steps|longest call, s`),
        rows: r.snapshots.map(snapRow),
      },
      notes: [
        `A snapshot merges the head's restore plan (yesterday's snapshot + the day's L3, L2, L1, L0 files), so its input exceeds the database. From ${size(m.chunkedSnapshotBytes)} on it runs in steps of at most ${m.snapshotStepMs / 1000} s (src/durable/snapshot-job.ts), each its own DO call (an alarm right after the last one, or the next cron pass), inside the default ${m.doCpuDefaultMs / 1000} s of DO CPU (at most ${m.doCpuMaxMs / 60_000} min) and the ${m.maintenanceBudgetMs / 1000} s budget; smaller ones are one merge in one maintain call. A day's snapshot takes its steps' time, back to back: minutes of a day. The chunked path reads its plan files by ranged gets from their page indexes; the R2 counts above follow the one-merge path (one snapshot a day: too few operations to matter).`,
      ],
    },
  ];
}

/** The simulation's tables as Markdown. */
export function renderScaleSim(r: ScaleResult): string {
  return renderSections({ intro: [], sections: simSections(r) });
}

export const suite: Suite = {
  name: 'scale',
  title: 'registry shards and cron capacity (local workerd), and a simulated day of 1,000,000 databases',
  measurement: 'wall-clock time inside workerd for the measured rows; the simulation counts operations',
  async run(ctx) {
    const given = process.env.LTX_BENCH_PARAMS ? (JSON.parse(process.env.LTX_BENCH_PARAMS) as Partial<ScaleBenchParams>) : {};
    const params: ScaleBenchParams = { ...DEFAULT_PARAMS, ...(ctx.smoke ? SMOKE_PARAMS : ctx.quick ? QUICK_PARAMS : {}), ...given };
    const loadBefore = os.loadavg()[0];
    const { result, rss } = await runWorkerdBench<ScaleBenchResult>(TEST_FILE, 'SCALE_BENCH_RESULT', params, ctx.log);
    if (result.snapshotStep) result.snapshotStep.peakMiB = rssGrowthMiB(rss, result.snapshotStep.window);
    ctx.log(`  measuring in workerd: ${((result.ended - result.started) / 1000).toFixed(1)} s`);
    const model = measuredModel(result);
    const sim = simulateScale({ model, samples: params.samples });
    ctx.log(`  simulation: ${(sim.simMs / 1000).toFixed(1)} s`);
    const from = Object.entries(model).map(([k, v]) => `${k} = ${Number(v).toPrecision(3)}`);
    return {
      intro: [
        `**Local numbers, then a model.** The first two tables run in local workerd under the Vitest Cloudflare plugin (\`vitest.bench.config.ts\`, only \`${TEST_FILE}\`): RegistryDO shards, DatabaseDOs with SQLite storage, R2 emulated by Miniflare on the local disk. The rest is bench/scale-sim.ts: the real maintenance planner over one simulated database per class, scaled to the class populations and priced; every constant is in \`SCALE_MODEL\` (bench/scale-sim-classes.ts) with its source.`,
        `From this run the simulation takes ${from.length ? from.join(', ') : 'nothing (it keeps its defaults)'}. Parameters: ${JSON.stringify(params)} (override with LTX_BENCH_PARAMS). Shards configured: ${result.shards}. Load average (1 min): ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (${os.cpus().length} cores).`,
      ],
      sections: [...measuredSections(result), ...simSections(sim), { title: 'Conclusion', intro: conclusion(sim) }],
    };
  },
};

/** The plain-language answer: what one deployment handles at 16 and 1,024 shards, and what binds first. */
export function conclusion(r: ScaleResult): string[] {
  const m = r.model;
  const [lo, hi] = [r.limits[0], r.limits[r.limits.length - 1]];
  const s16 = r.loads.find((l) => l.shards === lo.shards)!;
  const big = r.snapshots.find((s) => s.cls.name === 'large-10GiB');
  const gib = r.snapshots.find((s) => s.cls.name === 'large-1GiB');
  return [
    `${n0(r.databases)} databases of this mix push ${n0(r.pushesPerSec)} times a second on average and cost about ${usd(r.usdPerDay)} a day (${usd(r.usdPerDay * 30)} a month), almost all of it the ${n0(r.classes.filter((c) => c.day.pushes >= 8640).reduce((n, c) => n + c.cls.population, 0))} databases written every few seconds: per push one R2 put and, larger still, the DO's SQLite rows (a row per changed page, the catalog, the counters, the registry's row).`,
    `With ${lo.shards} shards one deployment handles ${n0(lo.mix)} databases of this mix (${n0((lo.mix / r.databases) * r.pushesPerSec)} pushes/s) without lag; what binds first is ${lo.mixBinds}, at the busiest tick of the day (${n0(s16.duePeak)} due per shard, against ${n0(s16.capacity)}: see the shards table). A million needs ${r.shardsNeeded} shards for no lag at all; at ${lo.shards} the overflow waits one tick. Busy databases alone (a push a second each): ${n0(lo.busy)}, bound by ${lo.busyBinds}: each upserts its head every second.`,
    `With ${hi.shards} shards: ${n0(hi.mix)} databases of this mix (bound by ${hi.mixBinds}), or ${n0(hi.busy)} busy ones, ${n0(hi.busy)} pushes/s (bound by ${hi.busyBinds}). Long before that the bill, which grows with the pushes (R2 puts and SQLite rows) and not with the shards, is the limit that matters.`,
    big && gib
      ? `Snapshots: a 1 GiB database's daily snapshot merges ${n0(gib.inputMB)} MB (yesterday's snapshot and the day's changes), ${num(gib.seconds)} s at ${num(m.snapshotMBps)} MB/s: ${gib.steps} steps of ≤ ${gib.stepSeconds} s; the 10 GiB one ${n0(big.inputMB)} MB, ${n0(big.seconds)} s: ${big.steps} steps, a few minutes of its day. In one call they would need ${num(gib.seconds)} s and ${n0(big.seconds)} s against the default ${m.doCpuDefaultMs / 1000} s of DO CPU (local wall time, an upper bound on the CPU); in steps, a step bounds each call, so size moves the bill (R2 storage, snapshot bytes), not a limit, until LTX_EDGE_MAX_DATABASE_BYTES (${size(m.maxDatabaseBytes)} by default) refuses it.`
      : '',
  ].filter((x) => x !== '');
}

/** workerd's RSS growth (MiB) during `w`: its peak over the last sample before it. */
function rssGrowthMiB(rss: RssSample[], w: { start: number; end: number }): number {
  const before = rss.filter((x) => x.t <= w.start).at(-1) ?? rss[0];
  const during = rss.filter((x) => x.t >= w.start && x.t <= w.end + RSS_SAMPLE_MS);
  if (!before || during.length === 0) return 0;
  return (Math.max(...during.map((x) => x.kib)) - before.kib) / 1024;
}
