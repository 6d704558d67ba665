// Per-isolate LRU of finished page bytes (interior b-tree pages, page 1, schema pages), keyed by the immutable LTX file that holds them.

/** Default budget: 16 MiB, e.g. 4,096 interior pages of 4 KiB — the upper levels of many large b-trees. */
export const DEFAULT_SHARED_PAGE_CACHE_BYTES = 16 * 1024 * 1024;
/** Bytes charged per entry beyond the page: the key string, the map slot. */
const ENTRY_OVERHEAD = 128;

export interface SharedPageCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

/**
 * Keys name immutable bytes (`<LTX key>#<pgno>`: a page as one file holds it), so entries never go
 * stale and the same entry serves every TXID whose plan reads the page from that file. Only
 * finished bytes are shared between requests, never a fetch in flight (Workers cancel a request's
 * I/O when it ends and kill a request that waits on another's). Values are treated as read-only.
 */
export class SharedPageCache {
  readonly maxBytes: number;
  private readonly entries = new Map<string, Uint8Array>();
  private charged = 0;
  private counts = { hits: 0, misses: 0, evictions: 0 };

  constructor(maxBytes = DEFAULT_SHARED_PAGE_CACHE_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`invalid shared page cache budget ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  get(key: string): Uint8Array | undefined {
    const page = this.entries.get(key);
    if (page === undefined) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.entries.delete(key);
    this.entries.set(key, page);
    return page;
  }

  set(key: string, page: Uint8Array): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.charged -= cost(key, old);
    }
    const c = cost(key, page);
    if (c > this.maxBytes) return;
    this.entries.set(key, page);
    this.charged += c;
    for (const [k, v] of this.entries) {
      if (this.charged <= this.maxBytes) break;
      this.entries.delete(k);
      this.charged -= cost(k, v);
      this.counts.evictions++;
    }
  }

  /** Drops one entry (for callers whose keys are not immutable, e.g. the Node client's cache at a moving head). */
  delete(key: string): boolean {
    const old = this.entries.get(key);
    if (old === undefined) return false;
    this.entries.delete(key);
    this.charged -= cost(key, old);
    return true;
  }

  /** True when `key` is cached; unlike get(), counts nothing and leaves its recency alone. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Keys, least recently used first. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  clear(): void {
    this.entries.clear();
    this.charged = 0;
  }

  get stats(): SharedPageCacheStats {
    return { ...this.counts, bytes: this.charged, entries: this.entries.size };
  }
}

function cost(key: string, page: Uint8Array): number {
  return page.byteLength + key.length * 2 + ENTRY_OVERHEAD;
}
