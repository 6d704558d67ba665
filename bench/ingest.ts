// Ingest suite: pushes through the real Worker + DatabaseDO vs raw R2 writes from a Durable Object, both
// in local workerd. The measuring runs inside workerd (bench/workers/ingest.bench-test.ts, under
// vitest.bench.config.ts); this side starts it, samples workerd's RSS, and renders the report.

import os from 'node:os';
import { type Section, type Suite, type SuiteContext, formatMiB, formatRate, formatRatio, median } from './harness.ts';
import {
  DEFAULT_INGEST_PARAMS,
  type IngestBenchParams,
  type IngestBenchResult,
  QUICK_INGEST_PARAMS,
  SMOKE_INGEST_PARAMS,
  type Split,
} from './ingest-result.ts';
import { RSS_SAMPLE_MS, type RssSample, runWorkerdBench } from './workerd-run.ts';

/** Our push must reach this fraction of the raw R2 baseline, for small and for large files. */
const SMALL_GOAL = 0.8;
const BIG_GOAL = 0.8;

function runInWorkerd(params: IngestBenchParams, ctx: SuiteContext): Promise<{ result: IngestBenchResult; rss: RssSample[] }> {
  return runWorkerdBench<IngestBenchResult>('bench/workers/ingest.bench-test.ts', 'BENCH_RESULT', params, ctx.log);
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/** The spread of per-round values around their median, as "−a% / +b%". */
function spread(xs: number[]): string {
  const m = median(xs);
  const lo = ((Math.min(...xs) - m) / m) * 100;
  const hi = ((Math.max(...xs) - m) / m) * 100;
  return `${lo.toFixed(0)}% / +${hi.toFixed(0)}%`;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratioCell = (r: number, goal?: number) => (goal !== undefined && r < goal ? `**${formatRatio(r)}**` : formatRatio(r));
const verdict = (r: number, goal: number) => (r >= goal ? 'meets the goal' : '**below the goal**');

const SMALL_ROWS: { key: string; label: string; what: string }[] = [
  {
    key: 'app',
    label: "push: POST /v1/databases/:db/ltx, the Worker's handler",
    what: "the real path as a production Worker runs it once the request has arrived (app.request in the calling isolate): hono, auth, request log, the body read whole (it declares ≤ 1 MiB) → DatabaseDO RPC with the bytes → queue, decode+verify, R2 put (create-only), SQLite commit → registry head. The fair floor starts at the same point (the Worker's hop into the DO), so this is the row the goal applies to",
  },
  {
    key: 'http',
    label: "… same, through the Vitest pool's Worker entry",
    what: "exports.default.fetch: the request handed into the Worker by the pool's loopback, the part production's network ingress plays; the floor has no such step",
  },
  {
    key: 'http-log',
    label: '… and the request log line forwarded to the test runner',
    what: "the rows above write their one request log line (console.log) to a no-op: under the Vitest pool every console.log is sent to the test runner, a cost production's stdout logging does not have; this row keeps it",
  },
  {
    key: 'rpc',
    label: '… DO RPC ingest(), no Worker',
    what: 'the DO stub called from the test isolate with the same bytes: no HTTP routing, auth or body read',
  },
  {
    key: 'do-ingest',
    label: '… DatabaseDO.ingest() in the DO',
    what: 'called inside the DO (runInDurableObject): no stream crosses an RPC boundary',
  },
  {
    key: 'ingestLTX',
    label: '… ingestLTX() alone',
    what: 'inside the DO, no mutation queue, no name row, no registry upsert (every R2 and SQL call timed)',
  },
  {
    key: 'floor',
    label: 'fair floor: hop into the DO + put + one SQLite commit',
    what:
      'what any correct push must do: a call into the DO (runInDurableObject) with the body as a stream read whole, the put (create-only + metadata), ' +
      "one transactionSync of the rows ours commits (a page row per changed page, the position, the file's catalog row); no decode, no checks",
  },
  {
    key: 'raw-put-sql',
    label: 'raw put, create-only + metadata, after SQL writes',
    what: 'the same put from a DO right after 4 SQLite writes in that DO (clear pages_staging, stage 3 page checksums), as ingestLTX writes before its put',
  },
  {
    key: 'raw-put-opts',
    label: 'raw put, create-only + metadata',
    what: 'env.LTX_BUCKET.put from a DO with onlyIf {etagDoesNotMatch: "*"} and the litestream-timestamp metadata, as ours does',
  },
  { key: 'raw-put', label: 'raw put (baseline)', what: 'env.LTX_BUCKET.put(key, bytes) from a DO, nothing else' },
];

const BIG_ROWS: { key: string; label: string }[] = [
  { key: 'http', label: 'push: POST /v1/databases/:db/ltx' },
  { key: 'http-byob', label: '… same, DO reads the body with BYOB readAtLeast(1 MiB)' },
  { key: 'ingestLTX', label: '… ingestLTX() alone, 64 KiB chunks in the DO' },
  { key: 'raw-multipart', label: 'raw multipart, 8 MiB parts (baseline)' },
];

function splitNotes(s: Split): string[] {
  const rest = s.totalMs - s.r2Ms - s.sqlMs - s.txnMs;
  const pct = (v: number) => `${((v / s.totalMs) * 100).toFixed(0)}%`;
  const each = (v: number) => `${ms(v / s.ops)} ms`;
  return [
    `Where ingestLTX's time goes, per push (the ingestLTX row, ${s.ops} pushes, every R2 and SQL call timed): ` +
      `R2 ${each(s.r2Ms)} (${pct(s.r2Ms)}; ${(s.r2Calls / s.ops).toFixed(s.r2Calls % s.ops ? 1 : 0)} call${s.r2Calls === s.ops ? '' : 's'}), ` +
      `SQL outside the commit ${each(s.sqlMs)} (${pct(s.sqlMs)}; ${Math.round(s.sqlCalls / s.ops)} statements), ` +
      `commit transaction ${each(s.txnMs)} (${pct(s.txnMs)}), ` +
      `the rest (decode+verify with CRC-64, stream reads, part buffering) ${each(rest)} (${pct(rest)}); total ${each(s.totalMs)}.`,
  ];
}

/** Share of each variant's slowest rounds left out of its small-push rate (hiccups from other processes). */
const TRIM = 0.1;

/** Pushes per second over the rounds, leaving out the slowest TRIM of them. */
function trimmedRate(roundMs: number[], perRound: number): number {
  const kept = [...roundMs].sort((a, b) => a - b).slice(0, Math.max(1, Math.round(roundMs.length * (1 - TRIM))));
  return (kept.length * perRound) / (kept.reduce((a, b) => a + b, 0) / 1000);
}

function smallSection(s: NonNullable<IngestBenchResult['small']>): { section: Section; ratio: number; rawRatio: number } {
  const rate = (k: string, xs = s.roundMs[k]) => trimmedRate(xs, s.perRound);
  const half = (k: string, i: 0 | 1) => {
    const xs = s.roundMs[k];
    const h = xs.length >> 1;
    return rate(k, i === 0 ? xs.slice(0, h) : xs.slice(h));
  };
  const raw = rate('raw-put');
  const floor = s.roundMs.floor?.length ? rate('floor') : Number.NaN;
  const present = SMALL_ROWS.filter((r) => s.roundMs[r.key]?.length);
  const rows = present.map((r) => {
    const m = rate(r.key);
    return [
      r.label,
      formatRate(m),
      `${formatRate(half(r.key, 0))} / ${formatRate(half(r.key, 1))}`,
      ms(1000 / m),
      r.key === 'raw-put' ? 'baseline' : formatRatio(m / raw),
      r.key === 'floor' ? 'floor' : s.roundMs.floor?.length ? ratioCell(m / floor, r.key === 'app' ? SMALL_GOAL : undefined) : '',
    ];
  });
  const halfRatios = ([0, 1] as const).map((i) => formatRatio(half('app', i) / half('floor', i)));
  const step = (a: string, b: string) => 1000 / rate(a) - 1000 / rate(b);
  const ladder = ['app', 'rpc', 'do-ingest', 'ingestLTX', 'raw-put-sql', 'raw-put-opts', 'raw-put'];
  const negative = ladder.some((k, i) => i + 1 < ladder.length && step(k, ladder[i + 1]) < 0);
  const ratio = rate('app') / floor;
  const rawRatio = rate('app') / raw;
  return {
    ratio,
    rawRatio,
    section: {
      title: 'Small pushes, one writer',
      intro: [
        `${s.files} files of one contiguous chain (test/helpers/chain.ts \`buildChain\`, seed 4242, 4 KiB pages, NoChecksum): ` +
          `${s.bytes.min}–${s.bytes.max} bytes, median ${s.bytes.median}, mean ${Math.round(s.bytes.mean)} (each changes 1–3 pages, some random, most compressible, and grows or shrinks the database a little). ` +
          `Each push waits for the previous one. Every variant pushes the same files, to its own database (or, raw, to its own keys): ` +
          `${s.warmup} files each as warm-up, then ${s.rounds} rounds of ${s.perRound} per variant, the variants' order rotated every round. ` +
          `The rate is pushes / time over all rounds but each variant's slowest ${TRIM * 100}% (hiccups from other processes); ` +
          `"1st / 2nd half" is the same rate over each half of the rounds, to show how steady it was.`,
      ],
      table: {
        columns: ['variant', 'pushes/s', '1st / 2nd half', 'ms each', 'vs raw put', 'vs fair floor'],
        rows,
      },
      notes: [
        `push / fair floor = ${ratioCell(ratio, SMALL_GOAL)} (goal ≥ ${formatRatio(SMALL_GOAL)}): ${verdict(ratio, SMALL_GOAL)}; ${halfRatios.join(' and ')} over the two halves. ` +
          `Through the pool's Worker entry ${formatRatio(rate('http') / floor)}, with the log line forwarded too ${formatRatio(rate('http-log') / floor)}. ` +
          `push / raw put = ${formatRatio(rawRatio)} (for information: no correct push is a bare put).`,
        ...present.map((r) => `${r.label}: ${r.what}.`),
        `The ladder, in ms per push (differences between the rows): the pool's Worker entry ${ms(step('http', 'app'))} and its log forwarding ${ms(step('http-log', 'http'))} (not in the goal's row); ` +
          `routing, auth, request log and the body read ${ms(step('app', 'rpc'))}, the bytes over RPC ${ms(step('rpc', 'do-ingest'))}, DatabaseDO.ingest's extras (mutation queue, stats counters, the registry shard's head announcement sent from the DO's turn, watchers) ${ms(step('do-ingest', 'ingestLTX'))}, ` +
          `decode+verify + SQL ${ms(step('ingestLTX', 'raw-put-sql'))}, the put waiting for the DO's SQLite writes before it (the output gate holds outgoing I/O until they are durable) ${ms(step('raw-put-sql', 'raw-put-opts'))}, ` +
          `create-only condition + metadata on the put ${ms(step('raw-put-opts', 'raw-put'))}, ` +
          `the bare put ${ms(1000 / raw)}${negative ? ' (a negative step is within the noise)' : ''}.`,
        ...splitNotes(s.split),
      ],
    },
  };
}

function memoryNotes(big: NonNullable<IngestBenchResult['big']>, rss: RssSample[]): string[] {
  if (rss.length === 0) return ['workerd memory: no RSS samples (no /proc, or workerd not found under the vitest process).'];
  const per: Record<string, { peak: number; delta: number }[]> = {};
  for (const w of big.windows) {
    const before = rss.filter((x) => x.t <= w.start).at(-1) ?? rss[0];
    const during = rss.filter((x) => x.t >= w.start && x.t <= w.end + RSS_SAMPLE_MS);
    if (during.length === 0) continue;
    const peak = Math.max(...during.map((x) => x.kib));
    (per[w.variant] ??= []).push({ peak, delta: peak - before.kib });
  }
  const mib = (kib: number) => formatMiB(kib * 1024);
  const rows = BIG_ROWS.filter((r) => per[r.key]).map(
    (r) =>
      `${r.label}: peak ${mib(Math.max(...per[r.key].map((x) => x.peak)))}, growth during the run ${mib(median(per[r.key].map((x) => x.delta)))} (median over rounds)`,
  );
  const maxAll = Math.max(...rss.map((x) => x.kib));
  return [
    `workerd memory (RSS of the workerd process under vitest, read from /proc/<pid>/status every ${RSS_SAMPLE_MS} ms from Node; it holds the test runner, the Worker, every DO and local R2, ` +
      `including the ${formatMiB(big.bytes)} source file the test keeps, so only the growth during a run says something about that path; freed memory is not always returned to the OS): ` +
      `${rows.join('; ')}. Highest RSS of the whole run: ${mib(maxAll)}. ` +
      `The pushes send the body as a pull stream, as a streaming client does; sent as one in-memory Uint8Array instead, the whole body got buffered ` +
      `on the way in (RSS grew by about the file size in development runs), which says nothing about the DO.`,
  ];
}

function bigSection(b: NonNullable<IngestBenchResult['big']>, rss: RssSample[]): { section: Section; ratio: number } {
  const med = (k: string) => median(b.mbps[k]);
  const raw = med('raw-multipart');
  const rows = BIG_ROWS.filter((r) => b.mbps[r.key]?.length).map((r) => {
    const m = med(r.key);
    return [
      r.label,
      formatRate(m),
      spread(b.mbps[r.key]),
      (b.bytes / 1e6 / m).toFixed(2),
      r.key === 'raw-multipart' ? 'baseline' : ratioCell(m / raw, r.key === 'http' ? BIG_GOAL : undefined),
    ];
  });
  const ratio = med('http') / raw;
  return {
    ratio,
    section: {
      title: 'One big push',
      intro: [
        `One snapshot LTX file of ${b.pages} incompressible ${b.pageSize}-byte pages (seeded xorshift128, NoChecksum), ${formatMiB(b.bytes)} on the wire, ` +
          `pushed to a fresh database each round; ours streams it through a multipart upload with ${formatMiB(b.partSize)} parts (DEFAULT_PART_SIZE), ` +
          `the baseline uploads the same bytes from a DO (createMultipartUpload, uploadPart ${formatMiB(b.partSize)} each, complete). ` +
          `${b.rounds} rounds, the variants' order rotated every round; objects are deleted between runs, untimed. MB = 10^6 bytes.`,
      ],
      table: {
        columns: ['variant', 'MB/s', 'spread', 's per file', 'vs raw multipart'],
        rows,
      },
      notes: [
        `push / raw multipart = ${ratioCell(ratio, BIG_GOAL)} (goal ≥ ${formatRatio(BIG_GOAL)}): ${verdict(ratio, BIG_GOAL)}`,
        `Transport: in an untimed push of a ${formatMiB(b.transport.bytes)} file (streamed body) the DO's default reader got ${b.transport.reads} chunks, ` +
          `median ${b.transport.medianChunk} bytes, largest ${b.transport.maxChunk} (≈${Math.round(b.bytes / b.transport.medianChunk)} reads for the big file): ` +
          `src/durable/ingest.ts awaits one read per chunk, and each crosses the Worker→DO RPC stream. The BYOB row (a test-only wrapper around DatabaseDO.prototype.ingest, ` +
          `${b.byobSupported ? 'the body supports BYOB readAtLeast' : 'NOT APPLIED: the body had no BYOB reader, so that row is the plain path'}) ` +
          `reads the same body into 1 MiB buffers first; the ingestLTX row feeds 64 KiB chunks inside the DO, with no transport at all.`,
        ...splitNotes(b.split),
        ...memoryNotes(b, rss),
      ],
    },
  };
}

export const suite: Suite = {
  name: 'ingest',
  title: 'pushes through the Worker and DO vs raw R2 writes from a DO (local workerd)',
  async run(ctx) {
    const env = process.env.LTX_BENCH_PARAMS ? (JSON.parse(process.env.LTX_BENCH_PARAMS) as Partial<IngestBenchParams>) : {};
    const params: IngestBenchParams = {
      ...DEFAULT_INGEST_PARAMS,
      ...(ctx.smoke ? SMOKE_INGEST_PARAMS : ctx.quick ? QUICK_INGEST_PARAMS : {}),
      ...env,
    };
    const t0 = Date.now();
    const loadBefore = os.loadavg()[0];
    const { result, rss } = await runInWorkerd(params, ctx);
    const loadAfter = os.loadavg()[0];
    ctx.log(
      `  workerd run: ${((Date.now() - t0) / 1000).toFixed(1)} s (measuring ${((result.ended - result.started) / 1000).toFixed(1)} s)`,
    );

    const sections: Section[] = [];
    const glance: string[][] = [];
    if (result.small) {
      const { section, ratio, rawRatio } = smallSection(result.small);
      sections.push(section);
      glance.push(['small pushes/s, push / fair floor (hop + put + commit)', ratioCell(ratio, SMALL_GOAL), `≥ ${formatRatio(SMALL_GOAL)}`]);
      glance.push(['small pushes/s, push / raw put (for information)', formatRatio(rawRatio), '']);
    }
    if (result.big) {
      const { section, ratio } = bigSection(result.big, rss);
      sections.push(section);
      glance.push([
        `big push MB/s (${formatMiB(result.big.bytes)}), push / raw multipart`,
        ratioCell(ratio, BIG_GOAL),
        `≥ ${formatRatio(BIG_GOAL)}`,
      ]);
    }
    sections.unshift({
      title: 'Ratios at a glance',
      table: { columns: ['ratio (same run)', 'value', 'goal'], rows: glance },
      notes: ['Bold: below its goal.'],
    });

    return {
      intro: [
        '**Local numbers.** Everything runs in local workerd under the Vitest Cloudflare plugin (`vitest.bench.config.ts`, started by this suite): ' +
          'the Worker, the DatabaseDO and the RegistryDO with SQLite storage, and R2 emulated by Miniflare with its blobs on the local disk (a temporary /tmp/miniflare-*/r2 directory). ' +
          'The absolute numbers are not production numbers (no network between Worker, DO and R2; a local disk instead of R2). ' +
          'The ratios show what our path adds on top of the R2 writes it has to make: transport into the DO, decode+verify, checksums, the catalog commit.',
        '**Timing.** Wall-clock time (`performance.now()`) inside workerd around each loop of sequential operations: the client side for pushes, inside a ' +
          'Durable Object for the raw baselines (so the raw rows pay no transport at all). The "Measurement" line above describes the in-process ' +
          'harness of the other suites and does not apply here. Rows compared with each other run in alternating rounds in one workerd, so drift and ' +
          'load from other processes on this shared 2-core VM land on all of them; expect the absolute numbers to move by tens of percent between runs ' +
          'and the ratios much less.',
        `Parameters: ${JSON.stringify(params)} (override with LTX_BENCH_PARAMS='{"bigMiB":64}'). ` +
          `Load average (1 min) of the machine: ${loadBefore.toFixed(2)} before the run, ${loadAfter.toFixed(2)} after (2 cores; other work was running).`,
      ],
      sections,
    };
  },
};
