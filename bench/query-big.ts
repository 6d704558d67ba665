// Query suite, part 1: point-in-time SQL on a ~100 MB database through the real local platform
// (wrangler dev: Worker + DO + local R2) vs restore-then-query (download the snapshot, open it with node:sqlite).

import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ApiClient } from '../src/remote/http-client.ts';
import { importDatabase } from '../src/cli/import.ts';
import { type Section, type SuiteContext, prng, median } from './harness.ts';
import { DEV_TOKEN, LocalPlatform } from './local-platform.ts';
import { BIG_PAGE_SIZE, BIG_ROWS, BIG_SEED, BIG_USERS, baseDatabase, buildLaterTransactions } from './query-big-data.ts';

const DB = 'big';
/** The past TXID the queries run at (the head is TXID 4). */
const AT = 2;
const AT_HEX = AT.toString(16).padStart(16, '0');
/** Goals of issue 6: pages a cold indexed point lookup fetches, and how much faster than restore-then-query. */
const PAGES_GOAL = 12;
const RATIO_GOAL = 50;

type Value = number | string | null;

interface BigQuery {
  name: string;
  sql: string;
  /** Distinct parameter sets, drawn from the database at TXID AT (seeded). */
  keys(db: DatabaseSync, n: number, r: ReturnType<typeof prng>): Value[][];
}

/** Distinct picks of `n` from `xs` (seeded). */
function pick<T>(xs: T[], n: number, r: ReturnType<typeof prng>): T[] {
  const a = [...xs];
  for (let i = 0; i < n && i < a.length; i++) {
    const j = i + r.int(a.length - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  if (a.length < n) throw new Error(`only ${a.length} keys, ${n} wanted`);
  return a.slice(0, n);
}
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Keys fall where the later transactions change rows (users 1–50, ids 400,001–480,000), so an answer
// at TXID 2 differs from the head's: a server that ignored `txid` would fail the answer check.
const SELECT_ONE: BigQuery = { name: 'SELECT 1', sql: 'SELECT 1', keys: () => [] };

const QUERIES: BigQuery[] = [
  {
    name: 'indexed point lookup (user_id, ts)',
    sql: 'SELECT id, user_id, kind, ts, payload FROM events WHERE user_id = ? AND ts = ?',
    keys: (db, n, r) => {
      const rows = db.prepare('SELECT user_id, ts FROM events WHERE user_id <= 50 AND id % 3 = 0').all() as {
        user_id: number;
        ts: number;
      }[];
      return pick(rows, n, r).map((x) => [x.user_id, x.ts]);
    },
  },
  {
    name: "index range scan: one user's events",
    sql: 'SELECT id, kind, ts, payload FROM events WHERE user_id = ? ORDER BY ts',
    keys: (_db, n, r) => pick(range(1, 50), n, r).map((u) => [u]),
  },
  {
    name: 'rowid range scan: 500 events',
    sql: 'SELECT id, user_id, kind, ts FROM events WHERE id BETWEEN ? AND ?',
    keys: (_db, n, r) => pick(range(0, 158), n, r).map((k) => [400_001 + k * 500, 400_500 + k * 500]),
  },
  {
    name: 'aggregate: GROUP BY kind over 10,000 rowids',
    sql: 'SELECT kind, count(*), sum(length(payload)), min(ts), max(ts) FROM events WHERE id BETWEEN ? AND ? GROUP BY kind ORDER BY kind',
    keys: (_db, n, r) => pick(range(0, 69), n, r).map((k) => [400_001 + k * 1000, 410_000 + k * 1000]),
  },
  {
    name: 'aggregate over the index: 100 users',
    sql: 'SELECT count(*), min(ts), max(ts), sum(ts % 997) FROM events WHERE user_id BETWEEN ? AND ?',
    keys: (_db, n, r) => pick(range(1, 50), n, r).map((u) => [u, u + 99]),
  },
];

interface Stats {
  pagesRead: number;
  pagesFetched: number;
  sharedCacheHits: number;
  r2Reads: number;
  fetchRounds: number;
  doCalls: number;
  ms: number;
}
interface EdgeRun {
  ms: number;
  stats: Stats;
  rows: Value[][];
  /** The answer's Server-Timing: ms per phase (plan, indexes, engine, sql). */
  timing: Record<string, number>;
}

/** `plan;dur=3, sql;dur=5` → {plan: 3, sql: 5} (a phase named twice adds up). */
function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const m = /^\s*([a-z]+);dur=(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}
interface RestoreRun {
  ms: number;
  downloadMs: number;
  queryMs: number;
  bytes: number;
  rows: Value[][];
}

function allRows(db: DatabaseSync, sql: string, params: Value[]): Value[][] {
  return (db.prepare(sql).all(...params) as Record<string, Value>[]).map((row) => Object.values(row));
}

async function edgeQuery(url: string, q: BigQuery, params: Value[]): Promise<EdgeRun> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/databases/${DB}/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: q.sql, params, txid: AT_HEX }),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${q.name}: ${res.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { rows: Value[][]; pos: { txid: string }; stats: Stats };
  if (body.pos.txid !== AT_HEX) throw new Error(`${q.name}: answered at ${body.pos.txid}, not ${AT_HEX}`);
  return { ms, stats: body.stats, rows: body.rows, timing: parseServerTiming(res.headers.get('server-timing')) };
}

/** The baseline: download the database at TXID AT to a file, open it with node:sqlite, run the query. */
async function restoreThenQuery(url: string, q: BigQuery, params: Value[], dir: string): Promise<RestoreRun> {
  const file = path.join(dir, 'restored.db');
  rmSync(file, { force: true });
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/databases/${DB}/snapshot?txid=${AT_HEX}&format=sqlite`, {
    headers: { authorization: `Bearer ${DEV_TOKEN}` },
  });
  if (res.status !== 200 || res.body === null) throw new Error(`snapshot: ${res.status} ${await res.text()}`);
  const fd = openSync(file, 'w');
  try {
    for await (const chunk of res.body) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  const t1 = performance.now();
  const db = new DatabaseSync(file, { readOnly: true });
  let rows: Value[][];
  try {
    rows = allRows(db, q.sql, params);
  } finally {
    db.close();
  }
  const t2 = performance.now();
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  return { ms: t2 - t0, downloadMs: t1 - t0, queryMs: t2 - t1, bytes, rows };
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');
const ratio = (v: number): string => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}×`;

function check(what: string, got: Value[][], want: Value[][]): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(
      `${what}: wrong answer (${got.length} rows, want ${want.length}): ${JSON.stringify(got).slice(0, 300)} vs ${JSON.stringify(want).slice(0, 300)}`,
    );
  }
}

/** Part 1 of the query suite. Skipped with LTX_BENCH_QUERY_BIG=0. */
export async function runBigQuery(ctx: SuiteContext): Promise<{ intro: string[]; sections: Section[] }> {
  const reps = Number(process.env.LTX_BENCH_QUERY_BIG_REPS ?? (ctx.quick ? 1 : 3));
  /** Warm runs are cheap (no restart, no download) and the noisiest (a few ms each): more of them. */
  const warmReps = Math.max(reps, Number(process.env.LTX_BENCH_QUERY_BIG_WARM_REPS ?? (ctx.smoke ? 1 : ctx.quick ? 2 : 11)));
  const loadBefore = loadavg()[0];
  ctx.log(
    `  big database: seed ${BIG_SEED} (LTX_BENCH_QUERY_BIG_SEED=${BIG_SEED} repeats it), ${reps} fresh-isolate and restore-then-query runs, ${warmReps} warm runs per query`,
  );
  const base = baseDatabase(ctx.log);
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-bench-query-big-'));
  const platform = await LocalPlatform.start();
  try {
    const { txs, kept } = buildLaterTransactions(base, dir, AT);
    const head = path.join(dir, 'work.db');
    const baseBytes = statSync(base).size;

    // Parameters: reps + 1 + warmReps distinct keys per query (fresh isolate, one unmeasured warm-up, warm isolate).
    const r = prng(BIG_SEED + 2);
    const local = new DatabaseSync(kept, { readOnly: true });
    const headDb = new DatabaseSync(head, { readOnly: true });
    const keys: Value[][][] = [];
    const expected: Value[][][][] = [];
    let differ = 0;
    let total = 0;
    try {
      for (const q of QUERIES) {
        const ks = q.keys(local, reps + 1 + warmReps, r);
        keys.push(ks);
        expected.push(ks.map((k) => allRows(local, q.sql, k)));
        for (const k of ks) {
          total++;
          if (JSON.stringify(allRows(local, q.sql, k)) !== JSON.stringify(allRows(headDb, q.sql, k))) differ++;
        }
      }
    } finally {
      local.close();
      headDb.close();
    }
    ctx.log(`  answers at TXID ${AT} differ from the head's for ${differ} of ${total} keys`);

    // Push: TXID 1 streamed through LTXEncoder (ltx-edge import), then each later transaction as an L0 file.
    const client = new ApiClient({ url: platform.url, token: DEV_TOKEN });
    const t0 = performance.now();
    const imported = await importDatabase(client, DB, base, { progress: false, timestamp: Date.now() - 600_000 });
    const importMs = performance.now() - t0;
    ctx.log(
      `  import: ${(baseBytes / 1e6).toFixed(1)} MB → ${(imported.ltxBytes / 1e6).toFixed(1)} MB LTX in ${(importMs / 1000).toFixed(1)} s`,
    );
    for (const tx of txs) {
      const pushed = await client.pushLTX(DB, () => tx.ltx);
      if (pushed.pos.txid !== tx.txid.toString(16).padStart(16, '0')) throw new Error(`push of TXID ${tx.txid}: ${JSON.stringify(pushed)}`);
    }
    const files = (
      await client.json<{ files: { level: number; minTXID: string; maxTXID: string; size: number }[] }>('GET', `/v1/databases/${DB}/ltx`)
    ).body.files;

    // Fresh isolate: wrangler dev restarted before every query (empty isolate caches, a cold DO).
    const fresh: EdgeRun[][] = QUERIES.map(() => []);
    const firstQuery: EdgeRun[] = [];
    for (let k = 0; k < reps; k++) {
      for (let qi = 0; qi < QUERIES.length; qi++) {
        await platform.restart();
        const run = await edgeQuery(platform.url, QUERIES[qi], keys[qi][k]);
        check(`fresh ${QUERIES[qi].name}`, run.rows, expected[qi][k]);
        fresh[qi].push(run);
        ctx.log(
          `  fresh isolate / ${QUERIES[qi].name}: ${ms(run.ms)} ms, ${run.stats.pagesFetched} pages fetched, ${run.stats.r2Reads} R2 reads`,
        );
      }
      // What any first query of an isolate costs: SELECT 1 reads page 1 only.
      await platform.restart();
      const one = await edgeQuery(platform.url, SELECT_ONE, []);
      check('fresh SELECT 1', one.rows, [[1]]);
      firstQuery.push(one);
    }
    // Warm isolate: one unmeasured query per shape with its own key, then new keys (leaves cold) and a repeat.
    for (let qi = 0; qi < QUERIES.length; qi++)
      check('warm-up', (await edgeQuery(platform.url, QUERIES[qi], keys[qi][reps])).rows, expected[qi][reps]);
    const warm: EdgeRun[][] = QUERIES.map(() => []);
    const again: EdgeRun[][] = QUERIES.map(() => []);
    const restore: RestoreRun[][] = QUERIES.map(() => []);
    for (let k = 0; k < warmReps; k++) {
      for (let qi = 0; qi < QUERIES.length; qi++) {
        const q = QUERIES[qi];
        const key = keys[qi][reps + 1 + k];
        const want = expected[qi][reps + 1 + k];
        const w = await edgeQuery(platform.url, q, key);
        check(`warm ${q.name}`, w.rows, want);
        const a = await edgeQuery(platform.url, q, key);
        check(`repeat ${q.name}`, a.rows, want);
        warm[qi].push(w);
        again[qi].push(a);
        // The baseline on the first `reps` of these keys, interleaved with the edge runs.
        const b = k < reps ? await restoreThenQuery(platform.url, q, key, dir) : undefined;
        if (b) {
          check(`restore-then-query ${q.name}`, b.rows, want);
          restore[qi].push(b);
        }
        ctx.log(`  warm / ${q.name}: ${ms(w.ms)} ms (repeat ${ms(a.ms)} ms)${b ? `, restore-then-query ${ms(b.ms)} ms` : ''}`);
      }
    }
    return render({
      reps,
      warmReps,
      firstQuery,
      load: [loadBefore, loadavg()[0]],
      baseBytes,
      importMs,
      ltxBytes: imported.ltxBytes,
      txs,
      files,
      differ,
      total,
      fresh,
      warm,
      again,
      restore,
    });
  } finally {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Results {
  reps: number;
  /** `SELECT 1` as the first query of a fresh isolate. */
  firstQuery: EdgeRun[];
  warmReps: number;
  /** Load average (1 min) before and after. */
  load: [number, number];
  baseBytes: number;
  importMs: number;
  ltxBytes: number;
  txs: ReturnType<typeof buildLaterTransactions>['txs'];
  files: { level: number; minTXID: string; maxTXID: string; size: number }[];
  differ: number;
  total: number;
  fresh: EdgeRun[][];
  warm: EdgeRun[][];
  again: EdgeRun[][];
  restore: RestoreRun[][];
}

function render(x: Results): { intro: string[]; sections: Section[] } {
  const med = <T>(runs: T[], f: (r: T) => number): number => median(runs.map(f));
  const edgeCells = (runs: EdgeRun[]): string[] => [
    ms(med(runs, (s) => s.ms)),
    ms(med(runs, (s) => s.stats.ms)),
    `${n0(med(runs, (s) => s.stats.pagesFetched))} / ${n0(med(runs, (s) => s.stats.pagesRead))}`,
    n0(med(runs, (s) => s.stats.r2Reads)),
    n0(med(runs, (s) => s.stats.fetchRounds)),
  ];
  const pageRows = QUERIES.map((q, qi) => [
    q.name,
    n0(med(x.warm[qi], (s) => s.rows.length)),
    ...edgeCells(x.fresh[qi]),
    ...edgeCells(x.warm[qi]),
    ms(med(x.again[qi], (s) => s.ms)),
  ]);
  const ratioRows = QUERIES.map((q, qi) => {
    const base = med(x.restore[qi], (s) => s.ms);
    const fr = base / med(x.fresh[qi], (s) => s.ms);
    const wr = base / med(x.warm[qi], (s) => s.ms);
    const goal = qi === 0 ? `≥ ${RATIO_GOAL}×` : '';
    const bold = (v: number): string => (qi === 0 && v < RATIO_GOAL ? `**${ratio(v)}**` : ratio(v));
    return [
      q.name,
      ms(base),
      `${ms(med(x.restore[qi], (s) => s.downloadMs))} + ${ms(med(x.restore[qi], (s) => s.queryMs))}`,
      ms(med(x.fresh[qi], (s) => s.ms)),
      bold(fr),
      ms(med(x.warm[qi], (s) => s.ms)),
      bold(wr),
      goal,
    ];
  });
  const point = x.fresh[0];
  const pointPages = Math.max(...point.map((s) => s.stats.pagesFetched));
  const pointRatio = med(x.restore[0], (s) => s.ms) / med(point, (s) => s.ms);
  const pointRatioWarm = med(x.restore[0], (s) => s.ms) / med(x.warm[0], (s) => s.ms);
  const verdict = (ok: boolean): string => (ok ? 'meets the goal' : '**misses the goal**');
  const fileList = x.files
    .map((f) => `L${f.level} ${parseInt(f.minTXID, 16)}–${parseInt(f.maxTXID, 16)} (${(f.size / 1e6).toFixed(1)} MB)`)
    .join(', ');
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  return {
    intro: [
      `**Part 1, point-in-time SQL on ~100 MB vs restore-then-query** (${'`'}bench/query-big.ts${'`'}; skip it with ${'`'}LTX_BENCH_QUERY_BIG=0${'`'}). ` +
        `node:sqlite builds ${'`'}events(id INTEGER PRIMARY KEY, user_id, kind, ts, payload)${'`'} with ${n0(BIG_ROWS)} rows ` +
        `(${n0(BIG_USERS)} users, ~60-byte text payloads) and the index ${'`'}events_by_user_ts (user_id, ts)${'`'}: ` +
        `${mb(x.baseBytes)}, ${n0(x.baseBytes / BIG_PAGE_SIZE)} pages of ${BIG_PAGE_SIZE} B, journal_mode DELETE, seed ${BIG_SEED} ` +
        `(${'`'}LTX_BENCH_QUERY_BIG_SEED${'`'}). The file is cached as ${'`'}tmp/cache/query-big-<version>-<seed>.db${'`'} (about 2 s to build; delete it to rebuild). ` +
        `Three later transactions make TXIDs 2–4: ${x.txs.map((t) => `${t.txid}: ${t.what} (${n0(t.pages)} pages, ${mb(t.ltx.length)} L0)`).join('; ')}.`,
      `Everything goes through the real local platform: ${'`'}wrangler dev${'`'} (the Worker, the DatabaseDO, Miniflare's R2 on the local disk) with throwaway state. ` +
        `TXID 1 was pushed as one snapshot LTX streamed through ${'`'}LTXEncoder${'`'} (the code of ${'`'}ltx-edge import${'`'}: ${mb(x.ltxBytes)} in ${(x.importMs / 1000).toFixed(1)} s), ` +
        `the rest as L0 files. Files in R2: ${fileList}. All queries run at **TXID ${AT}** (the head is ${x.txs[x.txs.length - 1].txid}), so they read the snapshot and the L0 file of TXID 2; ` +
        `their keys fall on rows the later transactions change (the answer at TXID ${AT} differs from the head's for ${x.differ} of ${x.total} keys), and every answer, ` +
        'edge and baseline, is checked against node:sqlite on a local copy of the database at that TXID.',
      'Times are wall-clock milliseconds measured by the client (Node fetch to 127.0.0.1), medians of ' +
        `${x.reps} runs (fresh isolate, restore-then-query) or ${x.warmReps} (warm isolate), each with its own key ` +
        '(`LTX_BENCH_QUERY_BIG_REPS`, `LTX_BENCH_QUERY_BIG_WARM_REPS`; the "Measurement" line above is the in-process harness of part 2 and does not apply here). ' +
        '**Fresh isolate**: wrangler dev is restarted before every such query (empty isolate caches: no plan, page indexes, interior pages or SQLite engine yet; a cold DO answers the plan). ' +
        "**Warm isolate, new key**: the same server after one query of each shape; the new key's leaf pages are not cached (only interior pages, page 1 and the schema are shared across requests). " +
        '**Restore-then-query**: `GET …/snapshot?txid=&format=sqlite` streamed to a temporary file, opened with `new DatabaseSync(file, {readOnly: true})`, the same query; on the warm server. ' +
        'Local numbers: no network between client, Worker, DO and R2, and a local disk instead of R2, so both sides are faster than in production; ' +
        'the edge side pays one R2 round trip per fetch round (see "rounds"), the baseline a transfer of the whole database. ' +
        `Load average (1 min) of the machine: ${x.load[0].toFixed(2)} before, ${x.load[1].toFixed(2)} after (${cpus().length} cores; other jobs share it, so expect tens of percent between runs).`,
    ],
    sections: [
      {
        title: `Part 1: point-in-time SQL at TXID ${AT}, pages and time at the edge`,
        intro: [
          '"Pages" = `stats.pagesFetched` / `stats.pagesRead` of the answer (brought from R2, b-tree sibling prefetch included / distinct pages SQLite read); ' +
            '"R2 reads" = ranged gets (page-index loads included), "rounds" = fetch rounds (statement reruns), "Worker ms" = `stats.ms` ' +
            "(the rest of the client's time is the HTTP path around the Worker: loopback, wrangler dev's proxy, JSON).",
        ],
        table: {
          columns: [
            'query',
            'rows',
            'fresh ms',
            'Worker ms',
            'pages',
            'R2 reads',
            'rounds',
            'warm ms',
            'Worker ms',
            'pages',
            'R2 reads',
            'rounds',
            'repeat ms',
          ],
          rows: pageRows,
        },
        notes: [
          `Indexed point lookup, fresh isolate: ${pointPages} pages fetched at most (goal ≤ ${PAGES_GOAL}): ${verdict(pointPages <= PAGES_GOAL)}.`,
          'Columns 3–7: fresh isolate; 8–12: warm isolate, new key; "repeat ms": the same query and key again at once.',
        ],
      },
      {
        title: `Part 1: edge vs restore-then-query at TXID ${AT}`,
        intro: ['Restore-then-query = download + open and query (ms). Ratio = restore-then-query / edge, medians of the same run.'],
        table: {
          columns: [
            'query',
            'restore-then-query ms',
            'download + query',
            'edge, fresh isolate',
            'ratio',
            'edge, warm isolate',
            'ratio',
            'goal',
          ],
          rows: ratioRows,
        },
        notes: [
          `Indexed point lookup vs restore-then-query (goal ≥ ${RATIO_GOAL}×): ${ratio(pointRatioWarm)} from a warm isolate (new key), ${verdict(pointRatioWarm >= RATIO_GOAL)}; ` +
            `${ratio(pointRatio)} from a fresh isolate, ${verdict(pointRatio >= RATIO_GOAL)}. There the Worker time is mostly the isolate's first query, not the ${pointPages} pages: ` +
            `\`SELECT 1\` (page 1 only) as the first query of a fresh isolate took ${ms(med(x.firstQuery, (s) => s.ms))} ms (Worker ${ms(med(x.firstQuery, (s) => s.stats.ms))} ms: ` +
            `${['plan', 'indexes', 'engine', 'sql'].map((k) => `${k} ${ms(med(x.firstQuery, (s) => s.timing[k] ?? 0))}`).join(', ')} ms by its Server-Timing, medians; ` +
            `${n0(med(x.firstQuery, (s) => s.stats.r2Reads))} R2 reads: the plan from a cold DO, the page indexes of both files, the SQLite instance, cold code).`,
          `The download is ${mb(x.restore[0][0].bytes)} each time.`,
        ],
      },
    ],
  };
}
