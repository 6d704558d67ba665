// A seeded SQLite workload for agent tests: small and big transactions, overflow blobs, deletes, a schema change, VACUUM.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import type { Prng } from './prng.ts';

/** Opens (creating) an application database in WAL mode with the given page size. */
export function openAppDatabase(file: string, pageSize: number): DatabaseSync {
  const db = new DatabaseSync(file, { timeout: 5_000 });
  db.exec(`PRAGMA page_size = ${pageSize}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, body BLOB);
    CREATE INDEX IF NOT EXISTS items_by_name ON items (name);`);
  return db;
}

/**
 * Runs transaction number `n` of the workload: mostly single-row inserts, updates and deletes; every
 * so often a batch insert, a blob spanning overflow pages, a mass delete; a schema change at 3,000
 * and a VACUUM (which shrinks the file) at 6,000.
 */
export function runTransaction(db: DatabaseSync, r: Prng, n: number): void {
  if (n === 3_000) {
    db.exec('ALTER TABLE items ADD COLUMN tag TEXT; CREATE TABLE notes (id INTEGER PRIMARY KEY, item INTEGER, text TEXT);');
    return;
  }
  if (n === 6_000) {
    db.exec('DELETE FROM items WHERE id % 3 != 0; DELETE FROM notes;');
    db.exec('VACUUM');
    return;
  }
  const roll = r.int(1000);
  db.exec('BEGIN');
  try {
    if (roll < 600) {
      db.prepare('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)').run(`item-${r.int(5000)}`, r.int(1000), r.bytes(20 + r.int(200)));
    } else if (roll < 800) {
      db.prepare('UPDATE items SET qty = qty + ?, name = ? WHERE id = ?').run(1 + r.int(9), `item-${r.int(5000)}`, 1 + r.int(n + 1));
    } else if (roll < 900) {
      db.prepare('DELETE FROM items WHERE id = ?').run(1 + r.int(n + 1));
    } else if (roll < 970) {
      const ins = db.prepare('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)');
      for (let i = 0, k = 10 + r.int(100); i < k; i++) ins.run(`bulk-${r.int(100000)}`, i, r.bytes(r.int(64)));
    } else if (roll < 980) {
      // A blob over several overflow pages at any page size.
      db.prepare('INSERT INTO items (name, qty, body) VALUES (?, ?, ?)').run(`blob-${n}`, -1, r.bytes(70_000 + r.int(70_000)));
    } else {
      db.prepare('DELETE FROM items WHERE id % 7 = ?').run(r.int(7));
    }
    if (n > 3_000 && roll % 5 === 0) db.prepare('INSERT INTO notes (item, text) VALUES (?, ?)').run(r.int(n), `note ${n}`);
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

/**
 * The database's bytes as SQLite sees them now, taken independently of the agent: a copy of the file
 * and its WAL, checkpointed (TRUNCATE) by SQLite itself in a private connection. The copy is made by
 * `cp` in its own process: opening and closing the file here would drop every POSIX lock this process
 * holds on it — an in-process agent's included (see src/agent/database-hold.ts).
 */
export function databaseImage(file: string, scratch: string): Uint8Array {
  rmSync(scratch, { force: true });
  rmSync(`${scratch}-wal`, { force: true });
  rmSync(`${scratch}-shm`, { force: true });
  copyOutOfProcess(file, scratch);
  if (existsSync(`${file}-wal`)) copyOutOfProcess(`${file}-wal`, `${scratch}-wal`);
  const db = new DatabaseSync(scratch);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return new Uint8Array(readFileSync(scratch));
}

function copyOutOfProcess(from: string, to: string): void {
  const r = spawnSync('cp', [from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp ${from} ${to}: ${r.stderr || r.error?.message}`);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
