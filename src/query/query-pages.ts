// One query's view of a database at a plan: pages located in the plan's files, a per-request page map, misses batched into ranged reads.

import { findPage, lockPgno, type PageIndex } from '../ltx/index.ts';
import { type PageSource, indexCacheKey } from '../replication/page-source.ts';
import { type ReadPlan, planCeilings, planFileKey } from '../replication/plan.ts';
import { BtreeWalk, DEFAULT_PREFETCH, type PrefetchOptions, isInteriorPage } from './btree-walk.ts';
import type { PageMemory, PageMemoryLimit } from './page-memory.ts';
import type { PageFile } from './page-vfs.ts';
import { BUSY_RETRY_AFTER_SECONDS, QueryError } from './query-error.ts';
import type { SharedPageCache } from './shared-page-cache.ts';

export { DEFAULT_DATABASE_SHARE, DEFAULT_ISOLATE_QUERY_PAGE_BYTES, PageMemory } from './page-memory.ts';

/** Default most page bytes one query may bring in (fetched + shared-cache hits): bounds a request's memory. */
export const DEFAULT_MAX_QUERY_PAGE_BYTES = 16 * 1024 * 1024;
export interface QueryPagesOptions {
  /** Storage prefix of the plan's keys (DESIGN §2). */
  prefix: string;
  /** Default DEFAULT_MAX_QUERY_PAGE_BYTES. */
  maxPageBytes?: number;
  /** The isolate's budget shared with concurrent queries; none = unbounded (tests). Call close() to give back. */
  memory?: PageMemory;
  /** Whose pages these are, for the database's share of `memory` (page-memory.ts); default the plan's database name. */
  database?: string;
  prefetch?: PrefetchOptions;
}

/** What a query's pages cost, for the response's stats. */
export interface QueryPageStats {
  /** Distinct pages SQLite read. */
  pagesRead: number;
  /** Pages brought from R2 (prefetched siblings included). */
  pagesFetched: number;
  /** Pages found in the isolate's shared cache. */
  sharedHits: number;
  /** Fetch rounds: batches of misses read from R2. */
  fetchRounds: number;
}

const NOT_LOCATED = -2;
const ZERO_PAGE = -1;

/**
 * Implements the VFS's PageFile for one request. Page 1's bytes 18–19 are set to 1 (rollback
 * journal) so a database written in WAL mode opens without shared memory, as Litestream's VFS does.
 * Local pages live in a per-request map (finished bytes only); interior b-tree pages, page 1 and the
 * schema's leaves also go to the isolate's SharedPageCache under `<LTX key>#<pgno>`.
 */
export class QueryPages implements PageFile {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly stats: QueryPageStats = { pagesRead: 0, pagesFetched: 0, sharedHits: 0, fetchRounds: 0 };
  private readonly plan: ReadPlan;
  private readonly source: PageSource;
  private readonly shared: SharedPageCache;
  private readonly indexes: PageIndex[];
  private readonly ceilings: number[];
  private readonly keys: string[];
  private readonly maxPageBytes: number;
  private readonly walk: BtreeWalk;
  private readonly local = new Map<number, Uint8Array>();
  private readonly located = new Map<number, number>();
  private readonly seen = new Set<number>();
  private readonly missing = new Set<number>();
  /** Prefetched pages SQLite has not read yet: dropped first when the budget runs short. */
  private readonly guesses = new Set<number>();
  /** False once guesses had to be dropped: this query's guesses do not pay, and refilling the room would only churn. */
  private guessing = true;
  private readonly zero: Uint8Array;
  private bytesIn = 0;
  private readonly memory: PageMemory | undefined;
  private readonly database: string;
  /** Bytes reserved in `memory`. */
  private reserved = 0;
  private failed: QueryError | undefined;
  private internal: unknown;

  private constructor(plan: ReadPlan, source: PageSource, shared: SharedPageCache, indexes: PageIndex[], opts: QueryPagesOptions) {
    this.plan = plan;
    this.source = source;
    this.shared = shared;
    this.indexes = indexes;
    this.pageSize = plan.pageSize;
    this.pageCount = plan.commit;
    this.ceilings = planCeilings(plan);
    // Shared pages are keyed by incarnation too: a re-created database repeats its R2 keys.
    this.keys = plan.files.map((f) => indexCacheKey(plan.incarnation, planFileKey(opts.prefix, plan.db, f)));
    this.maxPageBytes = opts.maxPageBytes ?? DEFAULT_MAX_QUERY_PAGE_BYTES;
    this.memory = opts.memory;
    this.database = opts.database ?? plan.db;
    this.walk = new BtreeWalk(plan.commit, opts.prefetch ?? DEFAULT_PREFETCH);
    this.zero = new Uint8Array(plan.pageSize);
  }

  /**
   * Loads the page index of every plan file (isolate-cached by PageSource: 0 gets when warm, one per
   * file when cold, 6 at a time) so that any page can be located without I/O during a statement.
   */
  static async open(plan: ReadPlan, source: PageSource, shared: SharedPageCache, opts: QueryPagesOptions): Promise<QueryPages> {
    const indexes = await Promise.all(plan.files.map((f) => source.indexOf(plan.db, f)));
    return new QueryPages(plan, source, shared, indexes, opts);
  }

  /** Pages noted missing since the last fetch. */
  get missingCount(): number {
    return this.missing.size;
  }

  /** Forgets misses (before a statement runs again). */
  clearMissing(): void {
    this.missing.clear();
  }

  /** A failure noted during a statement (reads must not throw through the wasm stack); the runner throws it. */
  get failure(): QueryError | undefined {
    return this.failed;
  }

  noteError(err: unknown): void {
    this.internal ??= err;
  }

  /** An unexpected exception inside a read (a bug): the runner rethrows it. */
  get internalError(): unknown {
    return this.internal;
  }

  page(pgno: number): Uint8Array | undefined {
    let page = this.local.get(pgno);
    if (page === undefined) {
      const f = this.locate(pgno);
      if (f === ZERO_PAGE) {
        page = this.zero;
      } else {
        page = this.shared.get(this.sharedKey(f, pgno));
        if (page === undefined) {
          this.missing.add(pgno);
          return undefined;
        }
        if (this.bytesIn + page.byteLength > this.maxPageBytes) {
          this.failed ??= this.overBudget(0);
          return undefined;
        }
        this.bytesIn += page.byteLength;
        this.stats.sharedHits++;
        this.local.set(pgno, page);
      }
    }
    if (!this.seen.has(pgno)) {
      this.seen.add(pgno);
      this.guesses.delete(pgno);
      this.stats.pagesRead++;
      this.walk.onRead(pgno, page);
    }
    return page;
  }

  /**
   * Fetches every missing page, plus b-tree siblings the walk suggests (BtreeWalk), in one
   * PageSource.readPages call: one ranged get per run of neighbouring frames per file.
   * Throws QueryError QUERY_TOO_EXPENSIVE (page_bytes) when the misses alone exceed the budget
   * with every prefetched page SQLite has not read dropped: guesses never make a query fail. After
   * such a drop the query prefetches no more (measured: refilling the room each round fetched 46×
   * the pages read).
   */
  async fetchMissing(): Promise<void> {
    const want = [...this.missing];
    this.missing.clear();
    if (want.length === 0) return;
    const queued = new Set(want);
    const roomLeft = (): number => Math.floor((this.maxPageBytes - this.bytesIn) / this.pageSize) - want.length;
    let room = roomLeft();
    if (room < 0) {
      this.dropGuesses();
      room = roomLeft();
      if (room < 0) throw this.overBudget(want.length);
    }
    const have = (p: number): boolean => queued.has(p) || this.local.has(p) || this.locate(p) === ZERO_PAGE;
    if (!this.guessing) room = 0;
    for (const pgno of want) {
      for (const extra of this.walk.prefetchFor(pgno, have, room)) {
        queued.add(extra);
        room--;
      }
    }
    let pgnos = [...queued].sort((a, b) => a - b);
    if (this.memory !== undefined) {
      // Reserve the batch in the isolate's budget; when other queries hold too much, the misses alone.
      if (this.memory.take(pgnos.length * this.pageSize, this.database) !== undefined) {
        pgnos = want.sort((a, b) => a - b);
        const refused = this.memory.take(pgnos.length * this.pageSize, this.database);
        if (refused !== undefined) throw busy(refused, this.memory);
      }
      this.reserved += pgnos.length * this.pageSize;
    }
    const hints = new Map(pgnos.map((p) => [p, this.locate(p)]));
    const pages = await this.source.readPages(this.plan, pgnos, hints);
    this.stats.fetchRounds++;
    const asked = new Set(want);
    for (const [pgno, data] of pages) {
      if (this.local.has(pgno)) continue;
      const page = pgno === 1 ? patchHeader(data) : data;
      this.bytesIn += page.byteLength;
      this.local.set(pgno, page);
      if (!asked.has(pgno) && !this.seen.has(pgno)) this.guesses.add(pgno);
      this.stats.pagesFetched++;
      if (this.shareable(pgno, page)) this.shared.set(this.sharedKey(this.locate(pgno), pgno), page);
    }
  }

  /** Forgets the prefetched pages SQLite has not read (a read fetches one again) and gives their bytes back. */
  private dropGuesses(): void {
    let bytes = 0;
    for (const pgno of this.guesses) {
      const page = this.local.get(pgno);
      if (page === undefined) continue;
      this.local.delete(pgno);
      bytes += page.byteLength;
    }
    this.guesses.clear();
    this.guessing = false;
    this.bytesIn -= bytes;
    const give = Math.min(bytes, this.reserved); // 0 without an isolate budget
    this.memory?.release(give, this.database);
    this.reserved -= give;
  }

  /** Gives the page memory back to the isolate and drops the request's pages. Idempotent. */
  close(): void {
    this.memory?.release(this.reserved, this.database);
    this.reserved = 0;
    this.local.clear();
  }

  /** Interior pages, page 1 and its children (the schema table's leaves): what every query of the database reads. */
  private shareable(pgno: number, page: Uint8Array): boolean {
    if (pgno === 1 || isInteriorPage(pgno, page)) return true;
    return this.walk.parent(pgno) === 1;
  }

  private overBudget(more: number): QueryError {
    return new QueryError('QUERY_TOO_EXPENSIVE', `the query needs more than ${this.maxPageBytes} bytes of pages`, {
      limit: 'page_bytes',
      value: this.maxPageBytes,
      pagesLoaded: this.local.size + more,
    });
  }

  /** Index into plan.files of the file that holds `pgno` at the plan's TXID, or ZERO_PAGE (never written, truncated away, lock page). */
  private locate(pgno: number): number {
    let f = this.located.get(pgno) ?? NOT_LOCATED;
    if (f !== NOT_LOCATED) return f;
    f = ZERO_PAGE;
    if (pgno !== lockPgno(this.pageSize)) {
      // The newest file holding the page wins; a copy above a later shrink's Commit reads as zeros (PageSource's rule).
      for (let i = this.indexes.length - 1; i >= 0; i--) {
        if (findPage(this.indexes[i], pgno) >= 0) {
          if (pgno <= this.ceilings[i]) f = i;
          break;
        }
      }
    }
    this.located.set(pgno, f);
    return f;
  }

  private sharedKey(file: number, pgno: number): string {
    return `${this.keys[file]}#${pgno}`;
  }
}

/** QUERY_BUSY for page memory refused by `limit`: transient, the running queries give it back as they end. */
function busy(limit: PageMemoryLimit, memory: PageMemory): QueryError {
  const message =
    limit === 'database_page_bytes'
      ? "this database's running queries hold their share of the isolate's page memory while other databases wait; retry shortly"
      : 'the running queries of this isolate hold all the page memory; retry shortly';
  return new QueryError('QUERY_BUSY', message, {
    limit,
    value: limit === 'database_page_bytes' ? memory.shareBytes : memory.maxBytes,
    retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
  });
}

/** Page 1 with the file format version numbers (bytes 18–19) set to 1 = rollback journal (WAL would need shared memory). */
export function patchHeader(page: Uint8Array): Uint8Array {
  if (page.length < 100 || (page[18] === 1 && page[19] === 1) || page[18] === 0) return page;
  const out = page.slice();
  out[18] = 1;
  out[19] = 1;
  return out;
}
