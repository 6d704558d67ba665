// A bounded, byte-accounted LRU of decoded page indexes, keyed by immutable R2 key (DESIGN §1: cached per isolate).

import type { PageIndex } from '../ltx/index.ts';

/** Default budget: 32 MiB holds the indexes of ~2M pages (16 bytes each), a quarter of a Worker's 128 MB. */
export const DEFAULT_PAGE_INDEX_CACHE_BYTES = 32 * 1024 * 1024;
/** Bytes charged per entry beyond its typed arrays: the key, three array objects, the map slot. */
export const PAGE_INDEX_ENTRY_OVERHEAD = 256;

export interface PageIndexCacheOptions {
  /** Budget in bytes for all entries (typed arrays + overhead). Default DEFAULT_PAGE_INDEX_CACHE_BYTES. */
  maxBytes?: number;
}

export interface PageIndexCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Bytes charged now (≤ maxBytes). */
  bytes: number;
  entries: number;
}

/** What one cached index is charged: its three typed arrays, the key (UTF-16) and a fixed overhead. */
export function pageIndexCost(key: string, index: PageIndex): number {
  return index.pgnos.byteLength + index.offsets.byteLength + index.sizes.byteLength + key.length * 2 + PAGE_INDEX_ENTRY_OVERHEAD;
}

interface Entry {
  index: PageIndex;
  cost: number;
}

/**
 * Keys never change meaning (an LTX key names immutable bytes), so entries are never stale, only
 * evicted: least recently used first, until the charged bytes fit the budget. An index larger than
 * the whole budget is not kept. Lookups into an index go through `findPage` (binary search).
 */
export class PageIndexCache {
  readonly maxBytes: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();
  private charged = 0;
  private counts = { hits: 0, misses: 0, evictions: 0 };

  constructor(opts: PageIndexCacheOptions = {}) {
    const maxBytes = opts.maxBytes ?? DEFAULT_PAGE_INDEX_CACHE_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`invalid page index cache budget ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** The index for `key`, marking it most recently used; counts a hit or a miss. */
  get(key: string): PageIndex | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.index;
  }

  /** True when `key` is cached; neither counts nor changes recency. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Caches `index` as the most recently used entry, evicting the least recently used ones to fit. */
  set(key: string, index: PageIndex): void {
    this.delete(key);
    const cost = pageIndexCost(key, index);
    if (cost > this.maxBytes) return;
    this.entries.set(key, { index, cost });
    this.charged += cost;
    for (const [k, e] of this.entries) {
      if (this.charged <= this.maxBytes) break;
      this.entries.delete(k);
      this.charged -= e.cost;
      this.counts.evictions++;
    }
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.charged -= e.cost;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.charged = 0;
  }

  get stats(): PageIndexCacheStats {
    return { ...this.counts, bytes: this.charged, entries: this.entries.size };
  }
}
