// Per-page checksums in the DO's SQLite, staged while a file streams in and committed with its catalog row.

import type { PageChecksumStore } from '../ltx/apply.ts';
import type { SqlExec } from './migrate.ts';

/**
 * A PageChecksumStore whose reads see the committed `pages` table and whose writes go to
 * `pages_staging`, so memory stays flat however many pages a file has and a failed ingest leaves
 * `pages` untouched. `commit()` (inside the DO's transactionSync) makes the staged state real.
 */
export class StagedPageChecksums implements PageChecksumStore {
  private readonly sql: SqlExec;
  /** Pages at or past this number read as never written (cleared by this file). */
  private clearedFrom = Infinity;

  constructor(sql: SqlExec) {
    this.sql = sql;
    this.sql.exec('DELETE FROM pages_staging');
  }

  get(pgno: number): bigint | undefined {
    const table = pgno >= this.clearedFrom ? 'pages_staging' : 'pages';
    const r = this.sql.exec(`SELECT hi, lo FROM ${table} WHERE pgno = ?`, pgno).toArray()[0];
    if (!r) return undefined;
    return (BigInt(Number(r.hi)) << 32n) | BigInt(Number(r.lo));
  }

  set(pgno: number, sum: bigint): void {
    this.sql.exec(
      'INSERT INTO pages_staging (pgno, hi, lo) VALUES (?, ?, ?) ON CONFLICT (pgno) DO UPDATE SET hi = excluded.hi, lo = excluded.lo',
      pgno,
      Number(sum >> 32n),
      Number(sum & 0xffffffffn),
    );
  }

  clearFrom(pgno: number): void {
    this.clearedFrom = Math.min(this.clearedFrom, pgno);
    this.sql.exec('DELETE FROM pages_staging WHERE pgno >= ?', pgno);
  }

  *stored(from: number, to: number): Iterable<[number, bigint]> {
    // Reads below `clearedFrom` see committed pages, at or above it this file's staged ones.
    const split = Math.min(Math.max(from, this.clearedFrom === Infinity ? to + 1 : this.clearedFrom), to + 1);
    const ranges: [string, number, number][] = [
      ['pages', from, split - 1],
      ['pages_staging', split, to],
    ];
    for (const [table, a, b] of ranges) {
      if (a > b) continue;
      for (const r of this.sql.exec(`SELECT pgno, hi, lo FROM ${table} WHERE pgno BETWEEN ? AND ? ORDER BY pgno`, a, b).toArray()) {
        yield [Number(r.pgno), (BigInt(Number(r.hi)) << 32n) | BigInt(Number(r.lo))];
      }
    }
  }

  /** Moves the staged checksums into `pages`. Call inside the transaction that commits the file. */
  commit(): void {
    if (this.clearedFrom !== Infinity) this.sql.exec('DELETE FROM pages WHERE pgno >= ?', this.clearedFrom);
    this.sql.exec('INSERT OR REPLACE INTO pages (pgno, hi, lo) SELECT pgno, hi, lo FROM pages_staging');
    this.sql.exec('DELETE FROM pages_staging');
  }

  /** Drops what was staged (the file was rejected). */
  discard(): void {
    this.sql.exec('DELETE FROM pages_staging');
  }
}
