// POST …/query under attack, inside workerd: every expression bomb answers a typed 4xx (never a 5xx); afterwards other databases, and the attacker's own, still answer exactly as node:sqlite did.

import SQLITE_WASM from '@journeyapps/wa-sqlite/dist/wa-sqlite.wasm';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, type EnginePages, type QueryLimits, isolateEngine } from '../../src/query/engine.ts';
import { QueryError } from '../../src/query/query-error.ts';
import { DEFAULT_COMPLEXITY_LIMITS } from '../../src/query/sql-complexity.ts';
import type { Expected } from '../helpers/query-workload.ts';
import { BOMB_SHAPES, type Bomb, sqlBombs } from '../unit/query/sql-bombs.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token', 'content-type': 'application/json' };
const workloads = inject('queryWorkloads');
const hex = (n: number): string => n.toString(16).padStart(16, '0');
const ATTACKER = 'iso-attacker';
const VICTIMS = ['iso-victim-a', 'iso-victim-b'];

interface Answer {
  status: number;
  json: { columns?: string[]; rows?: unknown[][]; error?: { code: string; message: string; details?: Record<string, unknown> } };
}

async function query(db: string, body: unknown): Promise<Answer> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/query`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

function expectRows(got: Answer, want: Expected, label: string): void {
  if ('error' in want) {
    expect(got.json.error?.code, label).toBe(want.error);
    return;
  }
  expect(got.status, `${label}: ${JSON.stringify(got.json.error)}`).toBe(200);
  expect(got.json.columns, label).toEqual(want.columns);
  expect(got.json.rows, label).toEqual(want.rows);
}

function expectRefused(got: Answer, bomb: Bomb): void {
  const label = `${bomb.name}: ${got.status} ${JSON.stringify(got.json.error).slice(0, 200)}`;
  expect(got.status, label).toBeGreaterThanOrEqual(400);
  expect(got.status, label).toBeLessThan(500);
  expect(bomb.codes, label).toContain(got.json.error?.code);
}

const w = workloads[0];
/** The victims' answers to check: every workload query at the head and at TXID 3. */
async function checkVictim(db: string): Promise<void> {
  for (const t of [w.ltx.length, 3]) {
    for (let q = 0; q < w.queries.length; q++) {
      const { name, sql, params } = w.queries[q];
      expectRows(await query(db, { sql, params, txid: hex(t) }), w.expected[t - 1][q], `${db} TXID ${t}, ${name}`);
    }
  }
}

beforeAll(async () => {
  for (const db of [ATTACKER, ...VICTIMS]) {
    for (const b64 of w.ltx) {
      const body = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, {
        method: 'POST',
        headers: { authorization: AUTH.authorization },
        body,
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  }
});

describe('the attacker corpus through the route', () => {
  const bombs = sqlBombs('users', 'id');
  const half = Math.ceil(bombs.length / 2);

  it.each([
    ['first half', bombs.slice(0, half)],
    ['second half', bombs.slice(half)],
  ])('%s: each bomb answers a typed 4xx, while a victim keeps answering', { timeout: 120_000 }, async (_name, group) => {
    for (const [i, bomb] of group.entries()) {
      expectRefused(await query(ATTACKER, { sql: bomb.sql, ...(bomb.params ? { params: bomb.params } : {}) }), bomb);
      if (i % 10 === 0)
        expectRows(
          await query(VICTIMS[0], { sql: w.queries[1].sql, params: w.queries[1].params }),
          w.expected[w.ltx.length - 1][1],
          `victim during the corpus (${bomb.name})`,
        );
    }
  });

  it('bombs sent concurrently with victim queries: every bomb 4xx, every victim answer exact', { timeout: 120_000 }, async () => {
    const picks = bombs.filter((b) => !b.name.startsWith('endless'));
    const jobs: Promise<void>[] = [];
    for (const [i, bomb] of picks.entries()) {
      jobs.push(
        query(ATTACKER, { sql: bomb.sql, ...(bomb.params ? { params: bomb.params } : {}) }).then((got) => expectRefused(got, bomb)),
      );
      const q = w.queries[i % w.queries.length];
      const want = w.expected[w.ltx.length - 1][i % w.queries.length];
      jobs.push(
        query(VICTIMS[1], { sql: q.sql, params: q.params }).then((got) => expectRows(got, want, `concurrent victim query ${q.name}`)),
      );
    }
    await Promise.all(jobs);
  });

  it('at their limits, the deepest statements of every shape the scan admits run: no stack refusal, no 5xx', {
    timeout: 120_000,
  }, async () => {
    const scanLimits = ['sql_bytes', 'expression_depth', 'selects', 'list_items', 'literal_bytes'];
    for (const shape of BOMB_SHAPES) {
      if (shape.name.startsWith('CTEs expanding')) continue; // a memory bomb by design (engine-isolation.test.ts)
      // Shrink from well past the limits until the scan admits it.
      let n = 4096;
      let got: Answer;
      for (;;) {
        got = await query(ATTACKER, { sql: shape.build(n, 'users', 'id') });
        if (!scanLimits.includes(got.json.error?.details?.limit as string)) break;
        n = Math.floor(n * 0.8);
      }
      const label = `${shape.name} at ${n}: ${got.status} ${JSON.stringify(got.json.error)}`;
      expect(got.status, label).toBeLessThan(500);
      expect(got.json.error?.code, label).not.toBe('QUERY_TOO_COMPLEX');
      expect(n, label).toBeGreaterThan(100);
    }
  });

  it('afterwards, both victims and the attacker’s own database answer every query exactly as node:sqlite did', {
    timeout: 120_000,
  }, async () => {
    for (const db of [...VICTIMS, ATTACKER]) await checkVictim(db);
  });
});

/** An empty database (0 pages): enough for statements over literals. */
const EMPTY: EnginePages = {
  pageSize: 4096,
  pageCount: 0,
  missingCount: 0,
  failure: undefined,
  internalError: undefined,
  page: () => undefined,
  noteError: () => {},
  clearMissing: () => {},
  fetchMissing: async () => {},
};

describe('inside workerd, a statement that slips past the scan', () => {
  const unscanned: QueryLimits = { ...DEFAULT_QUERY_LIMITS, complexity: { ...DEFAULT_COMPLEXITY_LIMITS, maxExpressionDepth: Infinity } };
  const plusChain = (n: number): string => `SELECT ${Array(n).fill('1').join(' + ')}`;

  async function refusal(p: Promise<unknown>): Promise<QueryError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(QueryError);
    return e as QueryError;
  }

  it('deeper than the stack budget: QUERY_TOO_COMPLEX, the engine stays', async () => {
    const engine = await isolateEngine(SQLITE_WASM);
    const e = await refusal(engine.query(EMPTY, { sql: plusChain(2400) }, unscanned)); // ~310 KiB of a 512 KiB stack
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    expect(e.details).toMatchObject({ limit: 'stack_bytes' });
    expect(engine.broken).toBe(false);
    const next = await isolateEngine(SQLITE_WASM);
    expect((await next.query(EMPTY, { sql: 'SELECT 6 * 7' })).rows).toEqual([[42]]);
  });

  it('past the end of the stack: QUERY_TOO_COMPLEX, the engine is replaced, and the route answers', async () => {
    const engine = await isolateEngine(SQLITE_WASM);
    const e = await refusal(engine.query(EMPTY, { sql: plusChain(4500) }, unscanned)); // ~585 KiB
    expect(e.code).toBe('QUERY_TOO_COMPLEX');
    expect(engine.broken).toBe(true);
    const next = await isolateEngine(SQLITE_WASM);
    expect(next).not.toBe(engine);
    expect((await next.query(EMPTY, { sql: 'SELECT 6 * 7' })).rows).toEqual([[42]]);
    await checkVictim(VICTIMS[0]);
  });
});
