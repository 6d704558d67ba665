// Read suite: single pages, page batches and whole snapshots through the real Worker vs raw R2 reads of
// the same bytes from the same isolate, all in local workerd. The measuring runs inside workerd
// (bench/workers/read.bench-test.ts, under vitest.bench.config.ts); this side starts it and renders.

import os from 'node:os';
import { type Section, type Suite, type SuiteContext, formatMiB, formatRate, formatRatio, median } from './harness.ts';
import {
  type CostRow,
  DEFAULT_READ_PARAMS,
  QUICK_READ_PARAMS,
  type ReadBenchParams,
  SMOKE_READ_PARAMS,
  type ReadBenchResult,
} from './read-result.ts';
import { runWorkerdBench } from './workerd-run.ts';

const TEST_FILE = 'bench/workers/read.bench-test.ts';
/** Warm single-page latency at an explicit TXID: ours at most this multiple of a raw R2 range read. */
const PAGE_GOAL = 1.2;
/** A warm page read that hits the edge cache, against a bare cache.match() of the same bytes (issue 13). */
const CACHE_GOAL = 1.2;
/** Batch pages/s and snapshot MB/s: ours at least this fraction of the raw baseline. */
const BATCH_GOAL = 0.8;
const SNAPSHOT_GOAL = 0.8;
/** Share of each variant's slowest rounds left out of its rate (hiccups from other processes). */
const TRIM = 0.1;

async function runInWorkerd(params: ReadBenchParams, ctx: SuiteContext): Promise<ReadBenchResult> {
  return (await runWorkerdBench<ReadBenchResult>(TEST_FILE, 'READ_BENCH_RESULT', params, ctx.log)).result;
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting.

/** Mean of the rounds' times leaving out the slowest TRIM of them. */
function trimmedMean(xs: number[]): number {
  const kept = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, Math.round(xs.length * (1 - TRIM))));
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** The spread of per-round values around their median, as "−a% / +b%". */
function spread(xs: number[]): string {
  const m = median(xs);
  const lo = ((Math.min(...xs) - m) / m) * 100;
  const hi = ((Math.max(...xs) - m) / m) * 100;
  return `${lo.toFixed(0)}% / +${hi.toFixed(0)}%`;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const kib = (b: number) => (b >= 1024 * 1024 ? formatMiB(b) : `${(b / 1024).toFixed(1)} KiB`);
/** Bold when on the wrong side of its goal (atLeast: higher is better). */
const ratioCell = (r: number, goal?: number, atLeast = true) =>
  goal !== undefined && (atLeast ? r < goal : r > goal) ? `**${formatRatio(r)}**` : formatRatio(r);
const verdict = (r: number, goal: number, atLeast = true) => ((atLeast ? r >= goal : r <= goal) ? 'meets the goal' : '**misses the goal**');

// ---------------------------------------------------------------------------------------------
// Sections.

const PAGE_ROWS: { key: string; label: string; what: string }[] = [
  {
    key: 'worker',
    label: 'ours: GET …/pages/:pgno?txid= (Worker entry)',
    what: 'exports.default.fetch: the Worker entry, hono routing, config gate, auth (SHA-256 of the token), plan from the isolate cache, PageSource over the cached page indexes, 1 ranged R2 get, LZ4 decode, Response',
  },
  {
    key: 'app',
    label: '… app.request() in this isolate',
    what: 'the same hono app called directly (src/app.ts app.request with the same env): no Worker entry / loopback request in between',
  },
  {
    key: 'app-auth',
    label: '… app.request() of …/pages/0 (answered 400)',
    what: 'routing, config gate and auth, then the handler refuses the page number: the app path without plan lookup or read',
  },
  {
    key: 'source',
    label: '… PageSource.readPage() alone',
    what: 'a new PageSource per read (as the route makes one per request) over R2ObjectStore and a warm PageIndexCache, the plan in hand: no HTTP, auth or plan lookup',
  },
  {
    key: 'worker-file-range',
    label: 'raw range through the Worker entry: GET …/ltx/:level/:file',
    what: 'our raw-file route with a Range header for the same frame bytes (exports.default.fetch, routing and auth, 1 ranged R2 get streamed back as a 206): the same entry and transport as ours, without plan, index or decode',
  },
  {
    key: 'raw-decode',
    label: 'raw range get + LZ4 decode of the frame',
    what: 'env.LTX_BUCKET.get(key, {range}) of the frame, arrayBuffer(), decodePageFrame',
  },
  {
    key: 'raw',
    label: 'raw R2 range get (baseline)',
    what: "env.LTX_BUCKET.get(key, {range: {offset, length}}) of the same frame bytes (offset and size from the file's page index), arrayBuffer()",
  },
  {
    key: 'cache-match',
    label: 'bare caches.default.match() of the same page bytes',
    what: 'the page bytes stored in the Cache API under a key of their own, matched and read (arrayBuffer()): what an edge-cache hit costs at the least',
  },
  {
    key: 'head-worker',
    label: 'ours at the head: GET …/pages/:pgno',
    what: 'no txid: one DatabaseDO plan() RPC per request (with a hint for the page), then as above',
  },
  {
    key: 'head-plan',
    label: '… the DO plan() RPC alone',
    what: 'env.DATABASE.getByName(db).plan(db, {pgnos: [pgno]}) from this isolate, the call the head read adds',
  },
];

function pageSection(
  p: ReadBenchResult['page'],
  files: number,
): { section: Section; ratio: number; appRatio: number; entryRatio?: number; cacheRatio?: number; cacheAppRatio?: number } {
  const per = (k: string, xs = p.ms[k]) => trimmedMean(xs) / p.perRound;
  const half = (k: string, i: 0 | 1) => {
    const xs = p.ms[k];
    const h = xs.length >> 1;
    return per(k, i === 0 ? xs.slice(0, h) : xs.slice(h));
  };
  const raw = per('raw');
  const present = PAGE_ROWS.filter((r) => p.ms[r.key]?.length);
  const rows = present.map((r) => {
    const m = per(r.key);
    return [
      r.label,
      ms(m),
      `${ms(half(r.key, 0))} / ${ms(half(r.key, 1))}`,
      ms(median(p.ms[r.key]) / p.perRound),
      formatRate(1000 / m),
      r.key === 'raw' ? 'baseline' : ratioCell(m / raw, r.key === 'worker' ? PAGE_GOAL : undefined, false),
    ];
  });
  const ratio = per('worker') / raw;
  const appRatio = per('app') / raw;
  const cacheRatio = p.ms['cache-match']?.length ? per('worker') / per('cache-match') : undefined;
  const cacheAppRatio = p.ms['cache-match']?.length ? per('app') / per('cache-match') : undefined;
  const entryRatio = p.ms['worker-file-range']?.length ? per('worker') / per('worker-file-range') : undefined;
  const halves = ([0, 1] as const).map((i) => formatRatio(half('worker', i) / half('raw', i)));
  const step = (a: string, b: string) => per(a) - per(b);
  const ladder = ['worker', 'app', 'source', 'raw-decode', 'raw'];
  const negative = ladder.some((k, i) => i + 1 < ladder.length && step(k, ladder[i + 1]) < 0);
  return {
    ratio,
    appRatio,
    entryRatio,
    cacheRatio,
    cacheAppRatio,
    section: {
      title: 'Warm single-page reads at an explicit TXID',
      intro: [
        `Random pages (uniform over the database, so most come from the snapshot, a few from the incrementals), one read at a time. ` +
          `Every variant reads the same pages: ${p.rounds} rounds of ${p.perRound} reads per variant, the variants' order rotated every round, after a warm-up that filled the plan cache and every file's page index and checked every variant's bytes. ` +
          `workerd's clock ticks in whole milliseconds, so each round's ${p.perRound} reads are timed together; "ms per read" is the mean over all rounds but each variant's slowest ${TRIM * 100}%, ` +
          `"median round" the median round divided by ${p.perRound}.`,
      ],
      table: { columns: ['variant', 'ms per read', '1st / 2nd half', 'median round', 'reads/s', 'vs raw get'], rows },
      notes: [
        `ours (Worker entry) / raw range get = ${ratioCell(ratio, PAGE_GOAL, false)} (goal ≤ ${formatRatio(PAGE_GOAL)}): ${verdict(ratio, PAGE_GOAL, false)}; ${halves.join(' and ')} over the two halves. ` +
          `Without the loopback request into the Worker entry (app.request, the handler as a production Worker runs it once the request has arrived) ${formatRatio(appRatio)}` +
          (entryRatio === undefined
            ? '.'
            : `; against the same frame bytes served raw through the same Worker entry (GET …/ltx/:level/:file with Range) ${formatRatio(entryRatio)}.`),
        ...present.map((r) => `${r.label}: ${r.what}.`),
        `The ladder, in ms per read (differences between the rows): the Worker entry (loopback request and response) ${ms(step('worker', 'app'))}, ` +
          `hono routing + config gate + auth + plan cache lookup + headers and Response ${ms(step('app', 'source'))} ` +
          `(a request that stops after auth, …/pages/0 → 400 with a JSON error, takes ${ms(per('app-auth'))} in all), ` +
          `PageSource bookkeeping (validatePlan, the newest-first index search over all ${files} plan files, R2ObjectStore, the get limiter, size checks) ${ms(step('source', 'raw-decode'))}, ` +
          `LZ4 decode of one frame ${ms(step('raw-decode', 'raw'))}, the raw get ${ms(raw)}${negative ? ' (a negative step is within the noise)' : ''}. ` +
          `At the head the DO call adds ${ms(step('head-worker', 'worker'))} ms (the plan() RPC alone: ${ms(per('head-plan'))} ms).`,
      ],
    },
  };
}

const BATCH_ROWS: { key: string; label: string }[] = [
  { key: 'worker', label: 'ours: GET …/pages?pgno=…&txid= (Worker entry)' },
  { key: 'source', label: '… PageSource.readPages() alone' },
  { key: 'raw-coalesced', label: 'raw: our coalesced ranged gets, 6 at once, no decode' },
  { key: 'raw-conc', label: 'raw: one range get per frame, 6 at once (baseline)' },
  { key: 'raw-seq', label: 'raw: one range get per frame, one at a time' },
];

function batchSection(
  b: ReadBenchResult['batch'],
  kind: 'scattered' | 'contiguous',
  dbPages: number,
): { section: Section; ratio: number; seqRatio: number } {
  const rate = (k: string) => (b.pages * 1000) / trimmedMean(b.ms[`${kind}:${k}`]);
  const base = rate('raw-conc');
  const seq = rate('raw-seq');
  const rows = BATCH_ROWS.filter((r) => b.ms[`${kind}:${r.key}`]?.length).map((r) => {
    const xs = b.ms[`${kind}:${r.key}`];
    const m = rate(r.key);
    return [
      r.label,
      formatRate(m),
      ms((b.pages * 1000) / m),
      spread(xs),
      r.key === 'raw-conc' ? 'baseline' : ratioCell(m / base, r.key === 'worker' ? BATCH_GOAL : undefined),
      r.key === 'raw-seq' ? 'baseline' : formatRatio(m / seq),
    ];
  });
  const ratio = rate('worker') / base;
  const seqRatio = rate('worker') / seq;
  const gets = b.coalescedGets[kind];
  const spanned = b.coalescedBytes[kind];
  const frames = b.frameBytes[kind];
  const what =
    kind === 'scattered'
      ? `${b.pages} distinct random pages out of ${dbPages}, sent as a comma-separated list`
      : `${b.pages} consecutive pages from a random start, sent as one range (a-b)`;
  return {
    ratio,
    seqRatio,
    section: {
      title: `Batches of ${b.pages} ${kind} pages`,
      intro: [
        `${what}, a new set every round, the same for every variant of the round; ${b.ms[`${kind}:worker`].length} rounds, the variants' order rotated. ` +
          `Rate = pages / time over all rounds but each variant's slowest ${TRIM * 100}%. Our source keeps at most ${b.concurrency} gets in flight (DEFAULT_GET_CONCURRENCY, a Worker's simultaneous connections), so the baseline does the same.`,
      ],
      table: { columns: ['variant', 'pages/s', 'ms per batch', 'spread', `vs raw ×${b.concurrency}`, 'vs raw sequential'], rows },
      notes: [
        `ours / raw (${b.concurrency} at once) = ${ratioCell(ratio, BATCH_GOAL)} (goal ≥ ${formatRatio(BATCH_GOAL)}): ${verdict(ratio, BATCH_GOAL)}; ours / raw one at a time = ${formatRatio(seqRatio)}.`,
        `What our source asks R2 for (median per batch): ${gets} ranged gets spanning ${kib(spanned)} for ${kib(frames)} of frames ` +
          `(${(spanned / frames).toFixed(1)}× the frame bytes: frames up to DEFAULT_MAX_COALESCE_GAP = 64 KiB apart share a get), against ${b.pages} gets of exactly the frames for the raw rows.`,
        `ms per batch, ours: Worker entry + routing + auth + batch encoding ${ms((b.pages * 1000) / rate('worker') - (b.pages * 1000) / rate('source'))}, ` +
          `PageSource beyond its gets (LZ4 decode of ${b.pages} frames, index search, bookkeeping) ${ms((b.pages * 1000) / rate('source') - (b.pages * 1000) / rate('raw-coalesced'))}, ` +
          `its gets alone ${ms((b.pages * 1000) / rate('raw-coalesced'))}.`,
      ],
    },
  };
}

const SNAPSHOT_ROWS: { key: string; label: string; what: string }[] = [
  {
    key: 'worker',
    label: 'ours: GET …/snapshot?format=sqlite&txid= (Worker entry)',
    what: 'the response body read to its end (chunks discarded) in this isolate',
  },
  {
    key: 'direct',
    label: '… snapshotSqlite() in this isolate',
    what: 'the same stream over R2ObjectStore and a warm PageSource, no HTTP: 4 largest files streamed whole and verified (PageReader), the rest scanned through their index, k-way merge, 64 KiB output chunks',
  },
  {
    key: 'memory',
    label: '… snapshotSqlite() over an in-memory store, 64 KiB chunks',
    what: 'the same merge with every object in a MemoryObjectStore (64 KiB body chunks): the CPU floor of our path, no R2 at all',
  },
  {
    key: 'memory-4k',
    label: '… same, 4 KiB chunks',
    what: 'the in-memory store handing out 4 KiB chunks, as local R2 streams do: what small input chunks cost the decoder',
  },
  {
    key: 'raw-ltx',
    label: "raw: stream the plan's LTX objects (baseline)",
    what: 'env.LTX_BUCKET.get(key) of every plan object, one after another, bodies read and discarded: the bytes our path must read',
  },
  {
    key: 'worker-file',
    label: 'raw: the same objects through the Worker entry',
    what: 'GET …/ltx/:level/:file of every plan object (our raw-file route: routing, auth, the R2 body streamed as the response) through exports.default.fetch, read and discarded: the same entry and transport as ours, without decode or merge',
  },
  {
    key: 'raw-ltx-snapshot',
    label: '… the snapshot LTX object alone',
    what: "only the plan's first object (the snapshot, as the push stored it), streamed and discarded",
  },
  {
    key: 'raw-ltx-put',
    label: '… the same bytes stored with one put',
    what: "the snapshot object's bytes put again as a single-part object and streamed: whether the multipart upload the push made changes how fast local R2 streams it",
  },
  {
    key: 'raw-db',
    label: 'raw: stream a plain .db object of the same database',
    what: 'the database file stored as one R2 object (put by the benchmark), streamed and discarded: the same bytes our response carries',
  },
  {
    key: 'worker-ltx',
    label: 'ours: …/snapshot?format=ltx&txid=',
    what: 'the same merge re-encoded as one snapshot LTX file (LZ4 compression of every page)',
  },
];

function snapshotSection(
  s: ReadBenchResult['snapshot'],
  dbBytes: number,
): { section: Section; ratio: number; dbRatio: number; entryRatio?: number; onePartRatio?: number; onePartEntryRatio?: number } {
  // Few rounds of long runs: the median round, not a trimmed mean.
  const t = (k: string) => median(s.ms[k]);
  const mbps = (k: string) => dbBytes / 1e6 / (t(k) / 1000);
  const rows = SNAPSHOT_ROWS.filter((r) => s.ms[r.key]?.length).map((r) => [
    r.label,
    formatRate(mbps(r.key)),
    r.key === 'raw-ltx'
      ? formatRate(s.ltxBytes / 1e6 / (t(r.key) / 1000))
      : r.key === 'raw-ltx-put' || r.key === 'raw-ltx-snapshot'
        ? formatRate(s.snapshotObjectBytes / 1e6 / (t(r.key) / 1000))
        : r.key === 'raw-db'
          ? formatRate(mbps(r.key))
          : '',
    (t(r.key) / 1000).toFixed(3),
    spread(s.ms[r.key]),
    r.key === 'raw-ltx'
      ? 'baseline'
      : r.key === 'raw-ltx-put' || r.key === 'raw-ltx-snapshot'
        ? ''
        : ratioCell(t('raw-ltx') / t(r.key), r.key === 'worker' ? SNAPSHOT_GOAL : undefined),
  ]);
  const ratio = t('raw-ltx') / t('worker');
  const dbRatio = t('raw-db') / t('worker');
  const hasOnePart = s.ms['onepart:worker']?.length > 0;
  const onePartRatio = hasOnePart ? t('onepart:raw-ltx') / t('onepart:worker') : undefined;
  const entryRatio = s.ms['worker-file']?.length ? t('worker-file') / t('worker') : undefined;
  const onePartEntryRatio = s.ms['onepart:worker-file']?.length ? t('onepart:worker-file') / t('onepart:worker') : undefined;
  const onePartNote = hasOnePart
    ? [
        `Local R2 streams a multipart object much slower than the same bytes stored with one put (the two rows above), which slows ours and the baseline alike. ` +
          `After re-putting the snapshot object's identical bytes with one put at its key (${s.ms['onepart:worker'].length} more rounds, order rotated): ` +
          `ours ${formatRate(mbps('onepart:worker'))} MB/s (${(t('onepart:worker') / 1000).toFixed(3)} s), snapshotSqlite() in this isolate ${formatRate(mbps('onepart:direct'))} MB/s, ` +
          `raw stream of the plan's objects ${formatRate(mbps('onepart:raw-ltx'))} MB/s (${formatRate(s.ltxBytes / 1e6 / (t('onepart:raw-ltx') / 1000))} R2 MB/s)` +
          (onePartEntryRatio === undefined
            ? ''
            : `, the same objects through the Worker entry ${formatRate(mbps('onepart:worker-file'))} MB/s`) +
          `: ours / raw = ${ratioCell(onePartRatio!, SNAPSHOT_GOAL)}` +
          (onePartEntryRatio === undefined ? '' : `, ours / raw through the Worker entry = ${formatRatio(onePartEntryRatio)}`) +
          ` (the case where R2 streams every object alike, as in production).`,
      ]
    : [];
  const breakdown = [
    `Where ours goes, in s per snapshot (median rounds, differences between rows): the response through the Worker entry (${s.chunks} chunks of ${s.medianChunk} bytes across the loopback) ${(t('worker') / 1000 - t('direct') / 1000).toFixed(3)}; ` +
      `snapshotSqlite() in this isolate ${(t('direct') / 1000).toFixed(3)}, of which the same merge without R2 takes ${(t('memory') / 1000).toFixed(3)} (64 KiB input chunks) to ${(t('memory-4k') / 1000).toFixed(3)} (4 KiB chunks, as R2 hands them out) ` +
      `and the raw stream of the same objects ${(t('raw-ltx') / 1000).toFixed(3)}: direct ≈ ${((t('memory-4k') + t('raw-ltx')) / 1000).toFixed(3)} = merge + stream, i.e. reading and decoding hardly overlap ` +
      `(the output stream has highWaterMark 0 and each input is read only when the merge asks for its next page).`,
  ];
  return {
    ratio,
    dbRatio,
    entryRatio,
    onePartRatio,
    onePartEntryRatio,
    section: {
      title: 'Whole-database snapshots',
      intro: [
        `The database at the head TXID (${formatMiB(dbBytes)}) as a SQLite file; the plan's LTX objects hold ${formatMiB(s.ltxBytes)}. ` +
          `"MB/s" is database bytes delivered per second (the same ${formatMiB(dbBytes)} for every row, so the ratio is a ratio of times); "R2 MB/s" is what the raw rows pulled from R2 per second. ` +
          `${s.ms.worker.length} rounds after an untimed download that was compared byte for byte with the expected database, and one warm-up per variant; the variants' order rotated. ` +
          `Time = the median round.`,
      ],
      table: { columns: ['variant', 'MB/s', 'R2 MB/s', 's per snapshot', 'spread', 'vs raw LTX stream'], rows },
      notes: [
        `ours / raw stream of the plan's LTX objects = ${ratioCell(ratio, SNAPSHOT_GOAL)} (goal ≥ ${formatRatio(SNAPSHOT_GOAL)}): ${verdict(ratio, SNAPSHOT_GOAL)}` +
          (entryRatio === undefined ? '' : `; against the same objects streamed through the same Worker entry ${formatRatio(entryRatio)}`) +
          `; ours / raw stream of a plain .db object = ${formatRatio(dbRatio)}.`,
        ...SNAPSHOT_ROWS.filter((r) => s.ms[r.key]?.length).map((r) => `${r.label}: ${r.what}.`),
        `Chunking: the Worker's response arrived in ${s.chunks} chunks (median ${s.medianChunk} bytes) although the stream enqueues 64 KiB. Whole-object R2 bodies: ` +
          `the snapshot object (${formatMiB(s.snapshotObjectBytes)}, ${s.snapshotMultipart ? 'a multipart upload' : 'one put'}) ${s.rawChunks} chunks (median ${s.rawMedianChunk} bytes), ` +
          `the same bytes stored with one put ${s.putChunks} chunks (median ${s.putMedianChunk}), the .db object ${s.dbChunks} chunks (median ${s.dbMedianChunk}). ` +
          `format=ltx output: ${formatMiB(s.ltxOutBytes)}.`,
        ...breakdown,
        ...onePartNote,
      ],
    },
  };
}

const COST_ROWS: { key: string; label: string }[] = [
  { key: 'page-head-cold', label: 'page at the head, cold' },
  { key: 'page-txid-cold', label: "page at the head's TXID (explicit), cold" },
  { key: 'page-old-txid-cold', label: 'page at an older TXID, cold (no hints from the DO)' },
  { key: 'page-newest-file-txid-cold', label: 'page held by the newest file, explicit TXID, cold' },
  { key: 'page-head-warm', label: 'page at the head, warm' },
  { key: 'page-txid-warm', label: 'page at an explicit TXID, warm' },
  { key: 'batch-txid-cold', label: 'batch of 256 scattered pages, explicit TXID, cold' },
  { key: 'batch-txid-warm', label: 'batch of 256 scattered pages, explicit TXID, warm' },
  { key: 'snapshot-txid-cold', label: 'snapshot?format=sqlite, explicit TXID, cold' },
  { key: 'snapshot-txid-warm', label: 'snapshot?format=sqlite, explicit TXID, warm' },
  { key: 'hot-txid-1000', label: '1,000 reads of a hot set of 50 pages, explicit TXID (each read once before, then a new isolate)' },
];

/** The hot working set's totals: R2 gets and DO calls over its 1,000 reads (goal: no R2 get). */
function hotNote(cold: CostRow[]): string[] {
  const hot = cold.find((c) => c.key === 'hot-txid-1000');
  if (!hot) return [];
  const gets = hot.gets.reduce((a, b) => a + b, 0);
  const calls = hot.doCalls.reduce((a, b) => a + b, 0);
  return [
    `Hot working set: ${gets} R2 gets and ${calls} DO calls over ${hot.gets.length} reads (goal: 0 R2 gets after warm-up at an explicit TXID): ${gets === 0 ? 'meets the goal' : '**misses the goal**'}. The new isolate's first read makes its plan call; after that an incarnation check at most once a second.`,
  ];
}

function costSection(cold: CostRow[], d: ReadBenchResult['data']): Section {
  const range = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const m = median(xs);
    return lo === hi ? `${m}` : `${m} (${lo}–${hi})`;
  };
  const rows = COST_ROWS.map((r) => ({ r, c: cold.find((c) => c.key === r.key) }))
    .filter((x) => x.c !== undefined)
    .map(({ r, c }) => [r.label, String(c!.gets.length), range(c!.gets), kib(median(c!.bytes)), range(c!.doCalls), ms(median(c!.ms))]);
  const snap = d.files[0];
  return {
    title: 'Cold and warm costs per request (for information)',
    intro: [
      'Counted at the bindings: app.request(url, init, env) with an env whose R2 bucket (get, head) and DatabaseDO namespace (every stub method) count calls; "cold" resets the isolate\'s plan and page-index caches (resetReadCaches) before each request, "warm" reads once untimed first. ' +
        'R2 bytes are the ranges asked for (whole objects: their size). Latency is wall time in this isolate, 1 ms clock.',
    ],
    table: { columns: ['request', 'requests', 'R2 gets', 'R2 bytes (median)', 'DO calls', 'ms (median)'], rows },
    notes: [
      ...hotNote(cold),
      `A cold index load is one ranged get of exactly the index and trailer: the read plan carries each file's index length from the catalog (migration 0007; files catalogued before it fall back to the last 32 KiB, and the rest when longer). The snapshot's index with trailer is ${kib(snap.indexBytes)} (${snap.pages} pages). ` +
        'A frame inside a just-read tail needs no get of its own. These requests run after the snapshot part, i.e. with the snapshot object re-put as one part.',
    ],
  };
}

export const suite: Suite = {
  name: 'read',
  title: 'pages, batches and snapshots through the Worker vs raw R2 reads (local workerd)',
  async run(ctx) {
    const fromEnv = process.env.LTX_BENCH_PARAMS ? (JSON.parse(process.env.LTX_BENCH_PARAMS) as Partial<ReadBenchParams>) : {};
    const params: ReadBenchParams = {
      ...DEFAULT_READ_PARAMS,
      ...(ctx.smoke ? SMOKE_READ_PARAMS : ctx.quick ? QUICK_READ_PARAMS : {}),
      ...fromEnv,
      suite: 'read',
    };
    const t0 = Date.now();
    const loadBefore = os.loadavg()[0];
    const result = await runInWorkerd(params, ctx);
    const loadAfter = os.loadavg()[0];
    ctx.log(
      `  workerd run: ${((Date.now() - t0) / 1000).toFixed(1)} s (measuring ${((result.ended - result.started) / 1000).toFixed(1)} s)`,
    );
    const d = result.data;

    const page = pageSection(result.page, d.files.length);
    const scattered = batchSection(result.batch, 'scattered', d.commit);
    const contiguous = batchSection(result.batch, 'contiguous', d.commit);
    const snap = snapshotSection(result.snapshot, d.dbBytes);
    const glance: Section = {
      title: 'Ratios at a glance',
      table: {
        columns: ['ratio (same run)', 'value', 'goal'],
        rows: [
          ...(page.cacheRatio === undefined
            ? []
            : [
                [
                  'warm page at a TXID (an edge-cache hit), latency: ours / bare cache.match() of the same bytes',
                  ratioCell(page.cacheRatio, CACHE_GOAL, false),
                  `≤ ${formatRatio(CACHE_GOAL)}`,
                ],
                ['… same, app.request (no Worker entry) / bare cache.match()', formatRatio(page.cacheAppRatio!), ''],
              ]),
          ['warm page at a TXID, latency: ours / raw range get', ratioCell(page.ratio, PAGE_GOAL, false), `≤ ${formatRatio(PAGE_GOAL)}`],
          ['… same, app.request (no Worker entry) / raw range get', formatRatio(page.appRatio), ''],
          ...(page.entryRatio === undefined
            ? []
            : [['… ours / the same range through the Worker entry (GET …/ltx/:level/:file)', formatRatio(page.entryRatio), '']]),
          [
            `${result.batch.pages} scattered pages/s: ours / raw range gets ×${result.batch.concurrency}`,
            ratioCell(scattered.ratio, BATCH_GOAL),
            `≥ ${formatRatio(BATCH_GOAL)}`,
          ],
          [
            `${result.batch.pages} contiguous pages/s: ours / raw range gets ×${result.batch.concurrency}`,
            ratioCell(contiguous.ratio, BATCH_GOAL),
            `≥ ${formatRatio(BATCH_GOAL)}`,
          ],
          [
            `… same, vs raw range gets one at a time (scattered, contiguous)`,
            `${formatRatio(scattered.seqRatio)}, ${formatRatio(contiguous.seqRatio)}`,
            '',
          ],
          [
            "snapshot MB/s: ours / raw stream of the plan's LTX objects",
            ratioCell(snap.ratio, SNAPSHOT_GOAL),
            `≥ ${formatRatio(SNAPSHOT_GOAL)}`,
          ],
          ...(snap.entryRatio === undefined
            ? []
            : [['… ours / the same objects through the Worker entry (GET …/ltx/:level/:file)', formatRatio(snap.entryRatio), '']]),
          ['… ours / raw stream of a plain .db object', formatRatio(snap.dbRatio), ''],
          ...(snap.onePartRatio === undefined
            ? []
            : [
                [
                  '… same as the first, snapshot object re-put with one put (no local multipart penalty)',
                  ratioCell(snap.onePartRatio, SNAPSHOT_GOAL),
                  `≥ ${formatRatio(SNAPSHOT_GOAL)}`,
                ],
              ]),
          ...(snap.onePartEntryRatio === undefined
            ? []
            : [['… and vs the same objects through the Worker entry', formatRatio(snap.onePartEntryRatio), '']]),
        ],
      },
      notes: ['Bold: on the wrong side of its goal. Latency ratios: lower is better; rate ratios: higher is better.'],
    };
    const fileList = d.files
      .map((f, i) => (i === 0 ? `snapshot ${formatMiB(f.size)} (${f.pages} pages)` : `${f.pages}`))
      .join(', ')
      .replace(/\), (\d)/, '), then incrementals of $1');
    return {
      intro: [
        '**Local numbers.** Everything runs in local workerd under the Vitest Cloudflare plugin (`vitest.bench.config.ts`, started by this suite, only `' +
          TEST_FILE +
          '`): ' +
          'the Worker (called through its entry, `exports.default.fetch`), the DatabaseDO and the RegistryDO with SQLite storage, and R2 emulated by Miniflare with its blobs on the local disk. ' +
          'The raw baselines call `env.LTX_BUCKET`, the same R2 binding the Worker uses, from the test isolate: a raw R2 read from the same Worker. ' +
          'Absolute numbers are not production numbers (no network between Worker, DO and R2, a local disk instead of R2, a loopback request instead of a client); the ratios are what matter.',
        '**Timing.** Wall-clock time (`performance.now()`, which ticks in whole milliseconds in workerd) around loops of sequential operations. The "Measurement" line above describes the in-process harness of the other suites and does not apply here. ' +
          'Rows compared with each other run in alternating rounds in one workerd, so drift and load from other processes on this shared 2-core VM land on all of them.',
        `**Data.** One database of ${d.commit} pages of ${d.pageSize} bytes (${formatMiB(d.dbBytes)}; bench/corpus.ts mix: 40% orders-like table leaves, 20% index leaves, 20% empty or nearly empty, 20% random), ` +
          `pushed through POST …/ltx as a NoChecksum snapshot LTX file, then ${d.files.length - 1} incrementals that each rewrite 2^i random pages (i = 1..${d.files.length - 1}), all level 0: ` +
          `${fileList} pages. Mean snapshot frame ${Math.round(d.meanFrame)} bytes. Reads are at TXID ${d.txid} (the head), whose plan holds all ${d.files.length} files.`,
        `Parameters: ${JSON.stringify(params)} (override with LTX_BENCH_PARAMS='{"dbMiB":32}'). ` +
          `Load average (1 min) of the machine: ${loadBefore.toFixed(2)} before the run, ${loadAfter.toFixed(2)} after (2 cores; other work was running).`,
      ],
      sections: [glance, page.section, scattered.section, contiguous.section, snap.section, costSection(result.cold, d)],
    };
  },
};
