// The query engine in Node over a memory store: a real node:sqlite workload at every TXID, reruns, limits and refusals.

import { beforeAll, describe, expect, it } from 'vitest';
import { decodeHeader } from '../../../src/ltx/header.ts';
import { PageIndexCache } from '../../../src/replication/page-index-cache.ts';
import { PageSource } from '../../../src/replication/page-source.ts';
import type { PlanFileRef, ReadPlan } from '../../../src/replication/plan.ts';
import { DEFAULT_QUERY_LIMITS, type QueryLimits, QueryEngine } from '../../../src/query/engine.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import { PageMemory, QueryPages } from '../../../src/query/query-pages.ts';
import { SharedPageCache } from '../../../src/query/shared-page-cache.ts';
import type { Params } from '../../../src/query/values.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { putFile } from '../../helpers/plan-chain.ts';
import { type Workload, buildWorkload } from '../../helpers/query-workload.ts';
import { compileWaSqlite } from '../../helpers/sqlite-wasm.ts';

const PREFIX = 'db';

let engine: QueryEngine;
let store: MemoryObjectStore;
let work: Workload;
const plans: ReadPlan[] = [];

beforeAll(async () => {
  engine = await QueryEngine.create(compileWaSqlite());
  work = buildWorkload({ name: 'unit', pageSize: 1024, wal: true, users: 800, seed: 3 });
  store = new MemoryObjectStore();
  const files: PlanFileRef[] = [];
  for (const b64 of work.ltx) {
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    files.push(await putFile(store, PREFIX, 'w', 0, bytes));
    const h = decodeHeader(bytes.subarray(0, 100));
    plans.push({ db: 'w', txid: h.maxTXID, pageSize: h.pageSize, commit: h.commit, checksum: 0n, files: [...files] });
  }
});

interface Run {
  shared: SharedPageCache;
  indexes: PageIndexCache;
}

function fresh(): Run {
  return { shared: new SharedPageCache(), indexes: new PageIndexCache() };
}

async function run(r: Run, plan: ReadPlan, sql: string, params?: Params, limits: Partial<QueryLimits> = {}, maxPageBytes?: number) {
  const source = new PageSource(store, r.indexes, { prefix: PREFIX });
  const pages = await QueryPages.open(plan, source, r.shared, { prefix: PREFIX, maxPageBytes });
  const out = await engine.query(pages, { sql, params }, { ...DEFAULT_QUERY_LIMITS, ...limits });
  return { out, pages, source };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof QueryError) return e.code;
    throw e;
  }
}

describe('query engine over LTX pages', () => {
  it('answers every query at every TXID exactly as node:sqlite did', async () => {
    expect(work.commits[7]).toBeLessThan(work.commits[6]); // the VACUUM shrank the file
    const r = fresh();
    for (let t = 0; t < plans.length; t++) {
      for (let q = 0; q < work.queries.length; q++) {
        const { sql, params, name } = work.queries[q];
        const expected = work.expected[t][q];
        const label = `TXID ${t + 1}, ${name}`;
        if ('error' in expected) {
          expect(await code(run(r, plans[t], sql, params as Params)), label).toBe(expected.error);
          continue;
        }
        const { out } = await run(r, plans[t], sql, params as Params);
        expect(out.columns, label).toEqual(expected.columns);
        expect(out.rows, label).toEqual(expected.rows);
      }
      // Every page through the VFS, checked by SQLite itself.
      expect((await run(r, plans[t], 'PRAGMA integrity_check')).out.rows, `TXID ${t + 1}`).toEqual([['ok']]);
    }
    expect(engine.openFiles).toBe(0);
  });

  it('a cold point lookup costs a few rounds; warm, none', async () => {
    const r = fresh();
    const plan = plans[plans.length - 1];
    const cold = await run(r, plan, 'SELECT name FROM users WHERE id = ?', [500]);
    expect(cold.out.rows).toHaveLength(1);
    const warm = await run(r, plan, 'SELECT name FROM users WHERE id = ?', [501]);
    console.log(
      `point lookup: cold ${JSON.stringify(cold.pages.stats)} reruns ${cold.out.reruns}; warm ${JSON.stringify(warm.pages.stats)} reruns ${warm.out.reruns}`,
    );
    expect(cold.out.reruns).toBeLessThanOrEqual(6);
    expect(warm.out.reruns).toBeLessThanOrEqual(1); // interior pages are shared; the leaf may be new
  });

  it('a full scan needs few rounds thanks to sibling prefetch', async () => {
    const r = fresh();
    const plan = plans[plans.length - 1];
    const { out, pages } = await run(r, plan, 'SELECT count(*), sum(length(note)) FROM orders');
    console.log(`scan: ${JSON.stringify(pages.stats)} reruns ${out.reruns}, commit ${plan.commit}`);
    expect(out.reruns).toBeLessThan(40);
  });

  it('refuses writes, several statements, bad params; maps SQLite errors', async () => {
    const r = fresh();
    const plan = plans[plans.length - 1];
    for (const sql of [
      'DELETE FROM users',
      "INSERT INTO tags (tag) VALUES ('x')",
      'CREATE TABLE t (x)',
      'DROP TABLE users',
      'PRAGMA user_version = 3',
      'VACUUM',
    ]) {
      expect(await code(run(r, plan, sql)), sql).toBe('QUERY_NOT_READ_ONLY');
    }
    // ATTACH changes no file, but the connection allows no attached databases (SQLITE_LIMIT_ATTACHED = 0).
    expect(await code(run(r, plan, "ATTACH 'x' AS x"))).toBe('SQL_ERROR');
    expect(await code(run(r, plan, 'SELECT 1; SELECT 2'))).toBe('MULTIPLE_STATEMENTS');
    expect(await code(run(r, plan, 'SELECT 1; DELETE FROM users'))).toBe('MULTIPLE_STATEMENTS');
    expect(await code(run(r, plan, 'SELECT 1; garbage'))).toBe('MULTIPLE_STATEMENTS');
    expect((await run(r, plan, 'SELECT 1; -- trailing comment\n ;')).out.rows).toEqual([[1]]);
    expect(await code(run(r, plan, 'SELEKT 1'))).toBe('SQL_ERROR');
    expect(await code(run(r, plan, 'SELECT * FROM nope'))).toBe('SQL_ERROR');
    expect(await code(run(r, plan, '  -- nothing'))).toBe('BAD_REQUEST');
    expect(await code(run(r, plan, 'SELECT ?'))).toBe('BAD_REQUEST');
    expect(await code(run(r, plan, 'SELECT ?', [1, 2]))).toBe('BAD_REQUEST');
    expect(await code(run(r, plan, 'SELECT :a', { b: 1 }))).toBe('BAD_REQUEST');
    expect(await code(run(r, plan, 'SELECT :a', { a: 1, b: 2 }))).toBe('BAD_REQUEST');
    expect(engine.openFiles).toBe(0);
  });

  it('serves read-only statements besides SELECT', async () => {
    const r = fresh();
    const plan = plans[plans.length - 1];
    const eqp = await run(r, plan, 'EXPLAIN QUERY PLAN SELECT * FROM orders WHERE user_id = 5');
    expect(JSON.stringify(eqp.out.rows)).toContain('orders_by_user');
    expect((await run(r, plan, 'PRAGMA table_info(tags)')).out.rows.map((row) => row[1])).toEqual(['id', 'user_id', 'tag']);
    expect((await run(r, plan, 'VALUES (1, 2), (3, 4)')).out.rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect((await run(r, plan, 'SELECT sqlite_version()')).out.rows).toEqual([['3.53.0']]);
    expect((await run(r, plan, "SELECT typeof(datetime('now')), json_extract('{\"a\": [1, 2]}', '$.a[1]')")).out.rows).toEqual([
      ['text', 2],
    ]);
  });

  it('binds every parameter kind', async () => {
    const r = fresh();
    const plan = plans[0];
    const { out } = await run(r, plan, 'SELECT ?, ?, ?, ?, ?, typeof(?), ?, ?', [
      null,
      true,
      -7,
      1.5,
      'tëxt',
      { base64: 'AP8=' },
      { integer: '-9223372036854775808' },
      { base64: '' },
    ]);
    expect(out.rows).toEqual([[null, 1, -7, 1.5, 'tëxt', 'blob', '-9223372036854775808', { base64: '' }]]);
    const named = await run(r, plan, 'SELECT :a, @b, $c', { a: 1, '@b': 2, c: 3 });
    expect(named.out.rows).toEqual([[1, 2, 3]]);
  });

  it('enforces rows, bytes, VM steps, heap and page budgets', async () => {
    const r = fresh();
    const plan = plans[plans.length - 1];
    expect(await code(run(r, plan, 'SELECT id FROM orders', undefined, { maxRows: 10 }))).toBe('QUERY_TOO_MANY_ROWS');
    expect(await code(run(r, plan, 'SELECT note FROM orders', undefined, { maxResultBytes: 1000 }))).toBe('QUERY_RESULT_TOO_LARGE');
    const spin = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
    expect(await code(run(r, plan, spin, undefined, { maxVmSteps: 1_000_000 }))).toBe('QUERY_TOO_EXPENSIVE');
    expect(await code(run(r, plan, spin, undefined, { timeoutMs: 50 }))).toBe('QUERY_TIMEOUT');
    const sort =
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 500000) SELECT count(*) FROM (SELECT x, randomblob(100) AS b FROM c ORDER BY b)';
    expect(await code(run(r, plan, sort, undefined, { maxHeapBytes: engine.heapBytes + 1024 * 1024 }))).toBe('QUERY_TOO_EXPENSIVE');
    expect(await code(run(fresh(), plan, 'SELECT sum(length(note)) FROM orders', undefined, {}, 8 * 1024))).toBe('QUERY_TOO_EXPENSIVE');
    expect(await code(run(fresh(), plan, 'SELECT count(*) FROM orders', undefined, { maxFetchRounds: 1 }))).toBe('QUERY_TOO_EXPENSIVE');
    expect(engine.openFiles).toBe(0);
  });

  it('concurrent queries share one isolate page budget: past it, QUERY_BUSY; closed queries give it back', async () => {
    const plan = plans[plans.length - 1];
    const memory = new PageMemory(40 * 1024);
    const open = async () =>
      QueryPages.open(plan, new PageSource(store, new PageIndexCache(), { prefix: PREFIX }), new SharedPageCache(), {
        prefix: PREFIX,
        memory,
      });
    const a = await open();
    const b = await open();
    try {
      const first = await engine.query(a, { sql: 'SELECT name FROM users WHERE id = 3' });
      expect(first.rows).toHaveLength(1);
      expect(memory.used).toBeGreaterThan(0);
      expect(await code(engine.query(b, { sql: 'SELECT sum(length(note)) FROM orders' }))).toBe('QUERY_BUSY');
    } finally {
      a.close();
      b.close();
    }
    expect(memory.used).toBe(0);
  });
});
