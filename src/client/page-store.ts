// One database view's pages in Node: an LRU of server bytes with a byte cap, batched fetches at a pinned TXID, and commit discovery.

import { MAX_BATCH_PAGES, type ReadPoint } from '../api/wire.ts';
import type { ApiClient } from '../remote/http-client.ts';
import type { BatchPage } from '../replication/page-batch.ts';
import { formatTXID } from '../ltx/index.ts';
import { SharedPageCache } from '../query/shared-page-cache.ts';
import { ClientError } from './errors.ts';

/** Default LRU budget of a database view: 32 MiB (8,192 pages of 4 KiB), counted in page bytes plus a small per-entry overhead. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** Longest `pgno=` list per request (characters): keeps URLs far below common 8–16 KiB limits. */
const MAX_PGNO_LIST_CHARS = 4000;
/** Batch requests in flight at once for one fetch. */
const FETCH_CONCURRENCY = 4;
/** Probe points per request while searching for the commit of an old TXID. */
const COMMIT_PROBES = 32;

/** What the pages of one view cost, for tests and callers that watch their traffic. */
export interface PageStoreStats {
  /** Batch requests sent (`GET …/pages?pgno=`). */
  requests: number;
  /** Pages received. */
  pagesFetched: number;
  /** Pages found in the LRU. */
  cacheHits: number;
  /** Entries dropped by refresh (changed pages) — not counting evictions. */
  invalidated: number;
  /** Pages read from the hydrated local file instead of the server. */
  localReads: number;
}

/** Pages read synchronously from a local copy of the database (hydration): page `pgno`, 1..commit, lock page aside. */
export interface LocalPages {
  readPage(pgno: number): Uint8Array;
}

/** What fetchPagesAt tells after each batch arrives. */
export type BatchListener = (pages: readonly BatchPage[]) => void;

/**
 * The LRU and the fetch path of one database view. Entries are the server's bytes of a page at the
 * view's current TXID, keyed by page number; `epoch` names that state: it advances whenever the
 * cache moves to another TXID (refresh, a local commit), and a reader pinned to an older epoch
 * neither reads nor fills the cache — it fetches at its own TXID instead.
 */
export class PageStore {
  readonly db: string;
  readonly cache: SharedPageCache;
  readonly stats: PageStoreStats = { requests: 0, pagesFetched: 0, cacheHits: 0, invalidated: 0, localReads: 0 };
  private readonly api: ApiClient;
  private gen = 0;
  /** A local copy holding the database at the TXID of `epoch`: read instead of fetching while the cache is at that epoch. */
  private local: { pages: LocalPages; epoch: number } | undefined;

  constructor(api: ApiClient, db: string, cacheBytes = DEFAULT_CACHE_BYTES) {
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0)
      throw new ClientError('BAD_REQUEST', `cacheBytes must be a non-negative integer, got ${cacheBytes}`);
    this.api = api;
    this.db = db;
    this.cache = new SharedPageCache(cacheBytes);
  }

  get epoch(): number {
    return this.gen;
  }

  /**
   * The page at `epoch`'s TXID from the cache or, when a local copy holds that TXID, from the copy
   * (not cached: the file is as near); undefined when neither has it (also when the cache has moved on).
   */
  get(pgno: number, epoch: number): Uint8Array | undefined {
    if (epoch !== this.gen) return undefined;
    const page = this.cache.get(String(pgno));
    if (page !== undefined) {
      this.stats.cacheHits++;
      return page;
    }
    if (this.local?.epoch !== epoch) return undefined;
    this.stats.localReads++;
    return this.local.pages.readPage(pgno);
  }

  /** True when the page at `epoch`'s TXID is cached or local (no stats, recency unchanged). */
  has(pgno: number, epoch: number): boolean {
    return epoch === this.gen && (this.local?.epoch === epoch || this.cache.has(String(pgno)));
  }

  /**
   * Serves pages of `epoch`'s TXID from `pages` from now on, until the cache moves to another epoch
   * or detachLocal(). Pages 1..commit of that TXID must all be there. Ignored when `epoch` is not current.
   */
  attachLocal(pages: LocalPages, epoch: number): void {
    if (epoch === this.gen) this.local = { pages, epoch };
  }

  detachLocal(): void {
    this.local = undefined;
  }

  /** True while a local copy serves the current epoch. */
  get servesLocally(): boolean {
    return this.local?.epoch === this.gen;
  }

  /** Caches a page read at `epoch`'s TXID; ignored when the cache has moved on since. */
  put(pgno: number, page: Uint8Array, epoch: number): void {
    if (epoch === this.gen) this.cache.set(String(pgno), page);
  }

  /**
   * Moves the cache to another TXID: drops `changed` pages (every page for 'all') and pages beyond
   * `commit`; the rest stay valid. Returns the new epoch.
   */
  advance(changed: readonly number[] | 'all', commit: number): number {
    this.gen++;
    if (changed === 'all') {
      this.stats.invalidated += this.cache.stats.entries;
      this.cache.clear();
      return this.gen;
    }
    const drop = new Set(changed.map(String));
    for (const key of [...this.cache.keys()]) if (Number(key) > commit) drop.add(key);
    for (const key of drop) if (this.cache.delete(key)) this.stats.invalidated++;
    return this.gen;
  }

  /**
   * Fetches `pgnos` at exactly `txid` through the batch endpoint: chunks of ≤ 4,096 pages and a
   * bounded URL, a few in flight. Pages beyond the commit at `txid` are absent from the answer.
   * BAD_RESPONSE when the server read at another TXID.
   */
  async fetch(txid: bigint, pageSize: number, pgnos: readonly number[]): Promise<Map<number, Uint8Array>> {
    return fetchPagesAt(this.api, this.db, txid, pageSize, chunkPgnos(pgnos), {
      onBatch: (pages) => {
        this.stats.requests++;
        this.stats.pagesFetched += pages.length;
      },
    });
  }

  /** Page 1 at a point (head, txid or at) and the TXID the server resolved the point to. */
  async firstPage(point: ReadPoint, pageSize: number): Promise<{ txid: bigint; page: Uint8Array | undefined }> {
    this.stats.requests++;
    const got = await this.api.readPages(this.db, [1], pageSize, point);
    this.stats.pagesFetched += got.pages.length;
    return { txid: got.txid, page: got.pages[0]?.data };
  }

  /**
   * The commit (database size in pages) at `txid`, which only the head's info states outright: the
   * batch endpoint leaves out pages beyond the commit, so the largest page it returns is the commit.
   * `hint` (page 1's in-header size) is checked with one request; otherwise a galloping search with
   * COMMIT_PROBES probes per request.
   */
  async findCommit(txid: bigint, pageSize: number, hint: number | undefined): Promise<number> {
    let lo = 1; // known present (page 1 was)
    let hi: number | undefined; // known absent
    const probe = async (points: number[]): Promise<void> => {
      const want = [...new Set(points.filter((p) => p > lo && (hi === undefined || p < hi) && p <= 0xffffffff))];
      if (want.length === 0) return;
      const got = await this.fetch(txid, pageSize, want);
      for (const p of want) {
        if (got.has(p)) lo = Math.max(lo, p);
        else if (hi === undefined || p < hi) hi = p;
      }
    };
    if (hint !== undefined && hint >= 1) await probe([hint, hint + 1]);
    while (hi === undefined) {
      if (lo >= 0xffffffff) return lo;
      await probe(Array.from({ length: COMMIT_PROBES }, (_, i) => Math.min(0xffffffff, lo * 2 ** (i + 1))));
      if (hi === undefined && lo === 0xffffffff) return lo;
    }
    while (hi - lo > 1) {
      const step = (hi - lo) / (COMMIT_PROBES + 1);
      await probe(Array.from({ length: COMMIT_PROBES }, (_, i) => Math.floor(lo + step * (i + 1))));
    }
    return lo;
  }
}

/**
 * Fetches `chunks` (each one batch request, as chunkPgnos makes them) at exactly `txid`, a few in
 * flight, into one map. Pages beyond the commit at `txid` are absent from it. BAD_RESPONSE when the
 * server read at another TXID; the ApiClient's errors otherwise (an aborted `signal` stops the rest).
 */
export async function fetchPagesAt(
  api: ApiClient,
  db: string,
  txid: bigint,
  pageSize: number,
  chunks: readonly (readonly number[])[],
  opts: { signal?: AbortSignal; onBatch?: BatchListener } = {},
): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      opts.signal?.throwIfAborted();
      const chunk = chunks[next++];
      const got = await api.readPages(db, chunk, pageSize, { txid }, opts.signal);
      if (got.txid !== txid)
        throw new ClientError('BAD_RESPONSE', `asked for pages at TXID ${formatTXID(txid)}, got TXID ${formatTXID(got.txid)}`);
      for (const p of got.pages) out.set(p.pgno, p.data);
      opts.onBatch?.(got.pages);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, chunks.length) }, worker));
  return out;
}

/** Sorted, deduplicated page numbers in chunks the batch endpoint takes: ≤ 4,096 pages, a `pgno=` list (runs as ranges) ≤ MAX_PGNO_LIST_CHARS. */
export function chunkPgnos(pgnos: readonly number[]): number[][] {
  const sorted = [...new Set(pgnos)].sort((a, b) => a - b);
  const part = (a: number, b: number): number => (a === b ? String(a).length : String(a).length + 1 + String(b).length);
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let done = 0; // characters of the finished parts, commas included
  let runStart = 0;
  for (const p of sorted) {
    const prev = chunk[chunk.length - 1];
    const extends_ = chunk.length > 0 && p === prev + 1;
    const chars = chunk.length === 0 ? part(p, p) : extends_ ? done + part(runStart, p) : done + part(runStart, prev) + 1 + part(p, p);
    if (chunk.length > 0 && (chunk.length >= MAX_BATCH_PAGES || chars > MAX_PGNO_LIST_CHARS)) {
      chunks.push(chunk);
      chunk = [];
    }
    if (chunk.length === 0) {
      done = 0;
      runStart = p;
    } else if (!extends_) {
      done += part(runStart, prev) + 1;
      runStart = p;
    }
    chunk.push(p);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
