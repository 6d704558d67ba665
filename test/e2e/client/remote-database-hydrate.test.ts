// RemoteDatabase hydration against the real local platform: a background download under queries and a follower, local reads after, the file kept equal to the server's snapshot, restarts, resumes, starting over.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HydrationProgress } from '../../../src/client/hydration-options.ts';
import { RemoteDatabase } from '../../../src/client/remote-database.ts';
import type { RemoteDatabaseOptions } from '../../../src/client/remote-database-options.ts';
import { formatTXID } from '../../../src/ltx/index.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { SqliteStates, word } from '../../helpers/sqlite-states.ts';

const SEED = Number(process.env.LTX_CLIENT_SEED ?? 17_017);
const ROWS = 12_000;
const TXS = 6;

let server: DevServer;
let states: SqliteStates;
let dir: string;

/** Page batch requests (`GET …/pages`) each client sent, by label. */
const pageRequests = new Map<string, number>();
/** Requests that must wait: each gate holds those it matches until it opens. */
const gates: Gate[] = [];

interface Gate {
  holds(url: URL): boolean;
  isOpen: Promise<void>;
  open(): void;
}

function gate(holds: (url: URL) => boolean): Gate {
  let open!: () => void;
  const isOpen = new Promise<void>((resolve) => (open = resolve));
  const g = { holds, isOpen, open };
  gates.push(g);
  return g;
}

function clientFetch(label: string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname.endsWith('/pages')) pageRequests.set(label, (pageRequests.get(label) ?? 0) + 1);
    for (const g of gates) if (g.holds(url)) await g.isOpen;
    return fetch(input, init);
  };
}

/** Databases a test opened, closed after it (so a failure does not leave a path claimed for the next). */
const opened: RemoteDatabase[] = [];

async function open(db: string, label: string, more: Partial<RemoteDatabaseOptions> = {}): Promise<RemoteDatabase> {
  const d = await RemoteDatabase.open({ url: server.url, token: DEV_TOKEN, db, http: { fetch: clientFetch(label), retries: 0 }, ...more });
  opened.push(d);
  return d;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function snapshotHash(db: string, txid: bigint): Promise<string> {
  const res = await devFetch(server, `/v1/databases/${db}/snapshot?format=sqlite&txid=${formatTXID(txid)}`);
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

/** The hydrated file equals the server's database file at `txid`, byte for byte. */
async function expectFileAt(file: string, db: string, txid: bigint): Promise<void> {
  expect(sha256(readFileSync(file)), `${file} at TXID ${txid}`).toBe(await snapshotHash(db, txid));
}

/** A follower whose changes can be awaited. */
function follow(db: RemoteDatabase): { stop(): void; reach(txid: bigint): Promise<void> } {
  const waiting: { txid: bigint; resolve: () => void }[] = [];
  const f = db.follow({
    intervalMs: 20,
    onChange: (r) => {
      for (const w of waiting.filter((w) => r.txid >= w.txid)) w.resolve();
    },
  });
  return {
    stop: () => f.stop(),
    reach: (txid) => (db.txid >= txid ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ txid, resolve }))),
  };
}

const QUERIES: { sql: string; params?: (number | string)[] }[] = [
  { sql: 'SELECT count(*), sum(qty), sum(length(note)) FROM items' },
  { sql: 'SELECT id, name, qty, note FROM items WHERE id = ?', params: [7] },
  { sql: 'SELECT name, count(*) FROM items GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5' },
  { sql: 'SELECT id, qty FROM items WHERE name >= ? ORDER BY name, id LIMIT 10', params: ['m'] },
];

/** node:sqlite's answers at state n, computed once. */
const answers = new Map<string, unknown[][]>();
function answer(n: number, i: number): unknown[][] {
  const key = `${n}/${i}`;
  if (!answers.has(key)) answers.set(key, states.answer(n, QUERIES[i].sql, QUERIES[i].params));
  return answers.get(key)!;
}

beforeAll(async () => {
  console.log(`client hydrate tests: seed ${SEED} (repeat with LTX_CLIENT_SEED=${SEED})`);
  const rng = prng(SEED);
  states = new SqliteStates(4096);
  states.commit((db) => {
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT); CREATE INDEX items_by_name ON items (name);');
    const insert = db.prepare('INSERT INTO items (id, name, qty, note) VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= ROWS; i++) insert.run(i, word(rng, 1, 3), rng.int(1000), word(rng, 60, 120));
  });
  for (let n = 2; n <= TXS; n++) {
    states.commit((db) => {
      db.prepare('UPDATE items SET qty = qty + 1, note = ? WHERE id % 97 = ?').run(word(rng, 60, 120), rng.int(97));
      const insert = db.prepare('INSERT INTO items (name, qty, note) VALUES (?, ?, ?)');
      for (let i = 0; i < 30; i++) insert.run(word(rng, 1, 3), rng.int(1000), word(rng, 60, 120));
    });
  }
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-hydrate-'));
  // L0 files go as soon as L1 covers them (and the read grace has passed): retention can then take a TXID away.
  server = await startDevServer({ vars: { LTX_EDGE_L0_RETENTION: '0', LTX_EDGE_READ_GRACE: '1s' } });
  for (let n = 1; n <= 3; n++) await states.push(server, 'shop', n, Date.now());
  // `gone` is hydrated at TXID 3, then moves on to 6 and is compacted into L1 [1, 6]: retention can
  // take TXID 3 away once that L1 file has had its read grace (1 s here) — the last test waits for it.
  for (let n = 1; n <= 3; n++) await states.push(server, 'gone', n, Date.now());
  const gone = await open('gone', 'gone', { hydrate: { path: path.join(dir, 'gone.db') } });
  expect(await gone.whenHydrated()).toMatchObject({ state: 'hydrated', txid: 3n });
  await gone.close();
  opened.length = 0;
  for (let n = 4; n <= TXS; n++) await states.push(server, 'gone', n, Date.now());
  expect((await devFetch(server, '/v1/databases/gone/compact?level=1', { method: 'POST' })).status).toBe(200);
}, 120_000);

afterEach(async () => {
  gates.length = 0;
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

afterAll(async () => {
  await server?.stop();
  states?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hydration', () => {
  const shopFile = (): string => path.join(dir, 'shop.db');

  it('downloads in the background under queries and a follower, then reads locally and keeps the file equal to the server', async () => {
    // The script: after the download's first round, another client pushes TXID 4 and page reads at
    // TXID 3 wait until the follower has moved the view to 4; then the download goes on, and its
    // catching up from 3 to 4 (GET …/changes?since=3 once the view is at 4) waits until queries
    // have run at TXID 4 twice. So queries run at both TXIDs while the file is being made.
    let db: RemoteDatabase | undefined;
    let atThree: Gate | undefined;
    const catchUp = gate((url) => url.pathname.endsWith('/changes') && url.searchParams.get('since') === formatTXID(3n) && db?.txid === 4n);
    const seen: HydrationProgress[] = [];
    db = await open('shop', 'hydrated', {
      hydrate: {
        path: shopFile(),
        batchPages: 32,
        onProgress: (p) => {
          seen.push(p);
          if (atThree === undefined && p.state === 'hydrating' && p.pages > 0) {
            atThree = gate((url) => url.pathname.endsWith('/pages') && url.searchParams.get('txid') === formatTXID(3n));
            void states.push(server, 'shop', 4, Date.now());
          }
        },
      },
    });
    expect(db.txid).toBe(3n);
    expect(db.hydrated).toBe(false);
    const follower = follow(db);
    void follower.reach(4n).then(() => atThree?.open());

    const answered = new Map<bigint, number>();
    while (!db.hydrated && db.hydration?.state === 'hydrating') {
      for (let i = 0; i < QUERIES.length; i++) {
        const got = await db.query(QUERIES[i].sql, QUERIES[i].params);
        expect(got.rows, `during hydration at TXID ${got.txid}: ${QUERIES[i].sql}`).toEqual(answer(Number(got.txid), i));
        answered.set(got.txid, (answered.get(got.txid) ?? 0) + 1);
      }
      if ((answered.get(4n) ?? 0) >= 2 * QUERIES.length) catchUp.open();
      // Queries over cached pages settle in microtasks only: let the network and timers run between passes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const done = await db.whenHydrated();
    gates.length = 0;
    console.log(
      `queries answered during hydration, by TXID: ${JSON.stringify(Object.fromEntries([...answered].map(([t, n]) => [String(t), n])))}`,
    );
    expect(answered.get(3n)).toBeGreaterThan(0);
    expect(answered.get(4n)).toBeGreaterThanOrEqual(2 * QUERIES.length);
    expect(done).toMatchObject({ state: 'hydrated', start: 'new', txid: 4n, restarts: 0 });
    // The download at TXID 3, then the pages TXID 4 changed.
    const first = seen.find((p) => p.total > 0)!;
    expect(first.txid).toBe(3n);
    expect(done.fetched).toBeGreaterThan(first.total);
    expect(done.fetched).toBeLessThan(first.total + states.changedPages(4).length + 1);
    expect(seen.filter((p) => p.state === 'hydrating').map((p) => p.pages)).toEqual(
      [...seen.filter((p) => p.state === 'hydrating').map((p) => p.pages)].sort((a, b) => a - b),
    );
    console.log(`hydrated ${done.total} pages in ${done.requests} requests`);
    await expectFileAt(shopFile(), 'shop', 4n);

    // Local now: the same answers, no page request.
    const before = pageRequests.get('hydrated');
    for (let i = 0; i < QUERIES.length; i++) expect((await db.query(QUERIES[i].sql, QUERIES[i].params)).rows).toEqual(answer(4, i));
    expect(pageRequests.get('hydrated')).toBe(before);

    // Another client pushes an LTX file; another writes with a transaction; this view writes too.
    await states.push(server, 'shop', 5, Date.now());
    await follower.reach(5n);
    expect(db.hydrated).toBe(true);
    await expectFileAt(shopFile(), 'shop', 5n);
    const writer = await open('shop', 'writer');
    const w = await writer.transaction(async (tx) => {
      await tx.query('UPDATE items SET qty = qty + 1000 WHERE id < 40');
    });
    await follower.reach(w.txid);
    await expectFileAt(shopFile(), 'shop', w.txid);
    follower.stop();
    const own = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO items (name, qty, note) VALUES ('local', 1, 'written by the hydrated view')");
    });
    expect(db.hydration?.txid).toBe(own.txid);
    await expectFileAt(shopFile(), 'shop', own.txid);
    const sql = "SELECT count(*), sum(qty) FROM items WHERE name = 'local' OR id < 40";
    const requestsBefore = pageRequests.get('hydrated');
    const localBefore = db.stats.localReads;
    const mine = await db.query(sql);
    // The pages the writes changed left the LRU: they come from the file now.
    expect(pageRequests.get('hydrated')).toBe(requestsBefore);
    expect(db.stats.localReads).toBeGreaterThan(localBefore);
    // Any SQLite reads the file.
    expect(mine.rows).toEqual(readWithNodeSqlite(shopFile(), sql));
    await writer.refresh();
    expect((await writer.query(sql)).rows).toEqual(mine.rows);
    await writer.close();
    await db.close();
    expect(db.hydration?.state).toBe('closed');
  });

  it('reuses the file after a restart: nothing fetched when nothing changed, only the changed pages after writes', async () => {
    const again = await open('shop', 'reopen', { hydrate: { path: shopFile() } });
    const same = await again.whenHydrated();
    expect(same).toMatchObject({ state: 'hydrated', start: 'reused', fetched: 0, restarts: 0, txid: again.txid });
    const scan = await again.query(QUERIES[0].sql);
    expect(scan.rows).toEqual(readWithNodeSqlite(shopFile(), QUERIES[0].sql));
    // Every page the statement read came from the file.
    expect(pageRequests.get('reopen') ?? 0).toBe(0);
    expect(scan.stats.pagesRead).toBeGreaterThan(300);
    expect(again.stats.localReads).toBe(scan.stats.pagesRead);
    await again.close();

    const writer = await open('shop', 'writer');
    for (let k = 0; k < 2; k++) {
      await writer.transaction(async (tx) => {
        await tx.query('UPDATE items SET note = ? WHERE id BETWEEN ? AND ?', [`restart ${k}`, 100 * k + 1, 100 * k + 50]);
      });
    }
    await writer.close();
    const later = await open('shop', 'later', { hydrate: { path: shopFile() } });
    expect(later.txid).toBe(writer.txid);
    const caught = await later.whenHydrated();
    console.log(`restart after 2 writes: ${caught.fetched} of ${caught.total} pages fetched`);
    expect(caught).toMatchObject({ state: 'hydrated', start: 'reused', txid: later.txid, restarts: 0 });
    expect(caught.fetched).toBeGreaterThan(0);
    expect(caught.fetched).toBeLessThan(caught.total / 4);
    await expectFileAt(shopFile(), 'shop', later.txid);
    await later.close();
  });

  it('resumes an interrupted download where it stopped', async () => {
    const file = path.join(dir, 'resume.db');
    let firstRound!: () => void;
    const roundDone = new Promise<void>((resolve) => (firstRound = resolve));
    const db = await open('shop', 'interrupted', {
      hydrate: { path: file, batchPages: 16, onProgress: (p) => p.pages > 0 && firstRound() },
    });
    await roundDone;
    await db.close();
    await expect(db.whenHydrated()).rejects.toMatchObject({ code: 'CLOSED' });
    const record = JSON.parse(readFileSync(`${file}-ltx-edge.json`, 'utf8'));
    const kept: number = record.download.pages;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(db.commit);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}-ltx-edge.partial`)).toBe(true);

    const resumed = await open('shop', 'resumed', { hydrate: { path: file, batchPages: 16 } });
    const done = await resumed.whenHydrated();
    console.log(`resume: ${kept} pages kept, ${done.fetched} of ${done.total} fetched`);
    expect(done).toMatchObject({ state: 'hydrated', start: 'resumed', restarts: 0 });
    expect(done.fetched).toBe(done.total - kept);
    await expectFileAt(file, 'shop', resumed.txid);
    await resumed.close();
  });

  it('starts over when the file does not match its record (a torn write)', async () => {
    const file = path.join(dir, 'torn.db');
    const db = await open('shop', 'torn', { hydrate: { path: file } });
    await db.whenHydrated();
    await db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, new Uint8Array(64).fill(0xee), 0, 64, 4096 + 100);
    closeSync(fd);
    const again = await open('shop', 'torn-again', { hydrate: { path: file } });
    const done = await again.whenHydrated();
    expect(done).toMatchObject({ state: 'hydrated', start: 'new', restarts: 1, fetched: done.total });
    await expectFileAt(file, 'shop', again.txid);
    await again.close();
  });

  it('surfaces a server refusal through whenHydrated and keeps reading remotely', async () => {
    const file = path.join(dir, 'refused.db');
    let refuse = true;
    const refusing: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      if (refuse && url.pathname.endsWith('/pages')) {
        return Response.json({ error: { code: 'FORBIDDEN', message: 'not for you' } }, { status: 403 });
      }
      return fetch(input, init);
    };
    const db = await RemoteDatabase.open({
      url: server.url,
      token: DEV_TOKEN,
      db: 'shop',
      http: { fetch: refusing, retries: 0 },
      hydrate: { path: file },
    });
    await expect(db.whenHydrated()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(db.hydrated).toBe(false);
    expect(db.hydration?.state).toBe('failed');
    refuse = false;
    const got = await db.query(QUERIES[1].sql, QUERIES[1].params);
    expect(got.stats.pagesFetched).toBeGreaterThan(0);
    expect(got.rows).toEqual(readWithNodeSqlite(shopFile(), QUERIES[1].sql, QUERIES[1].params));
    await db.close();
  });

  it('hydrates a database this view creates, from its first transaction on', async () => {
    const file = path.join(dir, 'fresh.db');
    const db = await open('fresh', 'fresh', { create: true, hydrate: { path: file } });
    expect(await db.whenHydrated()).toMatchObject({ state: 'hydrated', start: 'new', txid: 0n, total: 0 });
    for (let k = 1; k <= 2; k++) {
      await db.transaction(async (tx) => {
        if (k === 1) await tx.query('CREATE TABLE t (x INTEGER, note TEXT)');
        for (let i = 0; i < 200; i++) await tx.query('INSERT INTO t VALUES (?, ?)', [k * 1000 + i, word(prng(SEED + k), 100, 200)]);
      });
      expect(db.hydrated).toBe(true);
      await expectFileAt(file, 'fresh', db.txid);
    }
    expect(db.hydration).toMatchObject({ txid: 2n, fetched: 0 });
    expect(readWithNodeSqlite(file, 'SELECT count(*), sum(x) FROM t')).toEqual([[400, 200 * 1000 + 200 * 2000 + 2 * 19900]]);
  });

  it('starts over when retention took its TXID away, and ends equal to the server', { timeout: 180_000 }, async () => {
    const file = path.join(dir, 'gone.db');
    const held = JSON.parse(readFileSync(`${file}-ltx-edge.json`, 'utf8'));
    expect(held.file.pos.txid).toBe(formatTXID(3n));
    // Retention (admin, on demand) until the server no longer knows TXID 3's position.
    const deadline = Date.now() + 150_000;
    for (;;) {
      expect((await devFetch(server, '/v1/databases/gone/retention', { method: 'POST' })).status).toBe(200);
      const res = await devFetch(server, `/v1/databases/gone/changes?since=0&txid=${formatTXID(3n)}`);
      await res.body?.cancel();
      if (res.status === 410) break;
      expect(res.status).toBe(200);
      expect(Date.now(), 'retention did not take TXID 3 away in time').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 250)); // polling the server's state, not timing the client
    }
    const again = await open('gone', 'gone-again', { hydrate: { path: file } });
    expect(again.txid).toBe(BigInt(TXS));
    const done = await again.whenHydrated();
    expect(done).toMatchObject({ state: 'hydrated', start: 'new', restarts: 1, txid: BigInt(TXS), fetched: states.pagesOf(TXS) });
    await expectFileAt(file, 'gone', BigInt(TXS));
    for (let i = 0; i < QUERIES.length; i++) expect((await again.query(QUERIES[i].sql, QUERIES[i].params)).rows).toEqual(answer(TXS, i));
  });
});

/** node:sqlite's rows for `sql` over `file`, opened read-only and immutable (no locks, nothing written beside it). */
function readWithNodeSqlite(file: string, sql: string, params: (number | string)[] = []): unknown[][] {
  const url = pathToFileURL(file);
  url.searchParams.set('immutable', '1');
  const db = new DatabaseSync(url, { readOnly: true });
  try {
    return (db.prepare(sql).all(...params) as Record<string, unknown>[]).map((r) => Object.values(r));
  } finally {
    db.close();
  }
}
