// Query suite. Part 1 (bench/query-big.ts): point-in-time SQL on ~100 MB through local wrangler dev vs
// restore-then-query. Part 2: the SQL engine over lazily fetched LTX pages with a simulated R2 round
// trip, in Node — sync build with fault-and-rerun (what ships) vs the same without prefetch vs Asyncify.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../src/ltx/index.ts';
import { DEFAULT_QUERY_LIMITS, type QueryOutput, QueryEngine } from '../src/query/engine.ts';
import { QueryPages } from '../src/query/query-pages.ts';
import { SharedPageCache } from '../src/query/shared-page-cache.ts';
import type { Params } from '../src/query/values.ts';
import { PageIndexCache } from '../src/replication/page-index-cache.ts';
import { PageSource } from '../src/replication/page-source.ts';
import type { PlanFileRef, ReadPlan } from '../src/replication/plan.ts';
import { MemoryObjectStore } from '../src/storage/memory-store.ts';
import type { ObjectStore } from '../src/storage/object-store.ts';
import { putFile } from '../test/helpers/plan-chain.ts';
import { compileWaSqlite } from '../test/helpers/sqlite-wasm.ts';
import { type Section, type Suite, type SuiteContext, prng, median } from './harness.ts';
import { AsyncQueryEngine } from './query-async-engine.ts';
import { runBigQuery } from './query-big.ts';

const PREFIX = 'db';
const DB = 'bench';
const PAGE_SIZE = 4096;
/** Simulated latency of one R2 ranged get from a Worker (ms); the spike used 10. */
const LATENCY_MS = Number(process.env.LTX_BENCH_QUERY_LATENCY_MS ?? 10);

interface BenchQuery {
  name: string;
  sql: string;
  params?: Params;
}

const QUERIES: BenchQuery[] = [
  { name: 'rowid lookup', sql: 'SELECT * FROM users WHERE id = ?', params: [12345] },
  { name: 'unique index lookup', sql: 'SELECT id, name FROM users WHERE email = ?', params: ['user777@example.com'] },
  {
    name: 'join, 41 users → their orders',
    sql: 'SELECT u.id, count(o.id), sum(o.amount) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id BETWEEN 5000 AND 5040 GROUP BY u.id',
  },
  { name: 'count(*) over an index', sql: 'SELECT count(*) FROM orders' },
];

interface Engine {
  name: string;
  run(pages: QueryPages, q: BenchQuery): Promise<QueryOutput>;
  prefetch: boolean;
}

/** A store whose ranged gets take LATENCY_MS, counted. */
function slowStore(inner: MemoryObjectStore, counter: { gets: number }): ObjectStore {
  return new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop === 'get') {
        return async (...args: Parameters<ObjectStore['get']>) => {
          counter.gets++;
          await new Promise((r) => setTimeout(r, LATENCY_MS));
          return target.get(...args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** users 20k (unique email), orders 120k (index on user_id), then three small transactions: a snapshot and three L0 files, 4 KiB pages. */
async function buildDatabase(ctx: SuiteContext): Promise<{ store: MemoryObjectStore; plan: ReadPlan; expected: unknown[][][] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-bench-query-'));
  const file = path.join(dir, 'b.db');
  const r = prng(42);
  const db = new DatabaseSync(file);
  const states: Uint8Array[] = [];
  const expected: unknown[][][] = [];
  try {
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = DELETE; BEGIN;
      CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, balance REAL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, amount INTEGER, note TEXT);
      CREATE INDEX orders_by_user ON orders (user_id);`);
    const u = db.prepare('INSERT INTO users (id, name, email, balance) VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= 20_000; i++) u.run(i, `name-${i % 500}`, `user${i}@example.com`, r.int(100000) / 100);
    const o = db.prepare('INSERT INTO orders (user_id, amount, note) VALUES (?, ?, ?)');
    for (let i = 0; i < 120_000; i++) o.run(1 + r.int(20_000), r.int(1000), `order note ${r.int(1e9)}`);
    db.exec('COMMIT');
    states.push(new Uint8Array(readFileSync(file)));
    for (let t = 0; t < 3; t++) {
      db.exec(`UPDATE users SET balance = balance + 1 WHERE id % 97 = ${t}`);
      states.push(new Uint8Array(readFileSync(file)));
    }
    for (const q of QUERIES) {
      const stmt = db.prepare(q.sql);
      expected.push((stmt.all(...((q.params ?? []) as never[])) as Record<string, unknown>[]).map((row) => Object.values(row)));
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const store = new MemoryObjectStore();
  const files: PlanFileRef[] = [];
  const ps = PAGE_SIZE;
  for (let i = 0; i < states.length; i++) {
    const next = states[i];
    const prev = states[i - 1];
    const pgnos: number[] = [];
    for (let p = 1; p <= next.length / ps; p++) {
      const a = next.subarray((p - 1) * ps, p * ps);
      if (!prev || Buffer.compare(a, prev.subarray((p - 1) * ps, p * ps)) !== 0) pgnos.push(p);
    }
    const header = makeHeader({
      flags: HEADER_FLAG_NO_CHECKSUM,
      pageSize: ps,
      commit: next.length / ps,
      minTXID: BigInt(i + 1),
      maxTXID: BigInt(i + 1),
      timestamp: 0,
    });
    files.push(
      await putFile(
        store,
        PREFIX,
        DB,
        i === 0 ? 9 : 0,
        encodeLTX(
          header,
          pgnos.map((p) => ({ pgno: p, data: next.subarray((p - 1) * ps, p * ps) })),
        ),
      ),
    );
  }
  const last = states[states.length - 1];
  ctx.log(`  database: ${last.length / ps} pages of ${ps} B (${(last.length / 2 ** 20).toFixed(1)} MiB), ${files.length} LTX files`);
  return { store, plan: { db: DB, txid: BigInt(states.length), pageSize: ps, commit: last.length / ps, checksum: 0n, files }, expected };
}

interface Sample {
  ms: number;
  cpuMs: number;
  rounds: number;
  gets: number;
  fetched: number;
}

interface Caches {
  shared: SharedPageCache;
  indexes: PageIndexCache;
}

const cold = (): Caches => ({ shared: new SharedPageCache(), indexes: new PageIndexCache() });

async function once(
  engine: Engine,
  store: MemoryObjectStore,
  plan: ReadPlan,
  caches: Caches,
  q: BenchQuery,
  want?: unknown[][],
): Promise<Sample> {
  const counter = { gets: 0 };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const source = new PageSource(slowStore(store, counter), caches.indexes, { prefix: PREFIX });
  const pages = await QueryPages.open(plan, source, caches.shared, {
    prefix: PREFIX,
    prefetch: engine.prefetch ? undefined : { first: 0, max: 0 },
  });
  const out = await engine.run(pages, q);
  const c1 = process.cpuUsage(c0);
  if (want !== undefined && JSON.stringify(out.rows) !== JSON.stringify(want)) throw new Error(`${engine.name}: wrong answer to ${q.name}`);
  return {
    ms: performance.now() - t0,
    cpuMs: (c1.user + c1.system) / 1000,
    rounds: pages.stats.fetchRounds,
    gets: counter.gets,
    fetched: pages.stats.pagesFetched,
  };
}

const f0 = (n: number): string => n.toFixed(0);
const f1 = (n: number): string => (n < 10 ? n.toFixed(1) : n.toFixed(0));

export const suite: Suite = {
  name: 'query',
  title: 'point-in-time SQL on 100 MB vs restore-then-query; sync + rerun vs Asyncify',
  async run(ctx) {
    // Part 1 first: it is the one the goals apply to. LTX_BENCH_QUERY_BIG=0 skips it (about 1–2 min).
    const big = process.env.LTX_BENCH_QUERY_BIG === '0' ? undefined : await runBigQuery(ctx);
    const wasmSync = compileWaSqlite('wa-sqlite.wasm');
    const wasmAsync = compileWaSqlite('wa-sqlite-async.wasm');
    const sync = await QueryEngine.create(wasmSync);
    const asyncEngine = await AsyncQueryEngine.create(wasmAsync);
    const engines: Engine[] = [
      {
        name: 'sync + rerun, sibling prefetch (shipped)',
        prefetch: true,
        run: (p, q) => sync.query(p, { sql: q.sql, params: q.params }, DEFAULT_QUERY_LIMITS),
      },
      {
        name: 'sync + rerun, no prefetch',
        prefetch: false,
        run: (p, q) => sync.query(p, { sql: q.sql, params: q.params }, DEFAULT_QUERY_LIMITS),
      },
      { name: 'Asyncify, same prefetch', prefetch: true, run: (p, q) => asyncEngine.query(p, { sql: q.sql, params: q.params }) },
    ];
    const { store, plan, expected } = await buildDatabase(ctx);
    const reps = ctx.quick ? 1 : 3;
    const sections: Section[] = [];

    const rows: string[][] = [];
    for (let qi = 0; qi < QUERIES.length; qi++) {
      const q = QUERIES[qi];
      for (const e of engines) {
        const coldRuns: Sample[] = [];
        const warmRuns: Sample[] = [];
        for (let k = 0; k < reps; k++) {
          const caches = cold();
          coldRuns.push(await once(e, store, plan, caches, q, expected[qi]));
          warmRuns.push(await once(e, store, plan, caches, q, expected[qi]));
        }
        const m = (xs: Sample[], f: (s: Sample) => number) => median(xs.map(f));
        rows.push([
          q.name,
          e.name,
          f0(m(coldRuns, (s) => s.ms)),
          f0(m(coldRuns, (s) => s.rounds)),
          f0(m(coldRuns, (s) => s.gets)),
          f0(m(coldRuns, (s) => s.fetched)),
          f1(m(coldRuns, (s) => s.cpuMs)),
          f0(m(warmRuns, (s) => s.ms)),
          f0(m(warmRuns, (s) => s.rounds)),
        ]);
        ctx.log(`  ${q.name} / ${e.name}: cold ${f0(m(coldRuns, (s) => s.ms))} ms, warm ${f0(m(warmRuns, (s) => s.ms))} ms`);
      }
    }
    sections.push({
      title: `One query at a time, ${LATENCY_MS} ms per R2 get`,
      intro: [
        'Cold: new isolate caches (page indexes, shared interior pages) for every run. Warm: the same query again in a new request ' +
          '(its own page map), with the isolate caches the cold run left. Medians of ' +
          reps +
          ' runs. "Rounds" are sequential fetch ' +
          "batches (each one R2 round trip or a few in parallel); CPU is the Node process's, latency waits excluded.",
      ],
      table: {
        columns: ['query', 'engine', 'cold ms', 'rounds', 'R2 gets', 'pages fetched', 'CPU ms', 'warm ms', 'warm rounds'],
        align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows,
      },
    });

    // Concurrency: two joins and six point lookups start together on warm page indexes and a cold shared cache.
    const mixRows: string[][] = [];
    const mix = [2, 0, 1, 0, 2, 1, 0, 1];
    for (const e of engines) {
      const joinMs: number[] = [];
      const lookupMs: number[] = [];
      for (let k = 0; k < reps; k++) {
        const caches = cold();
        await QueryPages.open(plan, new PageSource(store, caches.indexes, { prefix: PREFIX }), caches.shared, { prefix: PREFIX });
        const t0 = performance.now();
        await Promise.all(
          mix.map(async (qi) => {
            await once(e, store, plan, caches, QUERIES[qi], expected[qi]);
            (qi === 2 ? joinMs : lookupMs).push(performance.now() - t0);
          }),
        );
      }
      mixRows.push([e.name, f0(median(lookupMs)), f0(Math.max(...lookupMs)), f0(median(joinMs)), f0(Math.max(...joinMs))]);
      ctx.log(`  mix / ${e.name}: lookups median ${f0(median(lookupMs))} ms, joins median ${f0(median(joinMs))} ms`);
    }
    sections.push({
      title: `Eight at once: two joins and six point lookups, ${LATENCY_MS} ms per R2 get`,
      intro: ['Started together on one engine, page indexes warm, shared page cache cold; time from the start until each answer.'],
      table: {
        columns: ['engine', 'lookup median ms', 'lookup max ms', 'join median ms', 'join max ms'],
        align: ['l', 'r', 'r', 'r', 'r'],
        rows: mixRows,
      },
      notes: [
        'The Asyncify build suspends inside SQLite, so one instance runs one query at a time: point lookups wait behind joins. ' +
          'The sync build never awaits inside SQLite; concurrent queries overlap their fetches.',
      ],
    });
    for (const sec of sections) sec.title = `Part 2: ${sec.title}`;
    return {
      intro: [
        ...(big?.intro ?? ['Part 1 (point-in-time SQL on ~100 MB vs restore-then-query) was skipped in this run (LTX_BENCH_QUERY_BIG=0).']),
        `**Part 2, sync + rerun vs Asyncify, in Node.** A 20k-user / 120k-order database (4 KiB pages) as an L9 snapshot plus three L0 files in a memory store whose ranged gets take ${LATENCY_MS} ms ` +
          '(set LTX_BENCH_QUERY_LATENCY_MS), read through PageSource and QueryPages exactly as the Worker does. Every answer is checked against node:sqlite.',
      ],
      sections: [...(big?.sections ?? []), ...sections],
    };
  },
};
