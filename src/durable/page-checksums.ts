// Per-page checksums in the DO's SQLite, staged while a file streams in and committed with its catalog row.

import type { PageChecksumStore } from '../ltx/index.ts';
import type { SqlExec } from './migrate.ts';

/**
 * Staged checksums stay in memory up to this many pages (most files), then spill to the
 * `pages_staging` table. In memory, a small push writes nothing to SQLite before its R2 put, so
 * the DO's output gate does not hold the put until staging writes are durable.
 */
export const STAGE_IN_MEMORY_PAGES = 16384;

type Row = Record<string, unknown>;
const toSum = (r: Row): bigint => (BigInt(Number(r.hi)) << 32n) | BigInt(Number(r.lo));

/**
 * A PageChecksumStore whose reads see the committed `pages` table below `clearedFrom` and the
 * staged checksums at or above it; writes are staged (memory, then `pages_staging`), so a failed
 * ingest leaves `pages` untouched and memory stays bounded however many pages a file has.
 * `commit()` (inside the DO's transactionSync) makes the staged state real.
 */
export class StagedPageChecksums implements PageChecksumStore {
  private readonly sql: SqlExec;
  /** Pages at or past this number read as never written (cleared by this file) unless staged. */
  private clearedFrom = Infinity;
  /** Staged checksums while few; null once spilled to `pages_staging`. */
  private memory: Map<number, bigint> | null = new Map();
  private readonly limit: number;

  /** The file being ingested (its MaxTXID, 16 hex): recorded as the writer of every page it sets. */
  private readonly writer: string;

  constructor(sql: SqlExec, writer: string, limit = STAGE_IN_MEMORY_PAGES) {
    this.sql = sql;
    this.writer = writer;
    this.limit = limit;
  }

  get(pgno: number): bigint | undefined {
    if (pgno < this.clearedFrom) {
      const r = this.sql.exec('SELECT hi, lo FROM pages WHERE pgno = ?', pgno).toArray()[0];
      return r ? toSum(r) : undefined;
    }
    if (this.memory) return this.memory.get(pgno);
    const r = this.sql.exec('SELECT hi, lo FROM pages_staging WHERE pgno = ?', pgno).toArray()[0];
    return r ? toSum(r) : undefined;
  }

  set(pgno: number, sum: bigint): void {
    if (this.memory && this.memory.size >= this.limit && !this.memory.has(pgno)) this.spill();
    if (this.memory) {
      this.memory.set(pgno, sum);
      return;
    }
    this.sql.exec(
      'INSERT INTO pages_staging (pgno, hi, lo) VALUES (?, ?, ?) ON CONFLICT (pgno) DO UPDATE SET hi = excluded.hi, lo = excluded.lo',
      pgno,
      Number(sum >> 32n),
      Number(sum & 0xffffffffn),
    );
  }

  clearFrom(pgno: number): void {
    this.clearedFrom = Math.min(this.clearedFrom, pgno);
    if (this.memory) {
      for (const p of this.memory.keys()) if (p >= pgno) this.memory.delete(p);
    } else {
      this.sql.exec('DELETE FROM pages_staging WHERE pgno >= ?', pgno);
    }
  }

  *stored(from: number, to: number): Iterable<[number, bigint]> {
    // Below `clearedFrom` reads see committed pages, at or above it this file's staged ones.
    const split = Math.min(Math.max(from, this.clearedFrom === Infinity ? to + 1 : this.clearedFrom), to + 1);
    if (from <= split - 1) {
      for (const r of this.sql.exec('SELECT pgno, hi, lo FROM pages WHERE pgno BETWEEN ? AND ? ORDER BY pgno', from, split - 1).toArray()) {
        yield [Number(r.pgno), toSum(r)];
      }
    }
    if (split > to) return;
    if (this.memory) {
      yield* [...this.memory].filter(([p]) => p >= split && p <= to).sort((a, b) => a[0] - b[0]);
      return;
    }
    for (const r of this.sql.exec('SELECT pgno, hi, lo FROM pages_staging WHERE pgno BETWEEN ? AND ? ORDER BY pgno', split, to).toArray()) {
      yield [Number(r.pgno), toSum(r)];
    }
  }

  /**
   * Moves the staged checksums into `pages`. Call inside the transaction that commits the file.
   * Returns the pages the file set, ascending, when they were few enough to stay in memory.
   */
  commit(): number[] | undefined {
    if (this.clearedFrom !== Infinity) this.sql.exec('DELETE FROM pages WHERE pgno >= ?', this.clearedFrom);
    if (this.memory) {
      const pages = [...this.memory.keys()].sort((a, b) => a - b);
      for (const [pgno, sum] of this.memory) {
        this.sql.exec(
          'INSERT OR REPLACE INTO pages (pgno, hi, lo, writer) VALUES (?, ?, ?, ?)',
          pgno,
          Number(sum >> 32n),
          Number(sum & 0xffffffffn),
          this.writer,
        );
      }
      this.memory.clear();
      return pages;
    }
    this.sql.exec('INSERT OR REPLACE INTO pages (pgno, hi, lo, writer) SELECT pgno, hi, lo, ? FROM pages_staging', this.writer);
    this.sql.exec('DELETE FROM pages_staging');
    return undefined;
  }

  /** Drops what was staged (the file was rejected). */
  discard(): void {
    if (this.memory) this.memory.clear();
    else this.sql.exec('DELETE FROM pages_staging');
  }

  private spill(): void {
    const staged = this.memory!;
    this.memory = null;
    this.sql.exec('DELETE FROM pages_staging');
    for (const [pgno, sum] of staged) this.set(pgno, sum);
  }
}
