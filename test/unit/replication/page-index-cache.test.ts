// PageIndexCache: byte-accounted LRU — hits and misses, recency, eviction by bytes, oversized entries.

import { describe, expect, it } from 'vitest';
import type { PageIndex } from '../../../src/ltx/page-index.ts';
import {
  DEFAULT_PAGE_INDEX_CACHE_BYTES,
  PAGE_INDEX_ENTRY_OVERHEAD,
  PageIndexCache,
  pageIndexCost,
} from '../../../src/replication/page-index-cache.ts';

/** An index of `n` pages: 16 bytes of typed arrays per page. */
function index(n: number): PageIndex {
  return { pgnos: new Uint32Array(n).map((_, i) => i + 1), offsets: new Float64Array(n), sizes: new Uint32Array(n) };
}

describe('PageIndexCache', () => {
  it('charges typed arrays, the key and a fixed overhead', () => {
    expect(pageIndexCost('k', index(10))).toBe(160 + 2 + PAGE_INDEX_ENTRY_OVERHEAD);
    expect(new PageIndexCache().maxBytes).toBe(DEFAULT_PAGE_INDEX_CACHE_BYTES);
  });

  it('counts hits and misses and returns the same typed arrays', () => {
    const c = new PageIndexCache();
    const a = index(4);
    expect(c.get('a')).toBeUndefined();
    c.set('a', a);
    expect(c.get('a')).toBe(a);
    expect(c.has('b')).toBe(false);
    expect(c.stats).toEqual({ hits: 1, misses: 1, evictions: 0, bytes: pageIndexCost('a', a), entries: 1 });
  });

  it('evicts the least recently used entries until the bytes fit', () => {
    const one = pageIndexCost('a', index(100)); // 1600 + 2 + overhead
    const c = new PageIndexCache({ maxBytes: 3 * one });
    c.set('a', index(100));
    c.set('b', index(100));
    c.set('c', index(100));
    expect(c.stats.bytes).toBe(3 * one);
    c.get('a'); // b is now the least recently used
    c.set('d', index(100));
    expect([c.has('a'), c.has('b'), c.has('c'), c.has('d')]).toEqual([true, false, true, true]);
    expect(c.stats.evictions).toBe(1);
    // A bigger entry pushes out as many as it needs, oldest first (c, then a).
    c.set('e', index(200));
    expect([c.has('a'), c.has('c'), c.has('d'), c.has('e')]).toEqual([false, false, true, true]);
    expect(c.stats.evictions).toBe(3);
    expect(c.stats.bytes).toBeLessThanOrEqual(c.maxBytes);
    expect(c.stats.bytes).toBe(pageIndexCost('d', index(100)) + pageIndexCost('e', index(200)));
  });

  it('does not keep an index larger than the whole budget, and replacing a key re-charges it', () => {
    const c = new PageIndexCache({ maxBytes: 2000 });
    c.set('small', index(10));
    c.set('huge', index(1000));
    expect(c.has('huge')).toBe(false);
    expect(c.has('small')).toBe(true);
    c.set('small', index(20));
    expect(c.stats.bytes).toBe(pageIndexCost('small', index(20)));
    expect(c.delete('small')).toBe(true);
    expect(c.stats).toMatchObject({ bytes: 0, entries: 0 });
    c.set('x', index(1));
    c.clear();
    expect(c.stats).toMatchObject({ bytes: 0, entries: 0 });
  });
});
