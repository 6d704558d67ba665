// The isolate's query page memory: one ceiling, and a share no database may pass while another wants memory (QUERY_BUSY with an integer retryAfterSeconds).

import { beforeAll, describe, expect, it } from 'vitest';
import { decodeHeader } from '../../../src/ltx/header.ts';
import { DEFAULT_QUERY_LIMITS, QueryEngine } from '../../../src/query/engine.ts';
import { PageMemory, WANTING_MS } from '../../../src/query/page-memory.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import { QueryPages } from '../../../src/query/query-pages.ts';
import { SharedPageCache } from '../../../src/query/shared-page-cache.ts';
import { PageIndexCache } from '../../../src/replication/page-index-cache.ts';
import { PageSource } from '../../../src/replication/page-source.ts';
import type { ReadPlan } from '../../../src/replication/plan.ts';
import { MemoryObjectStore } from '../../../src/storage/memory-store.ts';
import { putFile } from '../../helpers/plan-chain.ts';
import { buildWorkload } from '../../helpers/query-workload.ts';
import { compileWaSqlite } from '../../helpers/sqlite-wasm.ts';

describe('PageMemory', () => {
  const clock = { t: 0 };
  const memory = (): PageMemory => new PageMemory(100, { databaseShare: 0.5, now: () => clock.t });

  it('a database alone may use it all; once another holds some, it may not grow past its share', () => {
    const m = memory();
    expect(m.take(80, 'a')).toBeUndefined(); // alone: nothing is left idle
    expect(m.take(10, 'b')).toBeUndefined();
    expect(m.take(5, 'a')).toBe('database_page_bytes'); // b is here now
    expect(m.take(20, 'b')).toBe('isolate_page_bytes'); // 80 + 10 + 20 > 100
    m.release(80, 'a');
    expect(m.usedBy('a')).toBe(0);
    expect(m.take(40, 'a')).toBeUndefined(); // within its share
    expect(m.take(20, 'b')).toBeUndefined();
    expect(m.used).toBe(70);
  });

  it('a database refused memory counts as wanting it for WANTING_MS: meanwhile the others stay within their share', () => {
    clock.t = 1_000;
    const m = memory();
    expect(m.take(100, 'a')).toBeUndefined();
    expect(m.take(1, 'b')).toBe('isolate_page_bytes'); // b holds nothing, but now wants
    m.release(100, 'a');
    expect(m.take(60, 'a')).toBe('database_page_bytes'); // a's next queries leave room for b's retry
    expect(m.take(50, 'a')).toBeUndefined();
    clock.t += WANTING_MS + 1;
    expect(m.take(20, 'a')).toBeUndefined(); // b never came back: a may use what is idle
    expect(m.take(1, 'b')).toBeUndefined();
  });

  it('counts without a database against the ceiling only; releases never go below zero', () => {
    const m = memory();
    expect(m.tryTake(70)).toBe(true);
    expect(m.tryTake(20, 'a')).toBe(true);
    expect(m.tryTake(20)).toBe(false);
    m.release(500, 'a');
    m.release(500);
    expect(m.used).toBe(0);
    expect(m.usedBy('a')).toBe(0);
    expect(() => new PageMemory(100, { databaseShare: 0 })).toThrow(RangeError);
  });
});

describe('QueryPages and the database share', () => {
  const PREFIX = 'db';
  let store: MemoryObjectStore;
  let plan: ReadPlan;
  let engine: QueryEngine;

  beforeAll(async () => {
    engine = await QueryEngine.create(compileWaSqlite());
    const work = buildWorkload({ name: 'share', pageSize: 1024, wal: false, users: 300, seed: 5 });
    store = new MemoryObjectStore();
    const bytes = new Uint8Array(Buffer.from(work.ltx[0], 'base64'));
    const file = await putFile(store, PREFIX, 'w', 0, bytes);
    const h = decodeHeader(bytes.subarray(0, 100));
    plan = { db: 'w', txid: h.maxTXID, pageSize: h.pageSize, commit: h.commit, checksum: 0n, files: [file] };
  });

  const open = (memory: PageMemory, database?: string): Promise<QueryPages> =>
    QueryPages.open(plan, new PageSource(store, new PageIndexCache(), { prefix: PREFIX }), new SharedPageCache(), {
      prefix: PREFIX,
      memory,
      ...(database === undefined ? {} : { database }),
    });

  it('one database cannot starve another: past its share while another holds memory, QUERY_BUSY with retryAfterSeconds', async () => {
    const memory = new PageMemory(64 * 1024); // share: 32 KiB
    const victim = await open(memory, 'victim');
    const hog = await open(memory, 'hog');
    try {
      // The victim runs a point lookup and holds its pages (a few KiB).
      expect((await engine.query(victim, { sql: 'SELECT name FROM users WHERE id = 7' })).rows).toHaveLength(1);
      const held = memory.usedBy('victim');
      expect(held).toBeGreaterThan(0);
      // The hog scans: it may not take more than its share, although the isolate has room.
      const e = await engine
        .query(hog, { sql: 'SELECT count(*), sum(length(note)) FROM orders' }, DEFAULT_QUERY_LIMITS)
        .catch((err: unknown) => err);
      expect(e).toBeInstanceOf(QueryError);
      expect((e as QueryError).code).toBe('QUERY_BUSY');
      expect((e as QueryError).details).toEqual({ limit: 'database_page_bytes', value: 32 * 1024, retryAfterSeconds: 1 });
      expect(memory.usedBy('hog')).toBeLessThanOrEqual(32 * 1024);
      expect(memory.used).toBeLessThan(memory.maxBytes);
    } finally {
      victim.close();
      hog.close();
    }
    expect(memory.used).toBe(0);
  });

  it('the database defaults to the plan’s name; the isolate ceiling still answers isolate_page_bytes', async () => {
    const memory = new PageMemory(8 * 1024);
    const pages = await open(memory);
    try {
      const e = await engine.query(pages, { sql: 'SELECT count(*), sum(length(note)) FROM orders' }).catch((err: unknown) => err);
      expect((e as QueryError).details).toEqual({ limit: 'isolate_page_bytes', value: 8 * 1024, retryAfterSeconds: 1 });
      expect(memory.usedBy('w')).toBeGreaterThan(0);
    } finally {
      pages.close();
    }
    expect(memory.usedBy('w')).toBe(0);
  });
});
