// POST /v1/databases/:db/query: real node:sqlite workloads pushed as LTX, answered at every TXID exactly as node:sqlite did; refusals, limits, concurrency.

import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { app } from '../../src/app.ts';
import { readCacheStats, resetReadCaches } from '../../src/read/read-caches.ts';
import { INCARNATION_CHECK_MS } from '../../src/read/read-service.ts';
import type { Expected, Workload } from '../helpers/query-workload.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token', 'content-type': 'application/json' };
const workloads = inject('queryWorkloads');
const hex = (n: number): string => n.toString(16).padStart(16, '0');
/** The workloads' LTX headers are stamped 2024-01-01T00:00Z + (TXID − 1) minutes. */
const T0 = Date.UTC(2024, 0, 1);

interface QueryAnswer {
  columns: string[];
  rows: unknown[][];
  pos: { txid: string; postApplyChecksum: string };
  stats: Record<string, number>;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

async function query(db: string, body: unknown, path = ''): Promise<{ status: number; json: QueryAnswer; headers: Headers }> {
  const res = await app.request(
    `${BASE}/v1/databases/${db}/query${path}`,
    { method: 'POST', headers: AUTH, body: JSON.stringify(body) },
    env,
  );
  return { status: res.status, json: (await res.json()) as QueryAnswer, headers: res.headers };
}

function expectAnswer(got: { status: number; json: QueryAnswer }, want: Expected, label: string): void {
  if ('error' in want) {
    expect(got.status, label).toBe(400);
    expect(got.json.error?.code, label).toBe(want.error);
    return;
  }
  expect(got.status, `${label}: ${JSON.stringify(got.json.error)}`).toBe(200);
  expect(got.json.columns, label).toEqual(want.columns);
  expect(got.json.rows, label).toEqual(want.rows);
}

function bytesOf(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

beforeAll(async () => {
  for (const w of workloads) {
    for (const b64 of w.ltx) {
      const res = await app.request(`${BASE}/v1/databases/${w.name}/ltx`, { method: 'POST', headers: AUTH, body: bytesOf(b64) }, env);
      expect(res.status, await res.clone().text()).toBe(201);
    }
  }
});

describe.each(workloads.map((w) => [w.name, w] as [string, Workload]))('%s', (_name, w) => {
  it('answers every query at every TXID exactly as node:sqlite did', async () => {
    expect(w.commits[7]).toBeLessThan(w.commits[6]); // the VACUUM shrank the file
    for (let t = 0; t < w.ltx.length; t++) {
      resetReadCaches(); // every TXID starts cold once, then runs warm
      for (let q = 0; q < w.queries.length; q++) {
        const { name, sql, params } = w.queries[q];
        const got = await query(w.name, { sql, params, txid: hex(t + 1) });
        expectAnswer(got, w.expected[t][q], `TXID ${t + 1}, ${name}`);
        if (got.status === 200) {
          expect(got.json.pos.txid).toBe(hex(t + 1));
          expect(got.headers.get('ltx-txid')).toBe(hex(t + 1));
          expect(got.headers.get('server-timing')).toMatch(/^plan;dur=\d+, indexes;dur=\d+, engine;dur=\d+, sql;dur=\d+$/);
        }
      }
      // Every page through the VFS, checked by SQLite itself (it reports unreadable pages as rows: never an answer).
      const check = await query(w.name, { sql: 'PRAGMA integrity_check', txid: hex(t + 1) });
      expect(check.json.rows, `TXID ${t + 1}`).toEqual([['ok']]);
    }
  });

  it('at the head, by time (at) and with min_txid; the point may also come in the query string', async () => {
    const last = w.ltx.length;
    const q = w.queries.findIndex((x) => x.name === 'join');
    const { sql } = w.queries[q];
    const head = await query(w.name, { sql });
    expectAnswer(head, w.expected[last - 1][q], 'head');
    expect(head.json.pos.txid).toBe(hex(last));
    const at = await query(w.name, { sql, at: new Date(T0 + 3.5 * 60_000).toISOString() });
    expectAnswer(at, w.expected[3][q], 'at TXID 4');
    expect(at.json.pos.txid).toBe(hex(4));
    const min = await query(w.name, { sql, min_txid: hex(last) });
    expect(min.json.pos.txid).toBe(hex(last));
    const qs = await query(w.name, { sql }, `?txid=${hex(2)}`);
    expectAnswer(qs, w.expected[1][q], 'txid in the query string');
    expect((await query(w.name, { sql, txid: hex(2) }, `?txid=${hex(2)}`)).status).toBe(400);
    expect((await query(w.name, { sql, txid: hex(last + 1) })).json.error?.code).toBe('NOT_YET_AVAILABLE');
    expect((await query(w.name, { sql, txid: 'xyz' })).json.error?.code).toBe('BAD_REQUEST');
  });

  it('eight simultaneous queries, cold: joins and point lookups mixed, at different TXIDs, all correct', async () => {
    resetReadCaches();
    const picks = ['join', 'rowid lookup', 'index probe join', 'unique index lookup', 'join', 'named param', 'scan filter', 'rowid lookup'];
    const jobs = picks.map((name, i) => {
      const q = w.queries.findIndex((x) => x.name === name);
      const t = [8, 0, 5, 8, 2, 6, 8, 4][i];
      return { q, t, p: query(w.name, { sql: w.queries[q].sql, params: w.queries[q].params, txid: hex(t + 1) }) };
    });
    for (const { q, t, p } of jobs) expectAnswer(await p, w.expected[t][q], `TXID ${t + 1}, ${w.queries[q].name}`);
  });
});

describe('queries during compaction', () => {
  it('a cached plan whose files were compacted away answers the same, and is planned again once the isolate hears of the retention', async () => {
    const w = workloads[1];
    const db = 'query-compact';
    for (const b64 of w.ltx) {
      const res = await app.request(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: bytesOf(b64) }, env);
      expect(res.status).toBe(201);
    }
    const last = w.ltx.length;
    const join = w.queries.findIndex((x) => x.name === 'join');
    const ask = (txid?: number) => query(db, { sql: w.queries[join].sql, ...(txid === undefined ? {} : { txid: hex(txid) }) });
    expectAnswer(await ask(last), w.expected[last - 1][join], 'before');
    expect((await ask(last)).json.stats.doCalls).toBe(0); // the plan (level-0 files) is cached
    const stub = env.DATABASE.getByName(db);
    const later = Date.now() + 3_600_000;
    expect((await stub.compact(db, { level: 1, minTXID: 2n, maxTXID: BigInt(last) })).ok).toBe(true);
    expect((await stub.maintain(db, later, { kind: 'snapshot' })).ok).toBe(true);
    const retention = await stub.maintain(db, later, { kind: 'retention' });
    expect(retention.ok && retention.value.actions.some((a) => a.kind === 'delete' && a.ok)).toBe(true);
    // Within INCARNATION_CHECK_MS the isolate still trusts its plan; the bytes it names are immutable
    // (and in the edge cache), so the answer is exact.
    const soon = await ask(last);
    expectAnswer(soon, w.expected[last - 1][join], 'after, before the check');
    // Then one check tells it retention ran: it plans again (the check and the plan: 2 DO calls).
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + INCARNATION_CHECK_MS);
      const after = await ask(last);
      expectAnswer(after, w.expected[last - 1][join], 'after: cached plan went stale');
      expect(after.json.stats.doCalls).toBe(2);
      expect((await ask(last)).json.stats.doCalls).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    expectAnswer(await ask(), w.expected[last - 1][join], 'after, at the head');
  });
});

describe('query refusals and limits', () => {
  const db = workloads[0].name;

  it('cold and warm stats', async () => {
    resetReadCaches();
    const body = { sql: 'SELECT name FROM users WHERE id = ?', params: [1234], txid: hex(9) };
    const cold = await query(db, body);
    expect(cold.status).toBe(200);
    expect(cold.json.stats.doCalls).toBe(1);
    expect(cold.json.stats.r2Reads).toBeGreaterThan(0);
    expect(cold.json.stats.pagesRead).toBeGreaterThanOrEqual(3);
    const warm = await query(db, body);
    expect(warm.json.rows).toEqual(cold.json.rows);
    expect(warm.json.stats.doCalls).toBe(0);
    expect(warm.json.stats.r2Reads).toBe(1); // one ranged read: the leaf
    expect(warm.json.stats.fetchRounds).toBe(1); // interior pages are shared across requests; the leaf is not
    expect(warm.json.stats.sharedCacheHits).toBeGreaterThanOrEqual(2);
  });

  it('writes and several statements are refused with their own codes; SQLite errors keep SQLite message', async () => {
    for (const sql of [
      'DELETE FROM users',
      "UPDATE users SET name = 'x'",
      'CREATE TABLE t (x)',
      'DROP TABLE orders',
      'PRAGMA user_version = 7',
      'VACUUM',
      'REINDEX',
    ]) {
      const r = await query(db, { sql });
      expect(r.status, sql).toBe(400);
      expect(r.json.error?.code, sql).toBe('QUERY_NOT_READ_ONLY');
    }
    for (const sql of ['SELECT 1; SELECT 2', 'SELECT 1; DELETE FROM users']) {
      const r = await query(db, { sql });
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe('MULTIPLE_STATEMENTS');
    }
    const bad = await query(db, { sql: 'SELECT nope FROM users' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'SQL_ERROR', message: 'no such column: nope', details: { sqliteCode: 1, offset: 7 } });
    // The data is still there afterwards.
    expect((await query(db, { sql: 'SELECT count(*) FROM users' })).status).toBe(200);
  });

  it('malformed requests: 400; no token: 401; unknown database: 404; oversized body: 413', async () => {
    for (const body of [
      {},
      { sql: '' },
      { sql: 1 },
      { sql: 'SELECT 1', params: 3 },
      { sql: 'SELECT 1', extra: 1 },
      { sql: 'SELECT ?', params: [] },
      [1],
    ]) {
      const r = await query(db, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error?.code).toBe('BAD_REQUEST');
    }
    const notJSON = await app.request(`${BASE}/v1/databases/${db}/query`, { method: 'POST', headers: AUTH, body: '{"sql":' }, env);
    expect(notJSON.status).toBe(400);
    const anon = await app.request(`${BASE}/v1/databases/${db}/query`, { method: 'POST', body: '{"sql":"SELECT 1"}' }, env);
    expect(anon.status).toBe(401);
    expect((await query('no-such-db', { sql: 'SELECT 1' })).status).toBe(404);
    const big = await query(db, { sql: 'SELECT ?', params: ['x'.repeat(1024 * 1024)] });
    expect(big.status).toBe(413);
    expect(big.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('too many rows → 413 QUERY_TOO_MANY_ROWS; too many bytes → 413 QUERY_RESULT_TOO_LARGE; endless → 422 QUERY_TOO_EXPENSIVE', async () => {
    const rows = await query(db, { sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50001) SELECT x FROM c' });
    expect(rows.status).toBe(413);
    expect(rows.json.error).toMatchObject({ code: 'QUERY_TOO_MANY_ROWS', details: { limit: 'rows', value: 50_000 } });
    const bytes = await query(db, {
      sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 12) SELECT randomblob(1000000) FROM c',
    });
    expect(bytes.status).toBe(413);
    expect(bytes.json.error?.code).toBe('QUERY_RESULT_TOO_LARGE');
    const endless = await query(db, { sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c' });
    expect(endless.status).toBe(422);
    expect(endless.json.error).toMatchObject({ code: 'QUERY_TOO_EXPENSIVE', details: { limit: 'vm_steps' } });
    // The engine is still fine, and every query gave its page memory back.
    expect((await query(db, { sql: 'SELECT count(*) AS n FROM users' })).status).toBe(200);
    expect(readCacheStats()?.queryPageMemoryUsed ?? 0).toBe(0);
  });
});
