// Node side: a real SQLite workload (node:sqlite) as LTX files per TXID, and the expected result of a set of queries at every TXID.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../../src/ltx/index.ts';
import { prng } from './prng.ts';

/** One query of the set: SQL, params as the API takes them. */
export interface WorkloadQuery {
  name: string;
  sql: string;
  params?: unknown[] | Record<string, unknown>;
}

/** What the API must answer: rows in the wire encoding (src/query/values.ts), or an error code. */
export type Expected = { columns: string[]; rows: unknown[][] } | { error: string };

export interface Workload {
  name: string;
  pageSize: number;
  /** ltx[n - 1] = TXID n as an LTX file (n = 1: a snapshot), base64. */
  ltx: string[];
  /** Pages after each TXID. */
  commits: number[];
  queries: WorkloadQuery[];
  /** expected[n - 1][q] = the answer to queries[q] at TXID n. */
  expected: Expected[][];
}

export interface WorkloadOptions {
  name: string;
  pageSize: number;
  /** Write in WAL mode and checkpoint after each transaction: page 1 then says WAL (bytes 18–19 = 2). */
  wal: boolean;
  /** Users in the first transaction (orders ≈ 5 per user). */
  users: number;
  seed: number;
}

/** The queries checked at every TXID: point lookups, joins, scans both ways, overflow blobs, schema changes, big integers. */
export const WORKLOAD_QUERIES: WorkloadQuery[] = [
  { name: 'count', sql: 'SELECT count(*) AS n, sum(balance) AS total FROM users' },
  { name: 'rowid lookup', sql: 'SELECT * FROM users WHERE id = ?', params: [17] },
  { name: 'unique index lookup', sql: 'SELECT id, name FROM users WHERE email = ?', params: ['user42@example.com'] },
  { name: 'named param', sql: 'SELECT id, name FROM users WHERE name = :name ORDER BY id', params: { name: 'name-7' } },
  {
    name: 'join',
    sql: `SELECT u.id, u.name, count(o.id) AS orders, sum(o.amount) AS amount
          FROM users u JOIN orders o ON o.user_id = u.id
          WHERE u.id BETWEEN 100 AND 140 GROUP BY u.id ORDER BY u.id`,
  },
  {
    name: 'index probe join',
    sql: 'SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.amount > 990 ORDER BY o.id',
  },
  { name: 'scan filter', sql: 'SELECT count(*) AS n, max(amount) AS m FROM orders WHERE note LIKE ?', params: ['%7%'] },
  { name: 'desc scan', sql: 'SELECT id, amount FROM orders ORDER BY id DESC LIMIT 50' },
  { name: 'big integers', sql: 'SELECT id, big, balance FROM users WHERE big IS NOT NULL ORDER BY id LIMIT 40' },
  { name: 'blobs', sql: 'SELECT id, length(data) AS len, data FROM blobs ORDER BY id' },
  { name: 'schema', sql: "SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name" },
  { name: 'added column', sql: 'SELECT id, tier FROM users WHERE id % 97 = 0 ORDER BY id' },
  { name: 'new table', sql: 'SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY tag' },
  { name: 'expression', sql: "SELECT 1e999 AS inf, -1e999 AS ninf, 9223372036854775807 AS maxint, x'00ff' AS b, NULL AS z, 'héllo' AS t" },
];

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A node:sqlite value in the API's wire encoding (an independent copy of the rules in src/query/values.ts). */
export function wireValue(v: unknown): unknown {
  if (v === null) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : v > 0 ? 'Infinity' : '-Infinity';
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString('base64') };
  throw new Error(`unexpected value ${String(v)}`);
}

function runQuery(db: DatabaseSync, q: WorkloadQuery): Expected {
  try {
    const stmt = db.prepare(q.sql);
    stmt.setReadBigInts(true);
    const columns = stmt.columns().map((c) => c.name);
    const rows: unknown[][] = [];
    const args = q.params === undefined ? [] : Array.isArray(q.params) ? q.params : [q.params];
    for (const row of stmt.iterate(...(args as never[])) as Iterable<Record<string, unknown>>) {
      rows.push(Object.values(row).map(wireValue));
    }
    return { columns, rows };
  } catch (e) {
    return { error: 'SQL_ERROR', message: (e as Error).message } as Expected;
  }
}

function text(r: ReturnType<typeof prng>, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + r.int(26));
  return s;
}

/**
 * Runs the workload in a temporary file and captures the file after each transaction:
 * 1 create and fill; 2 updates; 3 deletes; 4 schema change (ADD COLUMN, new table, new index);
 * 5 overflow blobs; 6 big integers and more orders; 7 a mass delete; 8 VACUUM (the file shrinks);
 * 9 inserts after the VACUUM.
 */
export function buildWorkload(opts: WorkloadOptions): Workload {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-query-workload-'));
  const file = path.join(dir, 'w.db');
  const r = prng(opts.seed);
  const db = new DatabaseSync(file);
  const states: Uint8Array[] = [];
  const expected: Expected[][] = [];
  const capture = (): void => {
    if (opts.wal) db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    states.push(new Uint8Array(readFileSync(file)));
    expected.push(WORKLOAD_QUERIES.map((q) => runQuery(db, q)));
  };
  const tx = (fn: () => void): void => {
    db.exec('BEGIN');
    fn();
    db.exec('COMMIT');
    capture();
  };
  try {
    db.exec(`PRAGMA page_size = ${opts.pageSize}; PRAGMA journal_mode = ${opts.wal ? 'WAL' : 'DELETE'};`);
    tx(() => {
      db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, balance REAL, big INTEGER);
               CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, amount INTEGER, note TEXT);
               CREATE INDEX orders_by_user ON orders (user_id);
               CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);`);
      const u = db.prepare('INSERT INTO users (id, name, email, balance) VALUES (?, ?, ?, ?)');
      for (let i = 1; i <= opts.users; i++) u.run(i, `name-${i % 50}`, `user${i}@example.com`, Math.round(r.next() * 100000) / 100);
      const o = db.prepare('INSERT INTO orders (user_id, amount, note) VALUES (?, ?, ?)');
      for (let i = 0; i < opts.users * 5; i++) o.run(1 + r.int(opts.users), r.int(1000), text(r, 5 + r.int(40)));
    });
    tx(() => {
      db.exec('UPDATE users SET balance = balance * 1.5 WHERE id % 3 = 0');
      db.exec("UPDATE orders SET note = note || '-updated', amount = amount + 1 WHERE id % 11 = 0");
    });
    tx(() => {
      db.exec('DELETE FROM orders WHERE id % 7 = 0');
      db.exec('DELETE FROM users WHERE id % 50 = 13');
    });
    tx(() => {
      db.exec(`ALTER TABLE users ADD COLUMN tier TEXT DEFAULT 'basic';
               UPDATE users SET tier = 'gold' WHERE balance > 700;
               CREATE TABLE tags (id INTEGER PRIMARY KEY, user_id INTEGER, tag TEXT);
               CREATE INDEX tags_by_tag ON tags (tag);`);
      const t = db.prepare('INSERT INTO tags (user_id, tag) VALUES (?, ?)');
      for (let i = 0; i < opts.users; i++) t.run(1 + r.int(opts.users), `tag-${r.int(12)}`);
    });
    tx(() => {
      const b = db.prepare('INSERT INTO blobs (data) VALUES (?)');
      for (let i = 0; i < 6; i++) b.run(r.bytes(opts.pageSize * (1 + r.int(6)) + r.int(opts.pageSize)));
      b.run(new Uint8Array(0));
    });
    tx(() => {
      const u = db.prepare('UPDATE users SET big = ? WHERE id = ?');
      const bigs = [2n ** 53n + 1n, -(2n ** 60n), 9223372036854775807n, -9223372036854775808n, 2n ** 53n - 1n, 42n];
      bigs.forEach((v, i) => {
        u.run(v, 2 + i * 5);
      });
      const o = db.prepare('INSERT INTO orders (user_id, amount, note) VALUES (?, ?, ?)');
      for (let i = 0; i < opts.users; i++) o.run(1 + r.int(opts.users), r.int(1000), text(r, 5 + r.int(40)));
    });
    tx(() => {
      db.exec('DELETE FROM orders WHERE user_id % 4 != 0; DELETE FROM blobs WHERE id % 2 = 0;');
    });
    db.exec('VACUUM');
    capture();
    tx(() => {
      const o = db.prepare('INSERT INTO orders (user_id, amount, note) VALUES (?, ?, ?)');
      for (let i = 0; i < 200; i++) o.run(1 + r.int(opts.users), r.int(1000), `after vacuum ${i}`);
    });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const ps = opts.pageSize;
  const pages = (b: Uint8Array): number => b.length / ps;
  const ltx = states.map((next, i) => {
    const prev = i === 0 ? undefined : states[i - 1];
    const pgnos: number[] = [];
    for (let p = 1; p <= pages(next); p++) {
      const page = next.subarray((p - 1) * ps, p * ps);
      if (prev === undefined || p > pages(prev) || hex(page) !== hex(prev.subarray((p - 1) * ps, p * ps))) pgnos.push(p);
    }
    const header = makeHeader({
      flags: HEADER_FLAG_NO_CHECKSUM,
      pageSize: ps,
      commit: pages(next),
      minTXID: BigInt(i + 1),
      maxTXID: BigInt(i + 1),
      timestamp: Date.UTC(2024, 0, 1) + i * 60_000,
    });
    const bytes = encodeLTX(
      header,
      pgnos.map((p) => ({ pgno: p, data: next.subarray((p - 1) * ps, p * ps) })),
    );
    return Buffer.from(bytes).toString('base64');
  });
  return { name: opts.name, pageSize: ps, ltx, commits: states.map(pages), queries: WORKLOAD_QUERIES, expected };
}

/** The workloads the Workers tests push (provided to them by vitest.config.ts). */
export function loadQueryWorkloads(): Workload[] {
  return [
    buildWorkload({ name: 'shop-1k-wal', pageSize: 1024, wal: true, users: 2000, seed: 7 }),
    buildWorkload({ name: 'shop-4k', pageSize: 4096, wal: false, users: 1500, seed: 11 }),
  ];
}

/** Workloads at the smallest and largest page sizes (with shop-4k: the database file's range tests). */
export function loadFileWorkloads(): Workload[] {
  return [
    buildWorkload({ name: 'shop-512', pageSize: 512, wal: false, users: 600, seed: 13 }),
    buildWorkload({ name: 'shop-64k-wal', pageSize: 65536, wal: true, users: 600, seed: 17 }),
  ];
}

declare module 'vitest' {
  export interface ProvidedContext {
    queryWorkloads: Workload[];
    fileWorkloads: Workload[];
  }
}
