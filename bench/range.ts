// Range suite: the database file over HTTP ranges through local wrangler dev — an indexed point lookup by sql.js-httpvfs in Chromium vs downloading the file, and a range read of N pages vs the same pages through the batch endpoint.
//
// Full: the query suite's ~100 MB database (bench/query-big-data.ts). --quick (the smoke run): the
// dev demo database (~0.7 MB). Needs /usr/bin/chromium (LTX_EDGE_CHROMIUM elsewhere).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ApiClient } from '../src/remote/http-client.ts';
import { importDatabase } from '../src/cli/import.ts';
import { createDemoDatabase } from '../scripts/lib/demo-seed.ts';
import { openRangeBrowser } from '../test/browser/range-readers.ts';
import { type Section, type Suite, type SuiteContext, formatRatio, prng, median } from './harness.ts';
import { DEV_TOKEN, LocalPlatform } from './local-platform.ts';
import { baseDatabase } from './query-big-data.ts';

const DB = 'range';
const SEED = 20261207;
const PAGE_SIZE = 4096;
const AUTH = { authorization: `Bearer ${DEV_TOKEN}` };

interface Dataset {
  label: string;
  file: string;
  /** An indexed point lookup and the keys to run it with. */
  sql: string;
  keys(db: DatabaseSync, n: number): unknown[][];
}

function dataset(ctx: SuiteContext, dir: string): Dataset {
  const r = prng(SEED);
  const pick = <T>(xs: T[], n: number): T[] => Array.from({ length: n }, () => xs[r.int(xs.length)]);
  if (ctx.quick) {
    const file = path.join(dir, 'demo.db');
    createDemoDatabase(file);
    return {
      label: 'the dev demo database',
      file,
      sql: 'SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = ? ORDER BY created_at',
      keys: (db, n) => pick(db.prepare('SELECT DISTINCT customer_id AS k FROM orders').all() as { k: number }[], n).map((x) => [x.k]),
    };
  }
  return {
    label: "the query suite's database (1,000,000 events, an index on (user_id, ts))",
    file: baseDatabase(ctx.log),
    sql: 'SELECT id, user_id, kind, ts, payload FROM events WHERE user_id = ? AND ts = ?',
    keys: (db, n) =>
      pick(db.prepare('SELECT user_id AS u, ts FROM events WHERE id % 97 = 0').all() as { u: number; ts: number }[], n).map((x) => [
        x.u,
        x.ts,
      ]),
  };
}

/** The query with its keys inlined as literals: the readers take SQL only. */
function literal(sql: string, key: unknown[]): string {
  let i = 0;
  return sql.replace(/\?/g, () => JSON.stringify(key[i++]));
}

const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');
const kb = (v: number): string => `${(v / 1024).toFixed(v >= 10_240 ? 0 : 1)} KiB`;
const mb = (v: number): string => `${(v / 1e6).toFixed(1)} MB`;
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** One GET, its body read to the end: wall ms and body bytes; throws unless `status`. */
async function timedGet(url: string, headers: Record<string, string>, status: number): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const body = new Uint8Array(await res.arrayBuffer());
  const elapsed = performance.now() - t0;
  if (res.status !== status) throw new Error(`GET ${url}: ${res.status} ${new TextDecoder().decode(body.subarray(0, 300))}`);
  return { ms: elapsed, bytes: body.length };
}

export const suite: Suite = {
  name: 'range',
  title: 'the database file over HTTP ranges: sql.js-httpvfs vs download, ranges vs batches (local wrangler dev + Chromium)',
  measurement:
    'requests and bytes as the browser saw them; wall-clock time per HTTP request over loopback, median of the repetitions each section states',
  async run(ctx) {
    const lookups = Number(process.env.LTX_BENCH_RANGE_LOOKUPS ?? (ctx.quick ? 2 : 6));
    const reps = Number(process.env.LTX_BENCH_RANGE_REPS ?? (ctx.quick ? 3 : 15));
    const sizes = ctx.quick ? [1, 16] : [1, 16, 256];
    const dir = mkdtempSync(path.join(tmpdir(), 'ltx-bench-range-'));
    const data = dataset(ctx, dir);
    const size = statSync(data.file).size;
    const pages = size / PAGE_SIZE;
    ctx.log(`  ${data.label}: ${mb(size)}; seed ${SEED}; ${lookups} lookups, ${reps} reps of ${sizes.join('/')}-page reads`);
    const platform = await LocalPlatform.start();
    const browser = await openRangeBrowser();
    try {
      const client = new ApiClient({ url: platform.url, token: DEV_TOKEN });
      const imported = await importDatabase(client, DB, data.file, { progress: false });
      const txid = imported.pos.txid;
      const minted = await fetch(`${platform.url}/v1/databases/${DB}/links`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify({ txid }),
      });
      if (minted.status !== 201) throw new Error(`mint: ${minted.status} ${await minted.text()}`);
      const link = ((await minted.json()) as { url: string }).url;

      // 1. Indexed point lookups through sql.js-httpvfs, each in a cold browser context, vs the whole file.
      const local = new DatabaseSync(data.file, { readOnly: true });
      const keys = data.keys(local, lookups);
      const expected = keys.map((k) =>
        (local.prepare(data.sql).all(...(k as never[])) as Record<string, unknown>[]).map((row) => Object.values(row)),
      );
      local.close();
      const answers = await browser.read(
        keys.map((k) => ({ url: link, sql: literal(data.sql, k) })),
        ['sql.js-httpvfs'],
      );
      answers.forEach((a, i) => {
        if (a.error !== undefined) throw new Error(`sql.js-httpvfs: ${a.error}`);
        if (JSON.stringify(a.rows) !== JSON.stringify(expected[i]))
          throw new Error(`sql.js-httpvfs answered ${JSON.stringify(a.rows)}, sqlite ${JSON.stringify(expected[i])}`);
      });
      const download = await timedGet(link, {}, 200);
      if (download.bytes !== size) throw new Error(`download: ${download.bytes} bytes, file ${size}`);
      const reqs = median(answers.map((a) => a.rangeRequests));
      const bytes = median(answers.map((a) => a.bytes));
      ctx.log(
        `  sql.js-httpvfs lookup: ${reqs} ranges, ${kb(bytes)} (median of ${answers.length}); download ${mb(download.bytes)} in ${ms(download.ms)} ms`,
      );
      const lookup: Section = {
        title: 'An indexed point lookup through sql.js-httpvfs vs downloading the file',
        intro: [
          `sql.js-httpvfs 0.8.12 in headless Chromium opens a read link of ${data.label} (${mb(size)}, ${n0(pages)} pages of 4 KiB) from a page on another origin, ` +
            `\`requestChunkSize\` 4096, and runs \`${data.sql}\` for ${answers.length} seeded keys, each in a cold browser context (no HTTP cache, a new worker: ` +
            'the database header and the b-tree root pages are fetched again every time). Every answer is checked against node:sqlite on the file. ' +
            "Counts are the browser's own request events (the HEAD the reader starts with is not a range).",
        ],
        table: {
          columns: ['', 'range requests', 'bytes transferred', 'share of the file'],
          rows: [
            ['point lookup, median', n0(reqs), kb(bytes), `${((bytes / size) * 100).toFixed(size > 1e8 ? 3 : 2)}%`],
            ['point lookup, worst', n0(Math.max(...answers.map((a) => a.rangeRequests))), kb(Math.max(...answers.map((a) => a.bytes))), ''],
            ['download the file (GET, no Range)', '1', mb(download.bytes), '100%'],
          ],
        },
        notes: [
          `Downloading took ${ms(download.ms)} ms here (loopback); the lookup moves ${formatRatio(download.bytes / bytes)} fewer bytes.`,
        ],
      };

      // 2. N contiguous pages: one Range on the file (token route and read link) vs one batch request.
      const r = prng(SEED + 1);
      const rows: string[][] = [];
      for (const n of sizes) {
        const times: Record<'range' | 'link' | 'batch', number[]> = { range: [], link: [], batch: [] };
        const wire: Record<'range' | 'link' | 'batch', number> = { range: 0, link: 0, batch: 0 };
        for (let i = 0; i < reps; i++) {
          // A fresh start page for every request: no edge-cache hit on a whole answer, the same cold path each time.
          const start = (): number => 1 + r.int(Math.max(1, pages - n));
          const order = i % 2 === 0 ? (['range', 'link', 'batch'] as const) : (['batch', 'link', 'range'] as const);
          for (const kind of order) {
            const p = start();
            const bytesRange = `bytes=${(p - 1) * PAGE_SIZE}-${(p - 1 + n) * PAGE_SIZE - 1}`;
            const got =
              kind === 'batch'
                ? await timedGet(`${platform.url}/v1/databases/${DB}/pages?pgno=${p}-${p + n - 1}&txid=${txid}`, AUTH, 200)
                : kind === 'link'
                  ? await timedGet(link, { range: bytesRange }, 206)
                  : await timedGet(
                      `${platform.url}/v1/databases/${DB}/snapshot?format=sqlite&txid=${txid}`,
                      { ...AUTH, range: bytesRange },
                      206,
                    );
            times[kind].push(got.ms);
            wire[kind] = got.bytes;
          }
        }
        const [range, viaLink, batch] = [median(times.range), median(times.link), median(times.batch)];
        ctx.log(`  ${n} pages: range ${ms(range)} ms, link ${ms(viaLink)} ms, batch ${ms(batch)} ms`);
        rows.push([
          `${n} page${n > 1 ? 's' : ''}`,
          ms(range),
          ms(viaLink),
          ms(batch),
          formatRatio(batch / range),
          n0(wire.range),
          n0(wire.batch),
        ]);
      }
      const versus: Section = {
        title: `A range read of N pages vs the same pages through the batch endpoint (median of ${reps}, wall ms)`,
        intro: [
          "Each request asks for N contiguous pages at a seeded start page never asked before (no whole-answer cache hit; page indexes are warm after the first request, as in a reader's session), " +
            'one `Range` on `snapshot?format=sqlite&txid=` with the token, the same through the read link (no token), and `pages?pgno=a-b&txid=`; the three alternate order per repetition. ' +
            '"batch / range" above 1× means the range read is faster.',
        ],
        table: {
          columns: ['read', 'range (token) ms', 'range (link) ms', 'batch ms', 'batch / range', 'range bytes', 'batch bytes'],
          rows,
        },
      };
      return {
        intro: [
          `${data.label}, imported with \`ltx-edge import\` into local \`wrangler dev\`; one TXID. Wall-clock times over loopback on this 2-core machine: compare ratios, not milliseconds.`,
        ],
        sections: [lookup, versus],
      };
    } finally {
      await browser.close().catch(() => undefined);
      await platform.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
