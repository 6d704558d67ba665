// Sibling prefetch on walks it used to get wrong: rows found through an index in rowid order but far apart, and guesses that filled the page budget.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../../../src/ltx/index.ts';
import { DEFAULT_QUERY_LIMITS, QueryEngine } from '../../../src/query/engine.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import { PageMemory, QueryPages } from '../../../src/query/query-pages.ts';
import { SharedPageCache } from '../../../src/query/shared-page-cache.ts';
import type { Params } from '../../../src/query/values.ts';
import { PageIndexCache } from '../../../src/replication/page-index-cache.ts';
import { PageSource } from '../../../src/replication/page-source.ts';
import type { ReadPlan } from '../../../src/replication/plan.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { putFile } from '../../helpers/plan-chain.ts';
import { prng } from '../../helpers/prng.ts';
import { compileWaSqlite } from '../../helpers/sqlite-wasm.ts';

const PREFIX = 'db';
const PAGE_SIZE = 4096;
const ROWS = 240_000;
/**
 * user_id = (id · 37) % USERS + 1: a user's events lie USERS rowids apart, about 80 table leaves (~400 under each
 * interior page), and users next to each other are far apart.
 */
const USERS = 7_500;

let engine: QueryEngine;
let store: MemoryObjectStore;
let plan: ReadPlan;
let local: DatabaseSync;
let dir: string;

beforeAll(async () => {
  engine = await QueryEngine.create(compileWaSqlite());
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-prefetch-'));
  const file = path.join(dir, 'p.db');
  const r = prng(11);
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = DELETE; BEGIN;
    CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER, ts INTEGER, payload TEXT);
    CREATE TABLE picks (n INTEGER PRIMARY KEY, event_id INTEGER);`);
  const ins = db.prepare('INSERT INTO events (id, user_id, ts, payload) VALUES (?, ?, ?, ?)');
  for (let id = 1; id <= ROWS; id++) ins.run(id, ((id * 37) % USERS) + 1, 1000 + id * 10, `payload ${r.int(1e9)} ${'x'.repeat(r.int(20))}`);
  // 600 events in random order: probes that change direction all the time.
  const pick = db.prepare('INSERT INTO picks (event_id) VALUES (?)');
  for (let i = 0; i < 600; i++) pick.run(1 + r.int(ROWS));
  db.exec('COMMIT; CREATE INDEX events_by_user_ts ON events (user_id, ts);');
  db.close();
  const bytes = new Uint8Array(readFileSync(file));
  const commit = bytes.length / PAGE_SIZE;
  const header = makeHeader({ flags: HEADER_FLAG_NO_CHECKSUM, pageSize: PAGE_SIZE, commit, minTXID: 1n, maxTXID: 1n, timestamp: 0 });
  const pages = Array.from({ length: commit }, (_, i) => ({ pgno: i + 1, data: bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) }));
  store = new MemoryObjectStore();
  const ref = await putFile(store, PREFIX, 'p', 9, encodeLTX(header, pages));
  plan = { db: 'p', txid: 1n, pageSize: PAGE_SIZE, commit, checksum: 0n, files: [ref] };
  local = new DatabaseSync(file, { readOnly: true });
  return () => {
    local.close();
    rmSync(dir, { recursive: true, force: true });
  };
});

async function run(sql: string, params: Params, opts: { maxPageBytes?: number; memory?: PageMemory } = {}) {
  const source = new PageSource(store, new PageIndexCache(), { prefix: PREFIX });
  const pages = await QueryPages.open(plan, source, new SharedPageCache(), { prefix: PREFIX, ...opts });
  try {
    const out = await engine.query(pages, { sql, params }, DEFAULT_QUERY_LIMITS);
    const want = (local.prepare(sql).all(...(params as never[])) as Record<string, unknown>[]).map((row) => Object.values(row));
    expect(out.rows).toEqual(want);
    return { out, stats: pages.stats };
  } finally {
    pages.close();
  }
}

describe('sibling prefetch', () => {
  it("one user's events through the index (rowids in order, ~100 leaves apart): no sibling is fetched in vain", async () => {
    const { out, stats } = await run('SELECT id, ts, payload FROM events WHERE user_id = ? ORDER BY ts', [42]);
    expect(out.rows).toHaveLength(ROWS / USERS);
    console.log(`sparse index walk: ${JSON.stringify(stats)}`);
    // Before: the second and later probes under a table interior page fetched 8, 16, 32… neighbours, in vain.
    expect(stats.pagesFetched).toBeLessThanOrEqual(stats.pagesRead * 1.05);
  });

  it('several users: within a 2 MiB budget that the pages read fit in', async () => {
    const { out, stats } = await run('SELECT count(*), sum(length(payload)) FROM events WHERE user_id BETWEEN ? AND ?', [10, 19], {
      maxPageBytes: 2 << 20,
    });
    expect(out.rows[0][0]).toBe((10 * ROWS) / USERS);
    console.log(`several users, 2 MiB: ${JSON.stringify(stats)}`);
    expect(stats.pagesRead * PAGE_SIZE).toBeLessThan(2 << 20);
    // Each user's rowids ascend, then the next user's start again: the walk turns, the prefetch guesses,
    // the guesses fill the budget and are dropped once; then no more guessing (refilling churned: 46× the pages read).
    expect(stats.pagesFetched * PAGE_SIZE).toBeLessThanOrEqual((2 << 20) + stats.pagesRead * PAGE_SIZE);
  });

  it('a full scan still prefetches: few rounds', async () => {
    const { stats } = await run('SELECT count(*), max(length(payload)) FROM events', []);
    console.log(`full scan: ${JSON.stringify(stats)}`);
    expect(stats.fetchRounds).toBeLessThan(100);
    expect(stats.pagesRead).toBeGreaterThan(2000);
  });

  it('random probes prefetch, but the guesses SQLite never reads are dropped before they make a query fail', async () => {
    const sql = 'SELECT count(*), sum(length(e.payload)) FROM picks p JOIN events e ON e.id = p.event_id';
    const free = await run(sql, []);
    console.log(`random probes: ${JSON.stringify(free.stats)}`);
    expect(free.stats.pagesFetched).toBeGreaterThan(free.stats.pagesRead * 1.5); // it does guess, and many guesses miss
    // A budget the pages read fit in with room to spare, but not the pages read plus every guess.
    const budget = Math.ceil(free.stats.pagesRead * 1.2) * PAGE_SIZE;
    expect(free.stats.pagesFetched * PAGE_SIZE).toBeGreaterThan(budget);
    const memory = new PageMemory(budget);
    const tight = await run(sql, [], { maxPageBytes: budget, memory });
    expect(tight.stats.pagesRead).toBe(free.stats.pagesRead);
    expect(memory.used).toBe(0); // closed: everything given back, dropped guesses included
  });

  it('misses alone beyond the budget still fail with page_bytes', async () => {
    const err = await run('SELECT count(*), max(length(payload)) FROM events', [], { maxPageBytes: 64 * PAGE_SIZE }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).code).toBe('QUERY_TOO_EXPENSIVE');
    expect((err as QueryError).details?.limit).toBe('page_bytes');
  });
});
