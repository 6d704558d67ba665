// One request must not break the isolate's shared engine: exceptions out of wasm drop the instance (the next isolateEngine() is fresh), stack overruns are caught, memory and connection limits hold.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import { describe, expect, it } from 'vitest';
import { CONNECTION_LIMITS, applyConnectionLimits, readConnectionLimits } from '../../../src/query/connection-limits.ts';
import { DEFAULT_QUERY_LIMITS, type QueryLimits, QueryEngine, isolateEngine } from '../../../src/query/engine.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import { DEFAULT_COMPLEXITY_LIMITS } from '../../../src/query/sql-complexity.ts';
import { instantiateSqlite } from '../../../src/query/sqlite-module.ts';
import { compileWaSqlite } from '../../helpers/sqlite-wasm.ts';
import { MemoryPages, memoryDatabase } from './memory-pages.ts';
import { sqlBombs } from './sql-bombs.ts';

const wasm = compileWaSqlite();
const bytes = memoryDatabase();
const CHECK = 'SELECT count(*), sum(x), max(y) FROM t';
const CHECK_ROWS = [[100, 5050, 'row 99']];
/** More than PROGRESS_OPS VM steps, so the progress handler runs. */
const BUSY_SQL = 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000) SELECT count(*) FROM r';
/** The scan switched off: what reaches SQLite when a statement slips past it. */
const UNSCANNED: QueryLimits = {
  ...DEFAULT_QUERY_LIMITS,
  complexity: { ...DEFAULT_COMPLEXITY_LIMITS, maxExpressionDepth: Infinity, maxSelects: Infinity },
};

async function failure(p: Promise<unknown>): Promise<QueryError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'a QueryError').toBeInstanceOf(QueryError);
  return e as QueryError;
}

/** Limits whose maxVmSteps getter throws `err` (read by the progress handler, called from inside sqlite3_step). */
function throwingLimits(err: Error): QueryLimits {
  const limits = { ...DEFAULT_QUERY_LIMITS };
  Object.defineProperty(limits, 'maxVmSteps', {
    get() {
      throw err;
    },
  });
  return limits;
}

describe('an exception out of the wasm module', () => {
  it('a RuntimeError thrown inside the engine drops the instance; the next isolateEngine() is fresh and answers', async () => {
    const engine = await isolateEngine(wasm);
    expect((await engine.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
    const e = await failure(
      engine.query(new MemoryPages(bytes), { sql: BUSY_SQL }, throwingLimits(new WebAssembly.RuntimeError('injected trap'))),
    );
    expect(e.code).toBe('QUERY_BUSY');
    expect(e.details).toEqual({ reason: 'engine_reset', retryAfterSeconds: 1 });
    expect(engine.broken).toBe(true);
    // The lost instance refuses cleanly from now on; the isolate gets a new one.
    expect((await failure(engine.query(new MemoryPages(bytes), { sql: CHECK }))).code).toBe('QUERY_BUSY');
    const next = await isolateEngine(wasm);
    expect(next).not.toBe(engine);
    expect(next.broken).toBe(false);
    expect((await next.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
    expect(await isolateEngine(wasm)).toBe(next);
  });

  it('a native stack overflow (RangeError) is the statement’s fault: 4xx QUERY_TOO_COMPLEX, and the instance is dropped', async () => {
    const engine = await QueryEngine.create(wasm);
    const e = await failure(
      engine.query(new MemoryPages(bytes), { sql: BUSY_SQL }, throwingLimits(new RangeError('Maximum call stack size exceeded'))),
    );
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    expect(e.details).toEqual({ limit: 'native_stack' });
    expect(engine.broken).toBe(true);
  });

  it('queries waiting on pages when the instance is dropped end with QUERY_BUSY, not a crash', async () => {
    const engine = await QueryEngine.create(wasm);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const waiting = [1, 2, 3].map(() =>
      engine.query(new MemoryPages(bytes, { cold: true, onFetch: () => gate }), { sql: CHECK }).then(
        () => 'ok',
        (err: unknown) => err,
      ),
    );
    await new Promise((r) => setTimeout(r, 10)); // each ran once, missed pages, and awaits its fetch
    expect(engine.running).toBe(3);
    await failure(engine.query(new MemoryPages(bytes), { sql: BUSY_SQL }, throwingLimits(new WebAssembly.RuntimeError('injected trap'))));
    release();
    for (const r of await Promise.all(waiting)) {
      expect(r).toBeInstanceOf(QueryError);
      expect((r as QueryError).code).toBe('QUERY_BUSY');
    }
    expect(engine.running).toBe(0);
  });

  it('a page read that throws a RangeError is refused as QUERY_TOO_COMPLEX (never a raw RangeError) when it is stack exhaustion', async () => {
    const engine = await QueryEngine.create(wasm);
    const pages = new MemoryPages(bytes);
    pages.page = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    const e = await failure(engine.query(pages, { sql: CHECK }));
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
  });
});

describe('statements that slip past the scan', () => {
  const andChain = (n: number): string => `SELECT ${Array.from({ length: n }, (_, i) => `x = ${i}`).join(' AND ')} FROM t`;

  it('deeper than the stack budget: refused (stack_bytes), the instance stays', async () => {
    const engine = await QueryEngine.create(wasm);
    const e = await failure(engine.query(new MemoryPages(bytes), { sql: andChain(2400) }, UNSCANNED)); // ~310 KiB of stack
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    expect(e.details).toMatchObject({ limit: 'stack_bytes' });
    expect(engine.broken).toBe(false);
    expect((await engine.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
    // The guard's band is painted again: the next deep one is caught too.
    expect((await failure(engine.query(new MemoryPages(bytes), { sql: andChain(2400) }, UNSCANNED))).code).toBe('QUERY_TOO_COMPLEX');
  });

  it('past the end of the stack: refused, and the instance (whose static data it overwrote) dropped', async () => {
    const engine = await isolateEngine(wasm);
    const e = await failure(engine.query(new MemoryPages(bytes), { sql: andChain(4500) }, UNSCANNED)); // ~590 KiB of a 512 KiB stack
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    expect(engine.broken).toBe(true);
    const next = await isolateEngine(wasm);
    expect((await next.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
  });

  it('thousands of ORs exhaust the native stack first: typed, and the next engine answers', async () => {
    const engine = await isolateEngine(wasm);
    const sql = `SELECT * FROM t WHERE ${Array(12_000).fill('x=1').join(' OR ')}`;
    const e = await failure(engine.query(new MemoryPages(bytes), { sql }, UNSCANNED));
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    const next = await isolateEngine(wasm);
    expect((await next.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
  });
});

describe('the attacker corpus against one engine', () => {
  it('every bomb is refused with a typed code; the engine answers correctly afterwards', async () => {
    const engine = await isolateEngine(wasm);
    for (const bomb of sqlBombs('t', 'x')) {
      const e = await failure(engine.query(new MemoryPages(bytes), { sql: bomb.sql, params: bomb.params as never }));
      expect(bomb.codes, `${bomb.name}: ${e.code} ${e.message}`).toContain(e.code);
    }
    const after = await isolateEngine(wasm);
    expect(after.broken).toBe(false);
    expect((await after.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
  });
});

describe('memory and connection limits', () => {
  it('the memory ceiling holds while a statement compiles (CTEs expanding each other): QUERY_TOO_EXPENSIVE, and the engine goes on', async () => {
    const ceiling = 32 * 1024 * 1024;
    const engine = await QueryEngine.create(wasm, { maxMemoryBytes: ceiling });
    const sql = `WITH c0(v) AS (SELECT x FROM t), ${Array.from({ length: 16 }, (_, i) => `c${i + 1}(v) AS (SELECT v FROM c${i} UNION ALL SELECT v FROM c${i})`).join(', ')} SELECT count(*) FROM c16`;
    const e = await failure(engine.query(new MemoryPages(bytes), { sql }));
    expect(e.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(e.details).toMatchObject({ limit: 'heap_bytes' });
    expect(engine.heapBytes).toBeLessThanOrEqual(ceiling * 1.25); // one growth step past it at most
    expect(engine.broken).toBe(false);
    expect((await engine.query(new MemoryPages(bytes), { sql: CHECK })).rows).toEqual(CHECK_ROWS);
  });

  it('every sqlite3_limit is set on a connection and reads back (EXPR_DEPTH is compiled out of this build)', async () => {
    const mod = await instantiateSqlite(wasm);
    const pp = mod._malloc(4);
    const name = new TextEncoder().encode(':memory:\0');
    const zName = mod._malloc(name.length);
    mod.HEAPU8.set(name, zName);
    expect(mod._sqlite3_open_v2(zName, pp, SQLite.SQLITE_OPEN_READWRITE | SQLite.SQLITE_OPEN_CREATE, 0)).toBe(SQLite.SQLITE_OK);
    const db = mod.HEAP32[pp >> 2];
    applyConnectionLimits(mod, db);
    const effective = Object.fromEntries(CONNECTION_LIMITS.map((l) => [l.name, l.effective]));
    expect(readConnectionLimits(mod, db)).toEqual(effective);
    expect(effective).toMatchObject({ EXPR_DEPTH: 0, ATTACHED: 0, COMPOUND_SELECT: 200, SQL_LENGTH: 100_000, LENGTH: 16 * 1024 * 1024 });
    // Every SQLITE_LIMIT_* id has its line.
    expect(CONNECTION_LIMITS.map((l) => l.id).sort((a, b) => a - b)).toEqual(
      Array.from({ length: SQLite.SQLITE_LIMIT_WORKER_THREADS + 1 }, (_, i) => i),
    );
    mod._sqlite3_close_v2(db);
  });

  it('the engine’s connections run with them', async () => {
    const engine = await QueryEngine.create(wasm);
    const sqlError = async (sql: string, params?: unknown[]): Promise<string> => {
      const e = await failure(engine.query(new MemoryPages(bytes), { sql, params: params as never }, UNSCANNED));
      expect(e.code, sql.slice(0, 40)).toBe('SQL_ERROR');
      return e.message;
    };
    expect(await sqlError(Array(201).fill('SELECT 1').join(' UNION ALL '))).toMatch(/compound/);
    expect(await sqlError('SELECT ? LIKE ?', ['a', 'a'.repeat(10_001)])).toMatch(/pattern too complex/);
    expect(await sqlError('SELECT length(zeroblob(16777217))')).toMatch(/too big/);
    expect(await sqlError('SELECT ?32767')).toMatch(/variable number/);
    expect(await sqlError(`SELECT max(${Array(1001).fill('1').join(',')})`)).toMatch(/too many arguments/);
    expect(await sqlError(`SELECT ${Array(2001).fill('1').join(',')}`)).toMatch(/too many columns/);
    expect(await sqlError("ATTACH ':memory:' AS m")).toMatch(/too many attached/);
    const ok = await engine.query(new MemoryPages(bytes), {
      sql: `SELECT ? LIKE ?, length(zeroblob(16777216))`,
      params: ['a', 'a'.repeat(10_000)],
    });
    expect(ok.rows).toEqual([[0, 16777216]]);
  });
});
