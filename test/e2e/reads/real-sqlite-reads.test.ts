// End to end: a real SQLite workload pushed TXID by TXID (LTX and page-set writes), then every read checked against the saved files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../../../src/ltx/index.ts';
import { decodePageBatch, encodePageBatch } from '../../../src/replication/page-batch.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { type Prng, prng } from '../../helpers/prng.ts';
import { runCLIAsyncJSON } from '../../helpers/run-cli.ts';

const SQLITE3 = process.env.SQLITE3 ?? 'sqlite3';
const SEED = Number(process.env.LTX_E2E_SEED ?? Date.now() % 0x7fffffff);
const PAGE_SIZE = 4096;
/** Transactions in the workload; odd, so the last one is an LTX push (its timestamp is ours). */
const TXS = 61;
/** LTX pushes (odd TXIDs) are stamped T0 + TXID minutes; page-set writes get the server's clock. */
const T0 = Date.parse('2024-01-01T00:00:00.000Z');
const DB = 'workload';

interface Pos {
  txid: string;
  postApplyChecksum: string;
}

let server: DevServer;
let dir = '';
/** states[n] = the database file right after TXID n (states[0] unused). */
const states: Uint8Array[] = [];
const hex = (n: number): string => n.toString(16).padStart(16, '0');
const pagesOf = (bytes: Uint8Array): number => bytes.length / PAGE_SIZE;
const page = (bytes: Uint8Array, pgno: number): Uint8Array => bytes.subarray((pgno - 1) * PAGE_SIZE, pgno * PAGE_SIZE);

/** Pages of `next` (within its size) that are new or differ from `prev`. */
function changedPages(prev: Uint8Array, next: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 1; p <= pagesOf(next); p++) {
    if (p > pagesOf(prev) || Buffer.compare(page(prev, p), page(next, p)) !== 0) out.push(p);
  }
  return out;
}

function text(rng: Prng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

/** Operations the workload ran, by kind (the test insists on each). */
const opCounts = { insert: 0, update: 0, delete: 0, overflowBlob: 0, blobUpdate: 0 };

/**
 * Transaction `n` of the workload (n ≥ 2): random inserts, updates, deletes and overflow blobs, with
 * a CREATE INDEX, an ALTER TABLE, a mass delete and a VACUUM that shrinks the file at fixed places.
 */
function transaction(db: DatabaseSync, rng: Prng, n: number): void {
  // Two shrinking VACUUMs: TXID 40 goes up as a page-set write, 55 as an LTX file.
  if (n === 40 || n === 55) {
    db.exec('VACUUM');
    return;
  }
  const changes = (): number => (db.prepare('SELECT total_changes() AS c').get() as { c: number }).c;
  const before = changes();
  db.exec('BEGIN');
  if (n === 15) db.exec('CREATE INDEX items_by_name ON items (name)');
  if (n === 25) db.exec("ALTER TABLE items ADD COLUMN tag TEXT DEFAULT 'none'");
  if (n === 39 || n === 54) db.exec('DELETE FROM items WHERE id % 4 != 0; DELETE FROM blobs WHERE id % 2 = 0');
  const ops = 1 + rng.int(3);
  for (let i = 0; i < ops; i++) {
    const op = rng.int(6);
    const maxId = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM items').get() as { m: number }).m;
    if (op <= 1) {
      const insert = db.prepare('INSERT INTO items (name, qty, note) VALUES (?, ?, ?)');
      for (let k = 0, rows = 1 + rng.int(40); k < rows; k++) insert.run(text(rng, 3, 12), rng.int(1000), text(rng, 10, 300));
      opCounts.insert++;
    } else if (op === 2) {
      db.prepare('UPDATE items SET qty = qty + ?, note = ? WHERE id % ? = ?').run(
        1 + rng.int(9),
        text(rng, 0, 200),
        5 + rng.int(10),
        rng.int(5),
      );
      opCounts.update++;
    } else if (op === 3) {
      const from = rng.int(maxId + 1);
      db.prepare('DELETE FROM items WHERE id BETWEEN ? AND ?').run(from, from + rng.int(20));
      opCounts.delete++;
    } else if (op === 4) {
      // Larger than a page: overflow pages.
      db.prepare('INSERT INTO blobs (data) VALUES (?)').run(rng.bytes(PAGE_SIZE + 1 + rng.int(4 * PAGE_SIZE)));
      opCounts.overflowBlob++;
    } else {
      db.prepare('UPDATE blobs SET data = ? WHERE id = (SELECT id FROM blobs ORDER BY id LIMIT 1 OFFSET ?)').run(
        rng.bytes(100 + rng.int(3 * PAGE_SIZE)),
        rng.int(5),
      );
      opCounts.blobUpdate++;
    }
  }
  // SQLite writes nothing for a transaction that changed no row (a delete or update that matched
  // none), and there is no TXID without pages: make sure each one writes.
  if (changes() === before)
    db.prepare('INSERT INTO items (name, qty, note) VALUES (?, ?, ?)').run(text(rng, 3, 12), n, 'a row so that TXID ' + n + ' writes');
  db.exec('COMMIT');
}

async function post(p: string, body: Uint8Array): Promise<{ status: number; json: { pos?: Pos; error?: { code: string } } }> {
  const res = await devFetch(server, p, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  return { status: res.status, json: (await res.json()) as { pos?: Pos; error?: { code: string } } };
}

/** TXID n as an LTX file of the pages that changed (a snapshot for n = 1), NoChecksum like Litestream. */
function ltxFor(n: number, timestamp: number): Uint8Array {
  const next = states[n];
  const pgnos = n === 1 ? Array.from({ length: pagesOf(next) }, (_, i) => i + 1) : changedPages(states[n - 1], next);
  const header = makeHeader({
    flags: HEADER_FLAG_NO_CHECKSUM,
    pageSize: PAGE_SIZE,
    commit: pagesOf(next),
    minTXID: BigInt(n),
    maxTXID: BigInt(n),
    timestamp,
  });
  return encodeLTX(
    header,
    pgnos.map((pgno) => ({ pgno, data: page(next, pgno) })),
  );
}

/** Pushes TXID n of `states`: odd n as an LTX file, even n as a page-set write on top of n − 1. */
async function pushState(
  db: string,
  n: number,
  timestamp: number,
): Promise<{ status: number; json: { pos?: Pos; error?: { code: string } } }> {
  if (n % 2 === 1) return post(`/v1/databases/${db}/ltx`, ltxFor(n, timestamp));
  const pages = changedPages(states[n - 1], states[n]).map((pgno) => ({ pgno, data: page(states[n], pgno) }));
  return post(`/v1/databases/${db}/tx?base=${hex(n - 1)}&commit=${pagesOf(states[n])}`, encodePageBatch(pages));
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const TXIDS = Array.from({ length: TXS }, (_, i) => i + 1);
let lastPushedAt = 0;

beforeAll(async () => {
  console.log(`real-sqlite-reads: seed ${SEED} (repeat with LTX_E2E_SEED=${SEED})`);
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-real-sqlite-'));
  const rng = prng(SEED);
  const file = path.join(dir, 'workload.db');
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = DELETE;`);
    db.exec(
      'BEGIN; CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT); CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);',
    );
    const insert = db.prepare('INSERT INTO items (name, qty, note) VALUES (?, ?, ?)');
    for (let k = 0; k < 200; k++) insert.run(text(rng, 3, 12), rng.int(1000), text(rng, 10, 200));
    db.exec('COMMIT');
    states[1] = new Uint8Array(readFileSync(file));
    for (let n = 2; n <= TXS; n++) {
      transaction(db, rng, n);
      states[n] = new Uint8Array(readFileSync(file));
    }
  } finally {
    db.close();
  }
  for (const n of TXIDS) {
    const timestamp = n === TXS ? Date.now() : T0 + n * 60_000;
    const r = await pushState(DB, n, timestamp);
    expect(r.status, `push of TXID ${n}: ${JSON.stringify(r.json)}\n${server.log().slice(-3000)}`).toBe(201);
    expect(r.json.pos?.txid).toBe(hex(n));
    if (n === TXS) lastPushedAt = timestamp;
  }
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a real SQLite workload, pushed TXID by TXID', () => {
  it('covers what it should: overflow pages, a schema change, a VACUUM that shrinks the file', () => {
    expect(states.length - 1).toBeGreaterThanOrEqual(60);
    for (const [op, count] of Object.entries(opCounts)) expect(count, op).toBeGreaterThan(0);
    expect(pagesOf(states[40])).toBeLessThan(pagesOf(states[39]));
    expect(pagesOf(states[55])).toBeLessThan(pagesOf(states[54]));
    const sizes = TXIDS.map((n) => pagesOf(states[n]));
    console.log(
      `real-sqlite-reads: ${TXS} TXIDs, ${Math.min(...sizes)}..${Math.max(...sizes)} pages, operations ${JSON.stringify(opCounts)}`,
    );
  });

  it('restore --txid gives the saved file, byte for byte, at every TXID, and sqlite3 finds it ok', async () => {
    await pool(TXIDS, 3, async (n) => {
      const out = path.join(dir, `restored-${n}.db`);
      const r = await runCLIAsyncJSON<{ out: string; txid: string; size: number; pageSize: number; commit: number }>([
        'restore',
        server.url,
        DB,
        '-o',
        out,
        '--txid',
        hex(n),
        '--json',
        '--token',
        DEV_TOKEN,
      ]);
      expect(r.status, `TXID ${n}: ${r.stderr}`).toBe(0);
      expect(r.json).toMatchObject({ out, txid: hex(n), size: states[n].length, pageSize: PAGE_SIZE, commit: pagesOf(states[n]) });
      expect(Buffer.compare(readFileSync(out), states[n]), `TXID ${n} differs`).toBe(0);
      const check = spawnSync(SQLITE3, [out, 'PRAGMA integrity_check'], { encoding: 'utf8' });
      expect(check.stdout.trim(), `TXID ${n}: ${check.stderr}`).toBe('ok');
      rmSync(out);
    });
  }, 60_000);

  it('GET pages at a TXID equals the saved pages, for a random sample at every TXID', async () => {
    const rng = prng(SEED ^ 0x5eed);
    await pool(TXIDS, 4, async (n) => {
      const commit = pagesOf(states[n]);
      const sample = [...new Set(Array.from({ length: 8 }, () => 1 + rng.int(commit)))].sort((a, b) => a - b);
      // Pages beyond commit are left out of the answer.
      const res = await devFetch(server, `/v1/databases/${DB}/pages?pgno=${[...sample, commit + 1, commit + 7].join(',')}&txid=${hex(n)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('ltx-txid')).toBe(hex(n));
      const batch = decodePageBatch(new Uint8Array(await res.arrayBuffer()), PAGE_SIZE);
      if (!batch.ok) throw new Error(batch.message);
      expect(batch.pages.map((p) => p.pgno)).toEqual(sample);
      for (const p of batch.pages) expect(Buffer.compare(p.data, page(states[n], p.pgno)), `TXID ${n} page ${p.pgno}`).toBe(0);

      const one = sample[rng.int(sample.length)];
      const single = await devFetch(server, `/v1/databases/${DB}/pages/${one}?txid=${hex(n)}`);
      expect(single.status).toBe(200);
      expect(single.headers.get('ltx-txid')).toBe(hex(n));
      expect(Buffer.compare(new Uint8Array(await single.arrayBuffer()), page(states[n], one))).toBe(0);
      const beyond = await devFetch(server, `/v1/databases/${DB}/pages/${commit + 1}?txid=${hex(n)}`);
      expect(beyond.status).toBe(404);
      await beyond.body?.cancel();
    });
  });

  it('changes?since=n-1&txid=n lists exactly the pages that differ (all: true only where the file shrank)', async () => {
    const changes = async (q: string) => {
      const res = await devFetch(server, `/v1/databases/${DB}/changes?${q}`);
      expect(res.status, q).toBe(200);
      return (await res.json()) as { pos: Pos; pgnos: number[]; all: boolean };
    };
    await pool(TXIDS.slice(1), 4, async (n) => {
      const c = await changes(`since=${hex(n - 1)}&txid=${hex(n)}`);
      expect(c.pos.txid).toBe(hex(n));
      const shrank = pagesOf(states[n]) < pagesOf(states[n - 1]);
      expect(c.all, `TXID ${n}`).toBe(shrank);
      if (!c.all) expect(c.pgnos, `TXID ${n}`).toEqual(changedPages(states[n - 1], states[n]));
    });
    // A longer range without a shrink: the union; at the head (no txid) from the page table.
    const union = new Set<number>();
    for (let n = 42; n <= 50; n++) for (const p of changedPages(states[n - 1], states[n])) union.add(p);
    expect((await changes(`since=${hex(41)}&txid=${hex(50)}`)).pgnos).toEqual(
      [...union].filter((p) => p <= pagesOf(states[50])).sort((a, b) => a - b),
    );
    const head = await changes(`since=${hex(TXS - 1)}`);
    expect(head).toMatchObject({ pos: { txid: hex(TXS) }, all: false, pgnos: changedPages(states[TXS - 1], states[TXS]) });
    expect((await changes(`since=${hex(39)}&txid=${hex(41)}`)).all).toBe(true); // across the VACUUM
  });

  // workerd drops a Content-Length set by hand on a plain ReadableStream body; the route pipes
  // through a FixedLengthStream so the header reaches the client.
  it('GET snapshot?format=sqlite announces Content-Length = commit × page size (DESIGN §4)', async () => {
    for (const n of [1, 40, 55, TXS]) {
      const res = await devFetch(server, `/v1/databases/${DB}/snapshot?format=sqlite&txid=${hex(n)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length'), `TXID ${n}`).toBe(String(states[n].length));
      expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), states[n])).toBe(0);
    }
  });

  it('over a real socket the file honours HEAD and Range, and a read link serves it without a token, with CORS', async () => {
    const n = 40;
    const file = `/v1/databases/${DB}/snapshot?format=sqlite&txid=${hex(n)}`;
    const head = await devFetch(server, file, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(states[n].length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const range = await devFetch(server, file, { headers: { range: 'bytes=4000-8200' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 4000-8200/${states[n].length}`);
    expect(Buffer.compare(new Uint8Array(await range.arrayBuffer()), states[n].subarray(4000, 8201))).toBe(0);
    const minted = await devFetch(server, `/v1/databases/${DB}/links`, { method: 'POST', body: JSON.stringify({ txid: hex(n) }) });
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };
    expect(url.startsWith(server.url)).toBe(true);
    const viaLink = await fetch(url, { headers: { range: 'bytes=-100', origin: 'https://reader.example' } });
    expect(viaLink.status).toBe(206);
    expect(viaLink.headers.get('access-control-allow-origin')).toBe('*');
    expect(Buffer.compare(new Uint8Array(await viaLink.arrayBuffer()), states[n].subarray(states[n].length - 100))).toBe(0);
    const linkHead = await fetch(url, { method: 'HEAD' });
    expect(linkHead.headers.get('content-length')).toBe(String(states[n].length));
  });

  it('at=<RFC3339> picks the last LTX push stamped at or before it', async () => {
    const txidAt = async (at: string): Promise<{ status: number; txid: string | null }> => {
      const res = await devFetch(server, `/v1/databases/${DB}/pages/1?at=${encodeURIComponent(at)}`);
      const txid = res.headers.get('ltx-txid');
      if (res.ok) expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), page(states[Number('0x' + txid)], 1))).toBe(0);
      else await res.body?.cancel();
      return { status: res.status, txid };
    };
    // Page-set writes (even TXIDs) are stamped now by the server, so they are after every fixed time.
    for (const n of [1, 3, 17, 39, 41, TXS - 2]) {
      const t = T0 + n * 60_000;
      expect(await txidAt(new Date(t).toISOString())).toEqual({ status: 200, txid: hex(n) });
      expect(await txidAt(new Date(t + 59_999).toISOString())).toEqual({ status: 200, txid: hex(n) });
      if (n > 1) expect(await txidAt(new Date(t - 1).toISOString())).toEqual({ status: 200, txid: hex(n - 2) });
    }
    // Offsets other than Z, and before the first state: 410.
    expect(await txidAt('2024-01-01T02:03:00+02:00')).toEqual({ status: 200, txid: hex(3) });
    expect((await txidAt(new Date(T0 + 59_999).toISOString())).status).toBe(410);
  });

  it('restore --at: an RFC3339 time, "now" and "5 minutes ago" against the real clock', async () => {
    const restoreAt = async (at: string, n: number): Promise<void> => {
      const out = path.join(dir, `at-${n}.db`);
      const r = await runCLIAsyncJSON<{ txid: string }>([
        'restore',
        server.url,
        DB,
        '-o',
        out,
        '--at',
        at,
        '--json',
        '--verify',
        '--token',
        DEV_TOKEN,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ txid: hex(n), integrity: 'ok' });
      expect(Buffer.compare(readFileSync(out), states[n])).toBe(0);
    };
    await restoreAt(new Date(T0 + 21 * 60_000 + 30_000).toISOString(), 21);
    // The last state was pushed stamped with the real time, every page-set write a moment before it.
    expect(Date.now()).toBeGreaterThanOrEqual(lastPushedAt);
    await restoreAt('now', TXS);
    await restoreAt('5 minutes ago', TXS - 2);
  });
});

describe('the same reads after compaction into levels 1 and 2 and a level-9 snapshot', () => {
  const admin = async (p: string): Promise<unknown> => {
    const res = await devFetch(server, `/v1/databases/${DB}/${p}`, { method: 'POST' });
    const body: unknown = await res.json();
    expect(res.status, `${p}: ${JSON.stringify(body)}`).toBeLessThan(300);
    return body;
  };
  const levels = async (): Promise<{ level: number; files: number }[]> =>
    ((await (await devFetch(server, `/v1/databases/${DB}`)).json()) as { levels: { level: number; files: number }[] }).levels;

  it('every TXID still reads as its saved file; the head and its changes too', async () => {
    for (const step of ['compact?level=1', 'compact?level=2', 'compact?level=9']) await admin(step);
    const held = await levels();
    console.log(`real-sqlite-reads: after maintenance ${JSON.stringify(held)}`);
    expect(held.map((l) => l.level)).toEqual(expect.arrayContaining([1, 9]));
    await pool(TXIDS, 4, async (n) => {
      const res = await devFetch(server, `/v1/databases/${DB}/snapshot?format=sqlite&txid=${hex(n)}`);
      expect(res.status, `TXID ${n}`).toBe(200);
      expect(res.headers.get('ltx-txid')).toBe(hex(n));
      expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), states[n]), `TXID ${n} differs after compaction`).toBe(0);
    });
    const out = path.join(dir, 'head-after-compaction.db');
    const r = await runCLIAsyncJSON<{ txid: string }>(['restore', server.url, DB, '-o', out, '--json', '--verify', '--token', DEV_TOKEN]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.txid).toBe(hex(TXS));
    expect(Buffer.compare(readFileSync(out), states[TXS])).toBe(0);
    const changes = (await (await devFetch(server, `/v1/databases/${DB}/changes?since=${hex(TXS - 1)}`)).json()) as {
      pgnos: number[];
      all: boolean;
    };
    expect(changes).toMatchObject({ all: false, pgnos: changedPages(states[TXS - 1], states[TXS]) });
  });
});

describe('min_txid: read your writes', () => {
  const MIN_DB = 'min-txid';

  it('a read asking for the next TXID waits for the writer and answers with it (LTX and page-set writes)', async () => {
    expect((await pushState(MIN_DB, 1, T0)).status).toBe(201);
    for (const n of [2, 3, 4, 5]) {
      const started = performance.now();
      // Start the read, then the write; no sleeps: both run at once.
      const [read, write] = await Promise.all([
        devFetch(server, `/v1/databases/${MIN_DB}/pages/1?min_txid=${hex(n)}`),
        pushState(MIN_DB, n, T0 + n * 60_000),
      ]);
      expect(write.status).toBe(201);
      expect(read.status).toBe(200);
      expect(read.headers.get('ltx-txid')).toBe(hex(n));
      expect(Buffer.compare(new Uint8Array(await read.arrayBuffer()), page(states[n], 1))).toBe(0);
      console.log(`min_txid: TXID ${n} (${n % 2 ? 'LTX' : 'page-set'} write) read after ${Math.round(performance.now() - started)} ms`);
    }
  });

  it('without a writer it answers 409 NOT_YET_AVAILABLE after the bounded wait', async () => {
    const started = performance.now();
    const res = await devFetch(server, `/v1/databases/${MIN_DB}/pages/1?min_txid=${hex(6)}`);
    const waited = performance.now() - started;
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; details?: { pos?: Pos } } };
    expect(body.error.code).toBe('NOT_YET_AVAILABLE');
    expect(body.error.details?.pos?.txid).toBe(hex(5));
    expect(waited).toBeGreaterThan(1_000); // it did wait…
    expect(waited).toBeLessThan(15_000); // …boundedly
    console.log(`min_txid: NOT_YET_AVAILABLE after ${Math.round(waited)} ms`);
  });

  it('GET changes with min_txid beyond the head waits, then answers 409 NOT_YET_AVAILABLE', async () => {
    const started = performance.now();
    const res = await devFetch(server, `/v1/databases/${MIN_DB}/changes?since=${hex(4)}&min_txid=${hex(6)}`);
    const body = (await res.json()) as { error?: { code: string } };
    expect(res.status).toBe(409);
    expect(body.error?.code).toBe('NOT_YET_AVAILABLE');
    expect(performance.now() - started).toBeGreaterThan(1_000);
  });
});
