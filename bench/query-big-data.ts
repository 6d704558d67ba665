// The big database of the query suite's second part: ~100 MB, 1M events and an index, built once with
// node:sqlite (cached under tmp/cache), then a few later transactions turned into L0 LTX files.

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../src/ltx/index.ts';
import { prng } from './harness.ts';

export const BIG_PAGE_SIZE = 4096;
/** Seed of the data and of every choice the bench makes (printed; LTX_BENCH_QUERY_BIG_SEED overrides). */
export const BIG_SEED = Number(process.env.LTX_BENCH_QUERY_BIG_SEED ?? 20261124);
/** Rows of `events` in the base database (TXID 1). */
export const BIG_ROWS = 1_000_000;
/** Distinct user_id values (1..USERS): about 200 events per user. */
export const BIG_USERS = 5_000;
/** ts of event `id` is T0 + id·10 s + a jitter under 10 s: rising with id, unique per user in practice. */
export const T0 = 1_700_000_000;
/** Change this when the data or schema below changes: it names the cached file. */
const DATA_VERSION = 'v1';
export const KINDS = ['view', 'click', 'purchase', 'signup', 'share', 'comment', 'like', 'logout'];
const CACHE_DIR = path.join(import.meta.dirname, '..', 'tmp', 'cache');

const SCHEMA = `
  CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL);`;
const INDEX = 'CREATE INDEX events_by_user_ts ON events (user_id, ts);';

/** Lower-case text of `n` letters and spaces, a few bytes of entropy per character like real payloads. */
function text(r: ReturnType<typeof prng>, n: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'sigma', 'omega', 'lorem', 'ipsum', 'dolor', 'amet', 'edge', 'page', 'query'];
  let s = '';
  while (s.length < n) s += `${words[r.int(words.length)]}${r.int(1000)} `;
  return s.slice(0, n);
}

/** The cached base database (TXID 1) for this seed and version; built on the first call (~15 s). */
export function baseDatabase(log: (line: string) => void): string {
  const file = path.join(CACHE_DIR, `query-big-${DATA_VERSION}-${BIG_SEED}.db`);
  if (existsSync(file)) {
    log(`  base database: cached ${path.relative(process.cwd(), file)} (${(statSync(file).size / 1e6).toFixed(1)} MB)`);
    return file;
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const t0 = performance.now();
  const r = prng(BIG_SEED);
  const db = new DatabaseSync(tmp);
  try {
    db.exec(`PRAGMA page_size = ${BIG_PAGE_SIZE}; PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF; ${SCHEMA}`);
    db.exec('BEGIN');
    const insert = db.prepare('INSERT INTO events (id, user_id, kind, ts, payload) VALUES (?, ?, ?, ?, ?)');
    for (let id = 1; id <= BIG_ROWS; id++) {
      insert.run(id, 1 + r.int(BIG_USERS), KINDS[r.int(KINDS.length)], T0 + id * 10 + r.int(10), text(r, 30 + r.int(60)));
    }
    db.exec('COMMIT');
    db.exec(INDEX);
  } finally {
    db.close();
  }
  renameSync(tmp, file);
  log(
    `  base database: built ${path.relative(process.cwd(), file)} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(statSync(file).size / 1e6).toFixed(1)} MB)`,
  );
  return file;
}

/** What the later transactions did: each one's L0 LTX file (TXID 2, 3, …) and its size in pages. */
export interface LaterTx {
  txid: number;
  what: string;
  ltx: Uint8Array;
  pages: number;
  commit: number;
}

/** Pages of `next` that are new or differ from `prev`. */
function changedPages(prev: Uint8Array, next: Uint8Array): number[] {
  const ps = BIG_PAGE_SIZE;
  const out: number[] = [];
  for (let p = 1; p <= next.length / ps; p++) {
    const a = next.subarray((p - 1) * ps, p * ps);
    if ((p - 1) * ps >= prev.length || Buffer.compare(a, prev.subarray((p - 1) * ps, p * ps)) !== 0) out.push(p);
  }
  return out;
}

/** The transactions after the snapshot, as SQL run on the copy (seeded; each one changes rows the queries read). */
function laterTransactions(): { what: string; run: (db: DatabaseSync) => void }[] {
  const r = prng(BIG_SEED + 1);
  return [
    {
      what: 'update 2,000 random events, insert 1,000 new ones',
      run(db) {
        const upd = db.prepare("UPDATE events SET kind = 'edited', payload = ? WHERE id = ?");
        for (let i = 0; i < 2000; i++) upd.run(text(r, 60), 1 + r.int(BIG_ROWS));
        const ins = db.prepare('INSERT INTO events (user_id, kind, ts, payload) VALUES (?, ?, ?, ?)');
        for (let i = 0; i < 1000; i++) ins.run(1 + r.int(BIG_USERS), KINDS[r.int(KINDS.length)], T0 + (BIG_ROWS + i) * 10, text(r, 80));
      },
    },
    {
      what: 'delete every 3rd event of users 1–50, re-kind events 400,001–480,000',
      run(db) {
        db.exec(
          "DELETE FROM events WHERE user_id <= 50 AND id % 3 = 0; UPDATE events SET kind = 'moved' WHERE id BETWEEN 400001 AND 480000;",
        );
      },
    },
    {
      what: 'insert 5,000 events of users 1–5,000 dated inside the data, delete 1,000 random ones',
      run(db) {
        const ins = db.prepare('INSERT INTO events (user_id, kind, ts, payload) VALUES (?, ?, ?, ?)');
        for (let i = 0; i < 5000; i++) ins.run(1 + i, 'late', T0 + r.int(BIG_ROWS) * 10 + 5, text(r, 50));
        const del = db.prepare('DELETE FROM events WHERE id = ?');
        for (let i = 0; i < 1000; i++) del.run(1 + r.int(BIG_ROWS));
      },
    },
  ];
}

/**
 * Copies the base database to `dir/work.db`, runs the later transactions on it, one SQLite
 * transaction each, and returns their L0 files (NoChecksum, as Litestream writes them). The state at
 * TXID `keepAt` is also copied to `dir/at-<txid>.db` (the file the bench's answers are checked against).
 */
export function buildLaterTransactions(base: string, dir: string, keepAt: number): { txs: LaterTx[]; kept: string } {
  const work = path.join(dir, 'work.db');
  copyFileSync(base, work);
  const kept = path.join(dir, `at-${keepAt}.db`);
  if (keepAt === 1) copyFileSync(base, kept);
  let prev = new Uint8Array(readFileSync(work));
  const txs: LaterTx[] = [];
  const db = new DatabaseSync(work);
  try {
    db.exec('PRAGMA journal_mode = DELETE');
    laterTransactions().forEach((tx, i) => {
      const txid = i + 2;
      db.exec('BEGIN');
      tx.run(db);
      db.exec('COMMIT');
      const next = new Uint8Array(readFileSync(work));
      const pgnos = changedPages(prev, next);
      const commit = next.length / BIG_PAGE_SIZE;
      const header = makeHeader({
        flags: HEADER_FLAG_NO_CHECKSUM,
        pageSize: BIG_PAGE_SIZE,
        commit,
        minTXID: BigInt(txid),
        maxTXID: BigInt(txid),
        timestamp: Date.now(),
      });
      const ltx = encodeLTX(
        header,
        pgnos.map((p) => ({ pgno: p, data: next.subarray((p - 1) * BIG_PAGE_SIZE, p * BIG_PAGE_SIZE) })),
      );
      txs.push({ txid, what: tx.what, ltx, pages: pgnos.length, commit });
      if (txid === keepAt) copyFileSync(work, kept);
      prev = next;
    });
  } finally {
    db.close();
  }
  return { txs, kept };
}
