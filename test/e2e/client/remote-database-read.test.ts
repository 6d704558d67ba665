// RemoteDatabase against the real local platform: local SQL equal to node:sqlite at every TXID, lazy pages, the LRU cap, refresh and follow, time travel, typed errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClientError } from '../../../src/remote/http-client.ts';
import { ClientError } from '../../../src/client/errors.ts';
import { RemoteDatabase } from '../../../src/client/remote-database.ts';
import type { RemoteDatabaseOptions } from '../../../src/client/remote-database-options.ts';
import { QueryError } from '../../../src/query/query-error.ts';
import { DEV_TOKEN, type DevServer, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { SqliteStates, word } from '../../helpers/sqlite-states.ts';

const SEED = Number(process.env.LTX_CLIENT_SEED ?? Date.now() % 0x7fffffff);
/** LTX pushes of `shop` are stamped T0 + TXID minutes, for `at`. */
const T0 = Date.parse('2024-01-01T00:00:00.000Z');
const ROWS = 20_000;
const TXS = 6;

let server: DevServer;
let states: SqliteStates;

/** Requests the client sent, by path, through a counting fetch. */
const sent: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
  return fetch(input, init);
};

function open(db: string, more: Partial<RemoteDatabaseOptions> = {}): Promise<RemoteDatabase> {
  return RemoteDatabase.open({ url: server.url, token: DEV_TOKEN, db, http: { fetch: countingFetch, retries: 0 }, ...more });
}

const QUERIES: { sql: string; params?: (number | string)[] }[] = [
  { sql: 'SELECT count(*), sum(qty), sum(length(note)) FROM items' },
  { sql: 'SELECT id, name, qty, note FROM items WHERE id = ?', params: [1] },
  { sql: 'SELECT id, name, qty FROM items WHERE id = ?', params: [ROWS - 3] },
  { sql: 'SELECT name, count(*) FROM items GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5' },
  { sql: 'SELECT id, qty FROM items WHERE name >= ? ORDER BY name, id LIMIT 10', params: ['m'] },
  { sql: 'SELECT i.id, t.label FROM items i JOIN tags t ON t.item_id = i.id WHERE i.id < 60 ORDER BY 1, 2' },
  { sql: 'SELECT type, name, tbl_name FROM sqlite_schema ORDER BY name' },
];

beforeAll(async () => {
  console.log(`client read tests: seed ${SEED} (repeat with LTX_CLIENT_SEED=${SEED})`);
  const rng = prng(SEED);
  states = new SqliteStates(4096);
  states.commit((db) => {
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT); CREATE INDEX items_by_name ON items (name);');
    db.exec('CREATE TABLE tags (item_id INTEGER, label TEXT)');
    const insert = db.prepare('INSERT INTO items (id, name, qty, note) VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= ROWS; i++) insert.run(i, word(rng, 1, 3), rng.int(1000), word(rng, 60, 120));
    const tag = db.prepare('INSERT INTO tags (item_id, label) VALUES (?, ?)');
    for (let i = 0; i < 500; i++) tag.run(1 + rng.int(100), word(rng, 3, 8));
  });
  for (let n = 2; n <= TXS; n++) {
    states.commit((db) => {
      db.prepare('UPDATE items SET qty = qty + 1, note = ? WHERE id % 97 = ?').run(word(rng, 60, 120), rng.int(97));
      db.prepare('DELETE FROM items WHERE id BETWEEN ? AND ?').run(...((k) => [k, k + rng.int(20)])(2 + rng.int(ROWS - 30)));
      const insert = db.prepare('INSERT INTO items (name, qty, note) VALUES (?, ?, ?)');
      for (let i = 0; i < 30; i++) insert.run(word(rng, 1, 3), rng.int(1000), word(rng, 60, 120));
      db.prepare('INSERT INTO tags (item_id, label) VALUES (?, ?)').run(1 + rng.int(50), `tx${n}`);
    });
  }
  server = await startDevServer();
  for (let n = 1; n <= TXS; n++) await states.push(server, 'shop', n, T0 + n * 60_000);
  // `live` gets the same states later, one by one, for refresh and follow.
  for (let n = 1; n <= 3; n++) await states.push(server, 'live', n, Date.now());
}, 120_000);

afterAll(async () => {
  await server?.stop();
  states?.close();
});

describe('local SQL over remote pages', () => {
  it('answers as node:sqlite does on the same database, at every TXID', async () => {
    for (let n = 1; n <= TXS; n++) {
      const db = await open('shop', { txid: n });
      expect(db.txid).toBe(BigInt(n));
      expect(db.commit, `commit at TXID ${n}`).toBe(states.pagesOf(n));
      expect(db.pageSize).toBe(4096);
      expect(db.pinned).toBe(true);
      for (const q of QUERIES) {
        const got = await db.query(q.sql, q.params);
        expect(got.rows, `TXID ${n}: ${q.sql}`).toEqual(states.answer(n, q.sql, q.params));
        expect(got.txid).toBe(BigInt(n));
      }
      // Each page the engine reads is checked against the saved file.
      for (const pgno of [1, 2, states.pagesOf(n)]) expect(Buffer.compare(await db.readPage(pgno), states.page(n, pgno))).toBe(0);
    }
  });

  it('is lazy: a point lookup on a cold database fetches a handful of its pages', async () => {
    const before = sent.length;
    const db = await open('shop');
    expect(db.txid).toBe(BigInt(TXS));
    expect(db.pos.txid).toBe(TXS.toString(16).padStart(16, '0'));
    const id = 1 + prng(SEED).int(ROWS);
    const got = await db.query('SELECT id, name, qty, note FROM items WHERE id = ?', [id]);
    expect(got.rows).toEqual(states.answer(TXS, 'SELECT id, name, qty, note FROM items WHERE id = ?', [id]));
    const requests = sent.slice(before);
    console.log(`point lookup: ${requests.length} requests, ${db.stats.pagesFetched} of ${db.commit} pages`);
    expect(db.commit).toBeGreaterThan(500);
    expect(db.stats.pagesFetched).toBeLessThanOrEqual(8);
    expect(db.stats.requests).toBe(got.stats.fetchRounds);
    expect(requests.length).toBe(1 + db.stats.requests); // GET /v1/databases/shop + the page batches
    // Warm: the same lookup fetches nothing.
    const again = await db.query('SELECT id, name, qty, note FROM items WHERE id = ?', [id]);
    expect(again.rows).toEqual(got.rows);
    expect(again.stats.fetchRounds).toBe(0);
    expect(sent.length - before).toBe(requests.length);
  });

  it('keeps the LRU within cacheBytes while a scan reads every page', async () => {
    const cacheBytes = 64 * 1024;
    const db = await open('shop', { cacheBytes });
    const q = QUERIES[0];
    const got = await db.query(q.sql);
    expect(got.rows).toEqual(states.answer(TXS, q.sql));
    expect(got.stats.pagesRead).toBeGreaterThan(500);
    expect(db.cacheStats.bytes).toBeLessThanOrEqual(cacheBytes);
    expect(db.cacheStats.entries).toBeGreaterThan(0);
    expect(db.cacheStats.evictions).toBeGreaterThan(400);
    // The statement's own pages are held while it runs, so a small LRU still answers; a second run refetches.
    const again = await db.query(q.sql);
    expect(again.rows).toEqual(got.rows);
    expect(again.stats.pagesFetched).toBeGreaterThan(400);
    expect(db.cacheStats.bytes).toBeLessThanOrEqual(cacheBytes);
  });

  it('refuses what the edge refuses: writes, two statements, SQL errors (QueryError codes)', async () => {
    const db = await open('shop');
    const code = async (sql: string): Promise<string> =>
      db.query(sql).then(
        () => 'ok',
        (e: QueryError) => (e instanceof QueryError ? e.code : `other ${e}`),
      );
    expect(await code('DELETE FROM items')).toBe('QUERY_NOT_READ_ONLY');
    expect(await code('SELECT 1; SELECT 2')).toBe('MULTIPLE_STATEMENTS');
    expect(await code('SELECT * FROM nowhere')).toBe('SQL_ERROR');
  });
});

describe('following the head', () => {
  it('refresh() drops only the pages that changed; an unchanged cached page is not fetched again', async () => {
    const db = await open('live');
    expect(db.txid).toBe(3n);
    const scan = QUERIES[0].sql;
    const first = await db.query(scan);
    expect(first.rows).toEqual(states.answer(3, scan));
    const cachedBefore = Array.from({ length: db.commit }, (_, i) => i + 1).filter((p) => db.isCached(p));
    // 32 MiB holds every page fetched: those read, and prefetched siblings.
    expect(cachedBefore.length).toBe(db.stats.pagesFetched);
    expect(cachedBefore.length).toBeGreaterThanOrEqual(first.stats.pagesRead);

    await states.push(server, 'live', 4, Date.now());
    const r = await db.refresh();
    expect(r).toEqual({ previous: 3n, txid: 4n, changed: states.changedPages(4) });
    expect(db.commit).toBe(states.pagesOf(4));
    for (const p of r.changed as number[]) expect(db.isCached(p), `changed page ${p}`).toBe(false);
    const unchanged = cachedBefore.filter((p) => !(r.changed as number[]).includes(p));
    expect(unchanged.length).toBeGreaterThan(100);
    for (const p of unchanged) expect(db.isCached(p), `unchanged page ${p}`).toBe(true);
    expect(db.stats.invalidated).toBe((r.changed as number[]).filter((p) => cachedBefore.includes(p)).length);

    const requests = db.stats.requests;
    const rng = prng(SEED ^ 0x1ee7);
    for (let i = 0; i < 20; i++) {
      const p = unchanged[rng.int(unchanged.length)];
      expect(Buffer.compare(await db.readPage(p), states.page(4, p)), `page ${p}`).toBe(0);
    }
    expect(db.stats.requests).toBe(requests); // all from the cache

    // The scan again: only the changed pages (and new ones) come over the wire.
    const fetchedBefore = db.stats.pagesFetched;
    expect((await db.query(scan)).rows).toEqual(states.answer(4, scan));
    expect(db.stats.pagesFetched - fetchedBefore).toBeLessThanOrEqual(states.changedPages(4).length);

    // Nothing new: refresh changes nothing.
    expect(await db.refresh()).toEqual({ previous: 4n, txid: 4n, changed: [] });
    db.close();
  });

  it('follow() refreshes until close()', async () => {
    const db = await open('live');
    const start = db.txid;
    await states.push(server, 'live', Number(start) + 1, Date.now());
    const moved = await new Promise<bigint>((resolve, reject) => {
      db.follow({ intervalMs: 5, onChange: (r) => resolve(r.txid), onError: reject });
    });
    expect(moved).toBe(start + 1n);
    expect(db.txid).toBe(start + 1n);
    const q = QUERIES[5];
    expect((await db.query(q.sql)).rows).toEqual(states.answer(Number(start) + 1, q.sql));
    db.close();
    await expect(db.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('follow() on the commit stream', () => {
  /** Follows `db` and resolves each TXID's promise when the view gets there. */
  function follower(db: RemoteDatabase, opts: { watch?: boolean; intervalMs: number }) {
    const reached = new Map<bigint, () => void>();
    const errors: unknown[] = [];
    const f = db.follow({ ...opts, onChange: (r) => reached.get(r.txid)?.(), onError: (e) => errors.push(e) });
    const reach = (txid: bigint) => new Promise<void>((resolve) => (db.txid >= txid ? resolve() : reached.set(txid, resolve)));
    return { f, reach, errors };
  }

  it('moves on every commit the server announces, never polling, with the listed pages dropped', async () => {
    await states.push(server, 'watched', 1, T0);
    const db = await open('watched');
    // A poll would come after a minute: every move below is the stream's.
    const { f, reach, errors } = follower(db, { intervalMs: 60_000 });
    const before = sent.length;
    for (let n = 2; n <= TXS; n++) {
      await states.push(server, 'watched', n, T0 + n * 60_000);
      await reach(BigInt(n));
      for (const q of QUERIES.slice(0, 3))
        expect((await db.query(q.sql, q.params)).rows, `TXID ${n}`).toEqual(states.answer(n, q.sql, q.params));
    }
    const calls = sent.slice(before);
    // One refresh and one stream at the start; after that, only page reads.
    expect(calls.filter((p) => p.endsWith('/watch'))).toEqual(['/v1/databases/watched/watch']);
    expect(calls.filter((p) => p === '/v1/databases/watched' || p.endsWith('/changes'))).toEqual(['/v1/databases/watched']);
    expect(errors).toEqual([]);
    f.stop();
    db.close();
  });

  it('polls every intervalMs with watch: false, or when the server has no stream', async () => {
    await states.push(server, 'polled', 1, T0);
    // A server from before GET …/watch: the route answers 404 "no route".
    const noStream: typeof fetch = (input, init) =>
      String(input instanceof Request ? input.url : input).endsWith('/watch')
        ? Promise.resolve(Response.json({ error: { code: 'NOT_FOUND', message: 'no route for GET /watch' } }, { status: 404 }))
        : countingFetch(input, init);
    for (const [label, fetchFn, watch] of [
      ['watch: false', countingFetch, false],
      ['no stream', noStream, true],
    ] as const) {
      const db = await open('polled', { http: { fetch: fetchFn, retries: 0 } });
      const { f, reach, errors } = follower(db, { watch, intervalMs: 5 });
      const next = db.txid + 1n;
      await states.push(server, 'polled', Number(next), T0 + Number(next) * 60_000);
      await reach(next);
      expect(db.txid, label).toBe(next);
      expect(errors, label).toEqual([]);
      f.stop();
      db.close();
    }
  });
});

describe('a refresh during a statement', () => {
  it('the statement answers at its own TXID and nothing it fetched lands in the cache, which now holds the new TXID', async () => {
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const gated: typeof fetch = async (input, init) => {
      if (first && String(input instanceof Request ? input.url : input).includes('/pages?')) {
        first = false;
        held();
        await released;
      }
      return fetch(input, init);
    };
    const db = await open('live', { http: { fetch: gated, retries: 0 } });
    const old = Number(db.txid);
    expect(old + 1).toBeLessThanOrEqual(TXS);
    const q = QUERIES[0].sql;
    const running = db.query(q);
    await isHeld; // its first page batch is on hold
    await states.push(server, 'live', old + 1, Date.now());
    expect((await db.refresh()).txid).toBe(BigInt(old + 1));
    release();
    const r = await running;
    expect(r.txid).toBe(BigInt(old));
    expect(r.rows).toEqual(states.answer(old, q));
    expect(db.cacheStats.entries).toBe(0);
    const now = await db.query(q);
    expect(now.txid).toBe(BigInt(old + 1));
    expect(now.rows).toEqual(states.answer(old + 1, q));
    const requests = db.stats.requests;
    for (let p = 1; p <= db.commit; p++) {
      if (db.isCached(p)) expect(Buffer.compare(await db.readPage(p), states.page(old + 1, p)), `page ${p}`).toBe(0);
    }
    expect(db.stats.requests).toBe(requests);
  });
});

describe('time travel', () => {
  it('opens at a TXID, at a time (Date, RFC3339, relative) and makes pinned views with at()', async () => {
    const q = QUERIES[0].sql;
    const byTime = await open('shop', { at: new Date(T0 + 3 * 60_000 + 30_000) });
    expect(byTime.txid).toBe(3n);
    expect(byTime.commit).toBe(states.pagesOf(3));
    expect((await byTime.query(q)).rows).toEqual(states.answer(3, q));

    const head = await open('shop');
    const v2 = await head.at(2);
    expect([v2.txid, v2.pinned, v2.commit]).toEqual([2n, true, states.pagesOf(2)]);
    expect((await v2.query(q)).rows).toEqual(states.answer(2, q));
    const v4 = await head.at('2024-01-01T00:04:10Z');
    expect(v4.txid).toBe(4n);
    expect((await v4.query(QUERIES[5].sql)).rows).toEqual(states.answer(4, QUERIES[5].sql));
    const hex = await head.at('0000000000000001');
    expect(hex.txid).toBe(1n);
    const relative = await head.at('1 minute ago'); // every push is stamped in 2024
    expect(relative.txid).toBe(BigInt(TXS));
    expect(head.txid).toBe(BigInt(TXS)); // the view itself did not move

    await expect(v2.refresh()).rejects.toMatchObject({ code: 'PINNED' });
    await expect(v2.transaction(async () => undefined)).rejects.toMatchObject({ code: 'PINNED' });
  });
});

describe('bad input', () => {
  it('unknown database → ApiClientError NOT_FOUND (404)', async () => {
    const e = await open('no-such-db').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiClientError);
    expect(e).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('malformed points → ClientError BAD_REQUEST before any request; points the server refuses → its codes', async () => {
    const before = sent.length;
    for (const more of [
      { txid: -1 },
      { txid: -5n },
      { txid: 0 },
      { txid: 1n << 64n },
      { txid: 1.5 },
      { txid: 'xyz' },
      { at: '' },
      { at: new Date(NaN) },
      { txid: 1, at: 'now' },
    ]) {
      const e = await open('shop', more as Partial<RemoteDatabaseOptions>).catch((err: unknown) => err);
      expect(
        e,
        JSON.stringify(more, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ).toBeInstanceOf(ClientError);
      expect((e as ClientError).code).toBe('BAD_REQUEST');
    }
    expect(sent.length).toBe(before);
    await expect(open('shop', { txid: 1000 })).rejects.toMatchObject({ status: 409, code: 'NOT_YET_AVAILABLE' });
    await expect(open('shop', { at: 'in 5 minutes' })).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await expect(open('shop', { at: '2020-01-01T00:00:00Z' })).rejects.toMatchObject({ status: 410, code: 'TXID_NOT_AVAILABLE' });
    const db = await open('shop');
    await expect(db.readPage(0)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(db.readPage(db.commit + 1)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(db.at(-3)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('a wrong token → ApiClientError 401', async () => {
    await expect(open('shop', { token: 'nope' })).rejects.toMatchObject({ status: 401 });
  });
});
