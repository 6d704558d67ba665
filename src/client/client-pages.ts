// One statement's (or one write attempt's) pages in Node: the engine's PageFile over a PageStore, pinned to a TXID, b-tree sibling prefetch.

import { lockPgno } from '../ltx/index.ts';
import { BtreeWalk, DEFAULT_PREFETCH, type PrefetchOptions } from '../query/btree-walk.ts';
import type { EnginePages } from '../query/engine.ts';
import { QueryError } from '../query/query-error.ts';
import { patchHeader } from '../query/query-pages.ts';
import { ClientError } from './errors.ts';
import type { PageStore } from './page-store.ts';

/** Default most page bytes one query (or one write attempt) holds: every page a run reads must be local at once (fault-and-rerun). */
export const DEFAULT_MAX_QUERY_BYTES = 256 * 1024 * 1024;

export interface ClientPagesOptions {
  /** Default DEFAULT_MAX_QUERY_BYTES. */
  maxBytes?: number;
  prefetch?: PrefetchOptions;
}

/** A database view's state: the TXID read at, its shape, and the cache epoch that holds pages at that TXID. */
export interface PinnedState {
  readonly txid: bigint;
  readonly pageSize: number;
  /** Pages at `txid` (0 for a database that has no transaction yet). */
  readonly commit: number;
  readonly epoch: number;
}

export interface ClientPagesStats {
  /** Distinct pages SQLite read. */
  pagesRead: number;
  /** Pages fetched from the server for this run (prefetched siblings included). */
  pagesFetched: number;
  /** Fetch rounds (reruns). */
  fetchRounds: number;
}

/**
 * Implements the engine's pages for the Node client, like the Worker's QueryPages but over HTTP:
 * pages come from a per-run map, else the view's LRU (only while it still holds this TXID), else
 * they are noted missing and fetched in one batch with the b-tree siblings BtreeWalk suggests.
 * Page 1 is patched to rollback-journal mode (patchHeader) for SQLite; the LRU keeps server bytes.
 */
export class ClientPages implements EnginePages {
  readonly pageSize: number;
  readonly stats: ClientPagesStats = { pagesRead: 0, pagesFetched: 0, fetchRounds: 0 };
  protected readonly state: PinnedState;
  protected readonly store: PageStore;
  protected readonly local = new Map<number, Uint8Array>();
  protected readonly zero: Uint8Array;
  private readonly walk: BtreeWalk;
  private readonly seen = new Set<number>();
  private readonly missing = new Set<number>();
  private readonly maxBytes: number;
  private readonly lock: number;
  private bytesIn = 0;
  private failed: QueryError | undefined;
  private internal: unknown;

  constructor(store: PageStore, state: PinnedState, opts: ClientPagesOptions = {}) {
    this.store = store;
    this.state = state;
    this.pageSize = state.pageSize;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_QUERY_BYTES;
    this.walk = new BtreeWalk(Math.max(1, state.commit), opts.prefetch ?? DEFAULT_PREFETCH);
    this.zero = new Uint8Array(state.pageSize);
    this.lock = lockPgno(state.pageSize);
  }

  get pageCount(): number {
    return this.state.commit;
  }

  get missingCount(): number {
    return this.missing.size;
  }

  clearMissing(): void {
    this.missing.clear();
  }

  get failure(): QueryError | undefined {
    return this.failed;
  }

  get internalError(): unknown {
    return this.internal;
  }

  noteError(err: unknown): void {
    this.internal ??= err;
  }

  /** The base page at the pinned TXID (pages beyond its commit and the lock page read as zeros). */
  page(pgno: number): Uint8Array | undefined {
    let page = this.local.get(pgno);
    if (page === undefined) {
      if (pgno > this.state.commit || pgno === this.lock) return this.zero;
      const cached = this.store.get(pgno, this.state.epoch);
      if (cached === undefined) {
        this.missing.add(pgno);
        return undefined;
      }
      if (this.bytesIn + cached.byteLength > this.maxBytes) {
        this.failed ??= this.overBudget();
        return undefined;
      }
      page = pgno === 1 ? patchHeader(cached) : cached;
      this.bytesIn += page.byteLength;
      this.local.set(pgno, page);
    }
    if (!this.seen.has(pgno)) {
      this.seen.add(pgno);
      this.stats.pagesRead++;
      this.walk.onRead(pgno, page);
    }
    return page;
  }

  /** Fetches every missing page plus prefetched siblings at the pinned TXID, into this run's map and the LRU. */
  async fetchMissing(): Promise<void> {
    const want = [...this.missing];
    this.missing.clear();
    if (want.length === 0) return;
    let room = Math.floor((this.maxBytes - this.bytesIn) / this.pageSize) - want.length;
    if (room < 0) throw this.overBudget();
    const queued = new Set(want);
    // Siblings already in the LRU are not fetched again: the next run finds them there.
    const have = (p: number): boolean =>
      queued.has(p) || this.local.has(p) || p > this.state.commit || p === this.lock || this.store.has(p, this.state.epoch);
    for (const pgno of want) {
      for (const extra of this.walk.prefetchFor(pgno, have, room)) {
        queued.add(extra);
        room--;
      }
    }
    const pages = await this.store.fetch(this.state.txid, this.pageSize, [...queued]);
    this.stats.fetchRounds++;
    for (const pgno of want) {
      if (!pages.has(pgno)) {
        // The server says the page is beyond the commit we pinned: our picture of the database is wrong.
        throw new ClientError('BAD_RESPONSE', `page ${pgno} is missing at TXID ${this.state.txid} (commit ${this.state.commit})`);
      }
    }
    for (const [pgno, data] of pages) {
      this.stats.pagesFetched++;
      this.store.put(pgno, data, this.state.epoch);
      if (this.local.has(pgno)) continue;
      const page = pgno === 1 ? patchHeader(data) : data;
      this.bytesIn += page.byteLength;
      this.local.set(pgno, page);
    }
  }

  private overBudget(): QueryError {
    return new QueryError('QUERY_TOO_EXPENSIVE', `the statement needs more than ${this.maxBytes} bytes of pages (maxQueryBytes)`, {
      limit: 'page_bytes',
      value: this.maxBytes,
    });
  }
}
