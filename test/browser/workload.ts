// The browser test's SQLite files (the dev demo workload, a changed copy, a WAL-mode copy), the queries run on them, and the reference answers from Python's sqlite3.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createDemoDatabase } from '../../scripts/lib/demo-seed.ts';

/** One query per access pattern a range reader must get right. */
export const QUERIES: Record<string, string> = {
  'point lookup (index)': 'SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE customer_id = 1234 ORDER BY id',
  'count(*)': 'SELECT count(*) FROM orders',
  'group by': 'SELECT status, count(*), sum(total_cents) FROM orders GROUP BY status ORDER BY status',
  join:
    'SELECT c.country, count(*), sum(o.total_cents) FROM orders o JOIN customers c ON c.id = o.customer_id ' +
    "WHERE c.created_at >= '2024-06-01' GROUP BY c.country ORDER BY c.country",
};

/** v1 → v2: rows added, updated and deleted, in one transaction (journal_mode stays DELETE). */
const CHANGES = `
BEGIN;
INSERT INTO customers (id, name, email, country, created_at)
  SELECT id + 2000, name, 'v2.' || email, country, '2024-12-01' FROM customers WHERE id <= 300;
INSERT INTO orders (customer_id, status, total_cents, created_at)
  SELECT customer_id % 2300 + 1, 'pending', total_cents + 7, '2024-12-02' FROM orders WHERE id % 4 = 0;
UPDATE orders SET status = 'shipped', total_cents = total_cents + 100 WHERE status = 'paid' AND id % 3 = 0;
DELETE FROM orders WHERE status = 'cancelled' AND id % 2 = 0;
DELETE FROM customers WHERE id BETWEEN 1500 AND 1549 AND id NOT IN (SELECT customer_id FROM orders);
COMMIT;
`;

export interface WorkloadFiles {
  /** The dev demo database: 2,000 customers, 8,000 orders, an index; 4 KiB pages, journal_mode=DELETE. */
  v1: string;
  /** v1 after CHANGES. */
  v2: string;
  /** v1 switched to journal_mode=WAL, one more row, checkpointed and closed: header bytes 18/19 are 2, no -wal file. */
  wal: string;
}

/** Writes the three files into `dir` with the sqlite3 CLI (v1 with node:sqlite, as `npm run dev` seeds it). */
export function buildWorkload(dir: string): WorkloadFiles {
  const files = { v1: path.join(dir, 'v1.db'), v2: path.join(dir, 'v2.db'), wal: path.join(dir, 'wal.db') };
  createDemoDatabase(files.v1);
  copyFileSync(files.v1, files.v2);
  sqlite3(files.v2, CHANGES);
  copyFileSync(files.v1, files.wal);
  sqlite3(
    files.wal,
    "PRAGMA journal_mode=WAL; INSERT INTO customers VALUES (99999, 'Wal Mode', 'wal@example.com', 'SE', '2024-12-03'); PRAGMA wal_checkpoint(TRUNCATE);",
  );
  const header = readFileSync(files.wal).subarray(18, 20);
  if (header[0] !== 2 || header[1] !== 2 || existsSync(`${files.wal}-wal`))
    throw new Error(`${files.wal}: expected a checkpointed WAL-mode file, header bytes 18/19 are ${header[0]}/${header[1]}`);
  return files;
}

function sqlite3(file: string, sql: string): void {
  execFileSync('sqlite3', ['-bail', file], { input: sql, stdio: ['pipe', 'ignore', 'inherit'] });
}

// Python's sqlite3 prints each answer as JSON: exact integers, and doubles that round-trip (the CLI's -json rounds them).
const REFERENCE_PY = `
import json, sqlite3, sys
job = json.load(sys.stdin)
con = sqlite3.connect('file:' + job['file'] + '?mode=ro', uri=True)
json.dump([[list(r) for r in con.execute(q).fetchall()] for q in job['sqls']], sys.stdout)
`;

/** Each query's rows, as arrays of values, by Python's sqlite3 on `file` (read only). */
export function referenceRows(file: string, sqls: readonly string[]): unknown[][][] {
  return JSON.parse(execFileSync('python3', ['-c', REFERENCE_PY], { input: JSON.stringify({ file, sqls }), encoding: 'utf8' }));
}

/** Rows compared value by value; a bigint a reader returns equals the same integer as a number. */
export function sameRows(a: readonly unknown[][] | undefined, b: readonly unknown[][]): boolean {
  const norm = (rows: readonly unknown[][]) => JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
  return a !== undefined && norm(a) === norm(b);
}

export { changedPages } from '../../scripts/lib/page-diff.ts';
