// Test fixture: a small SQLite database built with node:sqlite, served to the query engine from memory (optionally cold: every page fetched once, after an await).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { EnginePages } from '../../../src/query/engine.ts';
import type { QueryError } from '../../../src/query/query-error.ts';

/** The bytes of a database of 1 KiB pages after running `sql` (default: t(x, y) with 100 rows). */
export function memoryDatabase(
  sql = "CREATE TABLE t (x INTEGER, y TEXT); WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100) INSERT INTO t SELECT i, 'row ' || i FROM r;",
): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-memory-db-'));
  try {
    const file = path.join(dir, 'db.sqlite');
    const db = new DatabaseSync(file);
    db.exec('PRAGMA page_size = 1024; PRAGMA journal_mode = DELETE;');
    db.exec(sql);
    db.close();
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MemoryPagesOptions {
  /** Every page is missing until fetched (a query then awaits `onFetch` before it reruns). */
  cold?: boolean;
  onFetch?: () => Promise<void>;
}

/** EnginePages over database bytes held in memory. */
export class MemoryPages implements EnginePages {
  readonly pageSize = 1024;
  readonly pageCount: number;
  readonly failure: QueryError | undefined = undefined;
  internalError: unknown;
  private readonly bytes: Uint8Array;
  private readonly opts: MemoryPagesOptions;
  private readonly local = new Set<number>();
  private readonly missing = new Set<number>();

  constructor(bytes: Uint8Array, opts: MemoryPagesOptions = {}) {
    this.bytes = bytes;
    this.pageCount = bytes.length / this.pageSize;
    this.opts = opts;
  }

  get missingCount(): number {
    return this.missing.size;
  }

  clearMissing(): void {
    this.missing.clear();
  }

  page(pgno: number): Uint8Array | undefined {
    if (this.opts.cold && !this.local.has(pgno)) {
      this.missing.add(pgno);
      return undefined;
    }
    return this.bytes.subarray((pgno - 1) * this.pageSize, pgno * this.pageSize);
  }

  async fetchMissing(): Promise<void> {
    await this.opts.onFetch?.();
    for (const p of this.missing) this.local.add(p);
    this.missing.clear();
  }

  noteError(err: unknown): void {
    this.internalError ??= err;
  }
}
