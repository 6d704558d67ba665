// Interior b-tree page parsing and the sibling prefetch policy; base64 and the shared page cache's budget.

import { describe, expect, it } from 'vitest';
import { BtreeWalk, INTERIOR_TABLE, LEAF_TABLE, interiorChildren } from '../../../src/query/btree-walk.ts';
import { patchHeader } from '../../../src/query/query-pages.ts';
import { SharedPageCache } from '../../../src/query/shared-page-cache.ts';
import { decodeBase64, encodeBase64 } from '../../../src/query/values.ts';
import { prng } from '../../helpers/prng.ts';

/** An interior table page (at `pgno`) whose cells point at `children`, the last one as the right-most pointer. */
function interior(pgno: number, children: number[], pageSize = 1024): Uint8Array {
  const page = new Uint8Array(pageSize);
  const v = new DataView(page.buffer);
  const h = pgno === 1 ? 100 : 0;
  const cells = children.length - 1;
  page[h] = INTERIOR_TABLE;
  v.setUint16(h + 3, cells);
  v.setUint32(h + 8, children[cells]);
  let at = pageSize;
  for (let i = 0; i < cells; i++) {
    at -= 8;
    v.setUint32(at, children[i]);
    page[at + 4] = i + 1; // the key varint
    v.setUint16(h + 12 + i * 2, at);
  }
  return page;
}

describe('interiorChildren', () => {
  it('reads left children in cell order and the right-most pointer; page 1 after the database header', () => {
    expect(interiorChildren(7, interior(7, [10, 11, 12, 13]), 100)).toEqual([10, 11, 12, 13]);
    expect(interiorChildren(1, interior(1, [2, 3]), 100)).toEqual([2, 3]);
  });

  it('drops children outside 1..pageCount; refuses leaves and broken cell pointers', () => {
    expect(interiorChildren(7, interior(7, [10, 500, 12]), 100)).toEqual([10, 12]);
    const leaf = new Uint8Array(1024);
    leaf[0] = LEAF_TABLE;
    expect(interiorChildren(7, leaf, 100)).toBeUndefined();
    const broken = interior(7, [10, 11]);
    new DataView(broken.buffer).setUint16(12, 1022);
    expect(interiorChildren(7, broken, 100)).toBeUndefined();
    const tooMany = interior(7, [10, 11]);
    new DataView(tooMany.buffer).setUint16(3, 60000);
    expect(interiorChildren(7, tooMany, 100)).toBeUndefined();
  });
});

describe('BtreeWalk.prefetchFor', () => {
  const children = Array.from({ length: 300 }, (_, i) => 10 + i);
  const walk = (): BtreeWalk => {
    const w = new BtreeWalk(1000);
    w.onRead(2, interior(2, children, 4096));
    return w;
  };
  const none = (): boolean => false;

  it('an in-order scan: nothing extra on the first miss under a parent, then 8, 16, 32, 64, 128 siblings ahead, until the parent is local', () => {
    const w = walk();
    const local = new Set<number>();
    const have = (p: number): boolean => local.has(p);
    const sizes: number[] = [];
    for (let next = 10; next < 310; ) {
      const got = w.prefetchFor(next, have, 1e9);
      if (got.length > 0) expect(got[0]).toBe(next + 1);
      sizes.push(got.length);
      for (const p of [next, ...got]) local.add(p);
      next = Math.max(next, ...got) + 1;
    }
    expect(sizes).toEqual([0, 8, 16, 32, 64, 128, 45]);
  });

  it('a backward walk prefetches backwards; have() and the budget are respected; unknown pages get nothing', () => {
    const w = walk();
    w.prefetchFor(300, none, 1e9);
    expect(w.prefetchFor(299, none, 1e9)).toEqual([298, 297, 296, 295, 294, 293, 292, 291]);
    expect(w.prefetchFor(301, none, 1e9)).toHaveLength(16); // forward again: random probes from here on
    expect(w.prefetchFor(200, (p) => p % 2 === 0, 3)).toEqual([199, 197, 195]);
    expect(w.prefetchFor(5000, none, 1e9)).toEqual([]);
    expect(w.parent(150)).toBe(2);
    expect(w.parent(5)).toBeUndefined();
  });
});

describe('BtreeWalk.prefetchFor, ordered walks that skip children', () => {
  const children = Array.from({ length: 300 }, (_, i) => 10 + i);
  const walk = (): BtreeWalk => {
    const w = new BtreeWalk(1000);
    w.onRead(2, interior(2, children, 4096));
    return w;
  };
  const none = (): boolean => false;

  it('no siblings while an ordered walk jumps over ≥ 64 unfetched children (rows found through an index)', () => {
    const w = walk();
    for (const p of [10, 80, 150, 220, 290]) expect(w.prefetchFor(p, none, 1e9), `miss ${p}`).toEqual([]);
    // Backwards too.
    const b = walk();
    for (const p of [300, 230, 160, 20]) expect(b.prefetchFor(p, none, 1e9), `miss ${p}`).toEqual([]);
  });

  it('the stride is the mean over the walk: one short jump does not restart the prefetch, a run of them does, with the window grown meanwhile', () => {
    const w = walk();
    expect(w.prefetchFor(10, none, 1e9)).toEqual([]);
    expect(w.prefetchFor(110, none, 1e9)).toEqual([]); // 99 unfetched
    expect(w.prefetchFor(150, none, 1e9)).toEqual([]); // 39: mean 69
    expect(w.prefetchFor(170, none, 1e9)).toEqual(Array.from({ length: 32 }, (_, i) => 171 + i)); // 19: mean 52; 4th miss
  });

  it('a change of direction means random probes: siblings again, as many as the misses so far call for', () => {
    const w = walk();
    for (const p of [10, 80, 150]) expect(w.prefetchFor(p, none, 1e9)).toEqual([]);
    expect(w.prefetchFor(140, none, 1e9)).toEqual(Array.from({ length: 32 }, (_, i) => 139 - i)); // 4th miss
    expect(w.prefetchFor(300, none, 1e9)).toHaveLength(64);
  });

  it('closer ordered probes (< 64 unfetched children apart) and children already local keep the prefetch', () => {
    const w = walk();
    const local = new Set<number>();
    const have = (p: number): boolean => local.has(p);
    w.prefetchFor(10, have, 1e9);
    local.add(10);
    // 73 jumps over 63 unfetched children: still prefetched.
    const got = w.prefetchFor(73, have, 1e9);
    expect(got).toEqual([74, 75, 76, 77, 78, 79, 80, 81]);
    for (const p of [73, ...got]) local.add(p);
    // 150 jumps over 82..149: 68 children, but 82..149 are local (fetched some other way).
    for (let p = 82; p <= 149; p++) local.add(p);
    expect(w.prefetchFor(150, have, 1e9)).toHaveLength(16);
  });
});

describe('values and caches', () => {
  it('base64 round-trips every length and refuses malformed text', () => {
    const r = prng(5);
    for (let n = 0; n < 70; n++) {
      const bytes = r.bytes(n);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(decodeBase64(text)).toEqual(bytes);
      expect(decodeBase64(text.replace(/=+$/, ''))).toEqual(bytes);
    }
    expect(encodeBase64(r.bytes(100_000))).toHaveLength(133_336);
    for (const bad of ['A', 'AB$=', 'AAAAA', 'A B=']) expect(decodeBase64(bad), bad).toBeUndefined();
  });

  it('page 1 in WAL mode reads as rollback journal (bytes 18–19 = 1); other pages untouched', () => {
    const p = new Uint8Array(4096);
    p[18] = 2;
    p[19] = 2;
    const patched = patchHeader(p);
    expect([patched[18], patched[19]]).toEqual([1, 1]);
    expect([p[18], p[19]]).toEqual([2, 2]); // a copy: the fetched bytes stay as they were
    const legacy = new Uint8Array(4096).fill(1, 18, 20);
    expect(patchHeader(legacy)).toBe(legacy);
  });

  it('the shared page cache stays within its budget, least recently used out first', () => {
    const c = new SharedPageCache(3 * (1024 + 128 + 20));
    for (const k of ['a#1', 'b#1', 'c#1']) c.set(k, new Uint8Array(1024));
    c.get('a#1');
    c.set('d#1', new Uint8Array(1024));
    expect(c.get('b#1')).toBeUndefined();
    expect(c.get('a#1')).toBeDefined();
    expect(c.stats.bytes).toBeLessThanOrEqual(c.maxBytes);
    expect(c.stats.evictions).toBe(1);
  });
});
