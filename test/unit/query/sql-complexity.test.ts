// The complexity scan: ordinary SQL passes; each construct weighs what it costs; every bomb shape is refused past its limit and, at its limit, stays well inside the wasm stack (measured).

import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_HEAP_BYTES, QueryEngine } from '../../../src/query/engine.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import {
  MAX_EXPRESSION_DEPTH,
  MAX_LIST_ITEMS,
  MAX_LITERAL_BYTES,
  MAX_SELECTS,
  MAX_SQL_BYTES,
  checkSqlComplexity,
  measureSql,
} from '../../../src/query/sql-complexity.ts';
import type { SqliteModule } from '../../../src/query/sqlite-module.ts';
import { STACK_PAINT, type StackGuard, WASM_STACK_BYTES } from '../../../src/query/stack-guard.ts';
import { WORKLOAD_QUERIES } from '../../helpers/query-workload.ts';
import { compileWaSqlite } from '../../helpers/sqlite-wasm.ts';
import { MemoryPages, memoryDatabase } from './memory-pages.ts';
import { BOMB_SHAPES } from './sql-bombs.ts';

const utf8 = (s: string): number => new TextEncoder().encode(s).length;

function refusal(sql: string): { limit: unknown; value: unknown; max: unknown } | undefined {
  try {
    checkSqlComplexity(sql, utf8(sql));
    return undefined;
  } catch (e) {
    if (!(e instanceof QueryError) || e.code !== 'QUERY_TOO_COMPLEX') throw e;
    return e.details as { limit: unknown; value: unknown; max: unknown };
  }
}

/** Statements real applications send: they must pass with room to spare. */
const ORDINARY = [
  ...WORKLOAD_QUERIES.map((q) => q.sql),
  `WITH monthly AS (
     SELECT strftime('%Y-%m', created_at) AS month, customer_id, sum(amount) AS total
     FROM orders WHERE status IN ('paid', 'shipped', 'delivered') AND created_at >= date('now', '-1 year')
     GROUP BY 1, 2
   ), ranked AS (
     SELECT *, rank() OVER (PARTITION BY month ORDER BY total DESC) AS r FROM monthly
   )
   SELECT m.month, c.name, m.total, round(m.total * 100.0 / (SELECT sum(total) FROM monthly WHERE month = m.month), 2) AS pct
   FROM ranked m JOIN customers c ON c.id = m.customer_id
   WHERE m.r <= 10 AND (c.country = :country OR :country IS NULL) AND c.email NOT LIKE '%@test.%' ESCAPE '\\'
   ORDER BY m.month DESC, m.total DESC LIMIT 100`,
  `SELECT CASE WHEN a IS NULL THEN 'none' WHEN a BETWEEN 1 AND 10 THEN 'low' WHEN a BETWEEN 11 AND 100 THEN 'mid' ELSE 'high' END AS bucket,
     count(*) FILTER (WHERE b IS NOT DISTINCT FROM c), json_group_array(json_object('a', a, 'b', b)), group_concat(DISTINCT name ORDER BY name)
   FROM t LEFT JOIN u USING (id) WHERE EXISTS (SELECT 1 FROM v WHERE v.id = t.id AND v.flag) GROUP BY 1 HAVING count(*) > 1`,
  `SELECT * FROM events WHERE id IN (${Array.from({ length: 5000 }, (_, i) => i).join(', ')})`,
  `SELECT * FROM t WHERE ${Array.from({ length: 200 }, (_, i) => `(a = ${i} AND b = 'v${i}')`).join(' OR ')}`,
  `SELECT ${Array.from({ length: 500 }, (_, i) => `c${i}`).join(', ')} FROM wide`,
  'WITH RECURSIVE tree(id, parent, depth) AS (SELECT id, parent, 0 FROM nodes WHERE parent IS NULL UNION ALL SELECT n.id, n.parent, t.depth + 1 FROM nodes n JOIN tree t ON n.parent = t.id) SELECT * FROM tree',
  'PRAGMA table_info(users)',
  'EXPLAIN QUERY PLAN SELECT * FROM orders WHERE user_id = 5',
];

describe('measureSql', () => {
  it('passes ordinary SQL with room to spare', () => {
    for (const sql of ORDINARY) {
      expect(refusal(sql), sql.slice(0, 60)).toBeUndefined();
      const m = measureSql(sql);
      expect(m.depth, sql.slice(0, 60)).toBeLessThan(MAX_EXPRESSION_DEPTH / 2);
      expect(m.selects).toBeLessThan(10);
    }
  });

  it.each([
    ['a literal', 'SELECT 1', 0],
    ['one operator', 'SELECT a + b', 1],
    ['a chain: as deep as it is long', 'SELECT a + b * c - d', 3],
    ['a call nests its arguments two levels deeper', 'SELECT abs(a + b)', 3],
    ['a group one level', 'SELECT (a + b) * c', 2],
    ['a subquery four', 'SELECT (SELECT a + b)', 5],
    ['IN (SELECT …)', 'SELECT x IN (SELECT a)', 5],
    ['a FROM clause group is a subquery', 'SELECT * FROM (t JOIN u)', 4],
    ['CASE two, its branches separate trees', 'SELECT CASE WHEN a AND b THEN c + d ELSE e END', 3],
    ['BETWEEN three, with its AND', 'SELECT x BETWEEN 1 AND 2', 4],
    ['IS NULL and NOT NULL two', 'SELECT x IS NULL, y NOT NULL', 2],
    ['commas and clauses start new trees', 'SELECT a + b, c + d FROM t WHERE e + f ORDER BY g + h', 1],
    ['IS NOT DISTINCT FROM continues the chain', 'SELECT a IS NOT DISTINCT FROM b IS NOT DISTINCT FROM c', 10],
    ['a name SQLite also takes as a keyword continues it', 'SELECT offset + offset + by + window', 3],
    ['strings, identifiers and comments are not parsed', `SELECT '((((a+b' + "((" -- (((((\n + [((((] /* ((((( */`, 2],
    ['each statement measured alone', 'SELECT a+b+c; SELECT a', 2],
  ])('%s', (_name, sql, depth) => {
    expect(measureSql(sql).depth).toBe(depth);
  });

  it('counts SELECTs (FROM groups included once), list items and literal bytes', () => {
    expect(measureSql('SELECT 1 UNION ALL SELECT 2 UNION ALL VALUES (3)').selects).toBe(3);
    expect(measureSql('SELECT * FROM (SELECT 1) JOIN ((t JOIN u) JOIN v)').selects).toBe(4);
    expect(measureSql('SELECT f(1, 2, 3), g(4, 5)').listItems).toBe(3);
    expect(measureSql(`SELECT '${'é'.repeat(100)}', x'${'00'.repeat(300)}', 12345`).literalBytes).toBe(300);
    expect(measureSql(`SELECT "${'a'.repeat(40)}"`).literalBytes).toBe(40);
  });

  it('refuses each limit with its own details', () => {
    const cases: [string, string, number][] = [
      [`SELECT '${'x'.repeat(MAX_SQL_BYTES)}'`, 'sql_bytes', MAX_SQL_BYTES],
      [
        `SELECT ${Array(MAX_EXPRESSION_DEPTH + 2)
          .fill('1')
          .join('+')}`,
        'expression_depth',
        MAX_EXPRESSION_DEPTH,
      ],
      [
        Array(MAX_SELECTS + 1)
          .fill('SELECT 1')
          .join(' UNION ALL '),
        'selects',
        MAX_SELECTS,
      ],
      [
        `SELECT 1 IN (${Array(MAX_LIST_ITEMS + 1)
          .fill('1')
          .join(',')})`,
        'list_items',
        MAX_LIST_ITEMS,
      ],
      [`SELECT '${'x'.repeat(MAX_LITERAL_BYTES + 1)}'`, 'literal_bytes', MAX_LITERAL_BYTES],
    ];
    for (const [sql, limit, max] of cases) {
      const d = refusal(sql);
      expect(d, limit).toMatchObject({ limit, max });
      expect(d!.value as number, limit).toBeGreaterThan(max);
    }
  });
});

interface EngineInside {
  mod: SqliteModule;
  guard: StackGuard;
}

/** What the deepest statement the scan admits may use of the 512 KiB wasm stack (measured at most ~143 KiB). */
const ADMITTED_STACK_BYTES = 160 * 1024;

describe('every bomb shape at its limit', () => {
  const wasm = compileWaSqlite();
  const bytes = memoryDatabase();

  /** The largest n the scan admits (up to 2^17), by doubling then bisecting. */
  function largestAdmitted(build: (n: number) => string): number {
    const ok = (n: number): boolean => refusal(build(n)) === undefined;
    let hi = 1;
    while (ok(hi) && hi < 1 << 17) hi *= 2;
    if (ok(hi)) return hi;
    let lo = hi >> 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  it.each(BOMB_SHAPES.map((s) => [s.name, s] as const))('%s', async (_name, shape) => {
    const build = (n: number): string => shape.build(n, 't', 'x');
    const n = largestAdmitted(build);
    expect(n).toBeGreaterThan(0);
    if (n < 1 << 17) expect(refusal(build(n + 1))?.limit).toBeDefined();
    // Run it on a fresh engine whose stack below the idle pointer is painted, and see how deep it went.
    const engine = await QueryEngine.create(wasm, { maxMemoryBytes: DEFAULT_MAX_HEAP_BYTES });
    const { mod, guard } = engine as unknown as EngineInside;
    const low = guard.top + 16 - WASM_STACK_BYTES;
    const high = guard.top - 4096;
    mod.HEAP32.fill(STACK_PAINT, low >> 2, high >> 2); // the guard's bands are painted the same
    let outcome = 'ok';
    try {
      await engine.query(new MemoryPages(bytes), { sql: build(n) });
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      outcome = e.code; // SQLite's own limits (its parser's, CTE references, memory) may refuse first: typed, and the engine stays sound
    }
    let deepest = high;
    for (let i = low >> 2; i < high >> 2; i++) {
      if (mod.HEAP32[i] !== STACK_PAINT) {
        deepest = i << 2;
        break;
      }
    }
    const used = guard.top - deepest;
    console.log(`${shape.name}: n ${n}, ${JSON.stringify(measureSql(build(n)))}, stack ${used} bytes, ${outcome}`);
    expect(outcome).not.toBe('QUERY_TOO_COMPLEX');
    expect(['ok', 'SQL_ERROR', 'QUERY_TOO_EXPENSIVE']).toContain(outcome);
    expect(used).toBeLessThan(ADMITTED_STACK_BYTES);
    expect(engine.broken).toBe(false);
    expect((await engine.query(new MemoryPages(bytes), { sql: 'SELECT count(*), sum(x) FROM t' })).rows).toEqual([[100, 5050]]);
  });
});
