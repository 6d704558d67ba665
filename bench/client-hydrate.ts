// Client hydration suite: a RemoteDatabase's query latency read lazily over HTTP vs from its hydrated local file, and what hydrating and reopening cost (local wrangler dev).
//
// Full: a generated database of 200,000 rows (~40 MB). --quick and --smoke: the dev demo database (~0.7 MB).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RemoteDatabase } from '../src/client/remote-database.ts';
import { importDatabase } from '../src/cli/import.ts';
import { ApiClient } from '../src/remote/http-client.ts';
import { createDemoDatabase } from '../scripts/lib/demo-seed.ts';
import { type Suite, type SuiteContext, formatRatio, median, prng } from './harness.ts';
import { DEV_TOKEN, LocalPlatform } from './local-platform.ts';

const DB = 'hydrate';
const SEED = 20261217;

interface Dataset {
  label: string;
  file: string;
  /** An indexed point lookup, its keys, and a statement that reads the whole table. */
  lookup: string;
  keys: unknown[][];
  scan: string;
}

function dataset(ctx: SuiteContext, dir: string, lookups: number): Dataset {
  const r = prng(SEED);
  const file = path.join(dir, 'source.db');
  if (ctx.quick) {
    const counts = createDemoDatabase(file);
    return {
      label: 'the dev demo database',
      file,
      lookup: 'SELECT id, status, total_cents FROM orders WHERE customer_id = ? ORDER BY created_at',
      keys: Array.from({ length: lookups }, () => [1 + r.int(counts.customers)]),
      scan: 'SELECT count(*), sum(total_cents) FROM orders',
    };
  }
  const rows = 200_000;
  const db = new DatabaseSync(file);
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, k INTEGER, body TEXT); CREATE INDEX items_by_k ON items (k)');
  db.exec('BEGIN');
  const insert = db.prepare('INSERT INTO items (k, body) VALUES (?, ?)');
  const text = 'abcdefghijklmnopqrstuvwxyz ';
  for (let i = 0; i < rows; i++) insert.run(r.int(rows), Array.from({ length: 150 }, () => text[r.int(text.length)]).join(''));
  db.exec('COMMIT');
  db.close();
  return {
    label: `a generated database (${rows.toLocaleString('en-US')} rows of ~150 bytes, an index on k)`,
    file,
    lookup: 'SELECT id, k, body FROM items WHERE k = ?',
    keys: Array.from({ length: lookups }, () => [r.int(rows)]),
    scan: 'SELECT count(*), sum(length(body)) FROM items',
  };
}

/** Each key's lookup once, in order: the rows (for comparing) and the median wall ms. */
async function timedLookups(db: RemoteDatabase, sql: string, keys: unknown[][]): Promise<{ rows: unknown[]; ms: number }> {
  const rows: unknown[] = [];
  const times: number[] = [];
  for (const key of keys) {
    const t0 = performance.now();
    rows.push((await db.query(sql, key as (number | string)[])).rows);
    times.push(performance.now() - t0);
  }
  return { rows, ms: median(times) };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export const suite: Suite = {
  name: 'client-hydrate',
  title: 'the Node client: queries over lazily fetched pages vs a hydrated local file (local wrangler dev)',
  measurement: 'wall-clock ms per statement in this process, median over the seeded keys; hydration and reopening timed once',
  async run(ctx) {
    const lookups = Number(process.env.LTX_BENCH_HYDRATE_LOOKUPS ?? (ctx.smoke ? 2 : ctx.quick ? 20 : 100));
    const dir = mkdtempSync(path.join(tmpdir(), 'ltx-bench-hydrate-'));
    const platform = await LocalPlatform.start();
    try {
      const data = dataset(ctx, dir, lookups);
      const size = statSync(data.file).size;
      ctx.log(`  ${data.label}: ${(size / 1e6).toFixed(1)} MB; seed ${SEED}; ${lookups} lookups`);
      await importDatabase(new ApiClient({ url: platform.url, token: DEV_TOKEN }), DB, data.file, { progress: false });
      const open = (hydrate?: string): Promise<RemoteDatabase> =>
        RemoteDatabase.open({
          url: platform.url,
          token: DEV_TOKEN,
          db: DB,
          hydrate: hydrate === undefined ? undefined : { path: hydrate },
        });
      const local = path.join(dir, 'hydrated.db');

      // Hydrating from nothing, then reopening over the file (read through once to verify it).
      const first = await open(local);
      const hydrating = await timed(() => first.whenHydrated());
      await first.close();
      const hydrated = await open(local);
      const reopening = await timed(() => hydrated.whenHydrated());
      if (reopening.value.start !== 'reused' || reopening.value.fetched !== 0)
        throw new Error(`reopen: ${JSON.stringify(reopening.value)}`);
      ctx.log(`  hydrate ${ms(hydrating.ms)} ms (${hydrating.value.requests} requests), reopen ${ms(reopening.ms)} ms`);

      // The same statements lazily (a fresh view: nothing cached) and hydrated (a fresh view over the file).
      const lazy = await open();
      // The engine and the schema warm on both, so "first" measures the data pages.
      for (const view of [lazy, hydrated]) await view.query('SELECT count(*) FROM sqlite_schema');
      const lazyCold = await timedLookups(lazy, data.lookup, data.keys);
      const lazyWarm = await timedLookups(lazy, data.lookup, data.keys);
      const fileCold = await timedLookups(hydrated, data.lookup, data.keys);
      const fileWarm = await timedLookups(hydrated, data.lookup, data.keys);
      if (JSON.stringify(lazyCold.rows) !== JSON.stringify(fileCold.rows)) throw new Error('lazy and hydrated lookups differ');
      const lazyScan = await timed(() => lazy.query(data.scan));
      const fileScan = await timed(() => hydrated.query(data.scan));
      if (JSON.stringify(lazyScan.value.rows) !== JSON.stringify(fileScan.value.rows)) throw new Error('lazy and hydrated scans differ');
      const pageRequests = hydrated.stats.requests;
      await lazy.close();
      await hydrated.close();

      const row = (name: string, a: number, b: number): string[] => [name, ms(a), ms(b), formatRatio(a / b)];
      return {
        intro: [
          `${data.label}, ${(size / 1e6).toFixed(1)} MB, imported into local wrangler dev. One process opens it twice with \`RemoteDatabase.open\`: ` +
            'lazily (pages through `GET …/pages?pgno=` into the LRU) and with `hydrate` (pages from the local file once it is complete). ' +
            `The lookups are ${lookups} seeded keys of \`${data.lookup}\`, each run once ("first") and again ("again", pages cached); every answer is compared.`,
        ],
        sections: [
          {
            title: 'Statement latency, lazy vs hydrated (wall ms, median)',
            table: {
              columns: ['statement', 'lazy ms', 'hydrated ms', 'lazy / hydrated'],
              rows: [
                row('point lookup, first', lazyCold.ms, fileCold.ms),
                row('point lookup, again', lazyWarm.ms, fileWarm.ms),
                row(`scan: \`${data.scan}\`, first`, lazyScan.ms, fileScan.ms),
              ],
            },
            notes: [
              `Hydrating took ${ms(hydrating.ms)} ms (${hydrating.value.total.toLocaleString('en-US')} pages in ${hydrating.value.requests} batch request${hydrating.value.requests === 1 ? '' : 's'}); ` +
                `reopening over the file took ${ms(reopening.ms)} ms (a full read to check its checksum, one \`/changes\` call) and fetched no page.`,
              `The hydrated view sent ${pageRequests} page requests for all its statements.`,
            ],
          },
        ],
      };
    } finally {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
