// SQLite b-tree page kinds and a per-query record of interior pages, which chooses sibling prefetches for misses.

/** B-tree page type bytes (sqlite.org/fileformat2.html §1.6). */
export const INTERIOR_INDEX = 0x02;
export const INTERIOR_TABLE = 0x05;
export const LEAF_INDEX = 0x0a;
export const LEAF_TABLE = 0x0d;

/** Where the b-tree page header starts: after the 100-byte database header on page 1. */
export function btreeHeaderOffset(pgno: number): number {
  return pgno === 1 ? 100 : 0;
}

/** True when the page's type byte says interior b-tree page (the bytes of any other page may say so by chance). */
export function isInteriorPage(pgno: number, page: Uint8Array): boolean {
  const t = page[btreeHeaderOffset(pgno)];
  return t === INTERIOR_INDEX || t === INTERIOR_TABLE;
}

/**
 * The child page numbers of an interior page in key order (each cell's left child, then the
 * right-most pointer), or undefined when the page is not a well-formed interior page. Child numbers
 * outside 1..pageCount are dropped. Bounds-checked: the bytes are untrusted.
 */
export function interiorChildren(pgno: number, page: Uint8Array, pageCount: number): number[] | undefined {
  if (!isInteriorPage(pgno, page)) return undefined;
  const h = btreeHeaderOffset(pgno);
  if (h + 12 > page.length) return undefined;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const cells = view.getUint16(h + 3);
  if (h + 12 + cells * 2 > page.length) return undefined;
  const out: number[] = [];
  const add = (child: number): void => {
    if (child >= 1 && child <= pageCount) out.push(child);
  };
  for (let i = 0; i < cells; i++) {
    const cell = view.getUint16(h + 12 + i * 2);
    if (cell + 4 > page.length) return undefined;
    add(view.getUint32(cell));
  }
  add(view.getUint32(h + 8));
  return out;
}

/** Sibling prefetch tuning (shared/query-engine.md: "fetch the next 8→128 children when the walk is in order"). */
export interface PrefetchOptions {
  /** Siblings fetched with the second miss under one parent; doubles with each further miss. Default 8. */
  first: number;
  /** Most siblings fetched with one miss. Default 128. */
  max: number;
}

export const DEFAULT_PREFETCH: PrefetchOptions = { first: 8, max: 128 };

interface Parent {
  children: number[];
  /** Misses among its children so far. */
  misses: number;
  /** Position of the last missed child, for the direction of the walk. */
  last: number;
  /** Direction of the misses so far: 0 before the second miss, then 1 (forward) or -1. */
  dir: number;
  /** False once the misses changed direction: random probes, not an ordered walk. */
  ordered: boolean;
  /** Steps between misses so far, and the unfetched children they jumped over (the walk's stride). */
  steps: number;
  skipped: number;
}

/**
 * What one query has learnt about the b-trees it walks. Every interior page the engine reads is
 * parsed once; a miss on one of its children is then placed (parent, position). The first miss
 * under a parent fetches only that page (a point lookup descends through one child per level);
 * the second fetches `first` more siblings in the direction of the walk, and each further miss
 * doubles that, up to `max` — an in-order scan then needs a handful of fetch rounds per parent,
 * and random probes into one subtree soon have the whole subtree local. Siblings are neighbours in
 * the LTX files (pages sorted by pgno), so they mostly arrive in the same ranged reads.
 *
 * One walk gets no siblings: an ordered one that jumps over `max / 2` or more children it never
 * fetched per miss on average, such as rows found through an index whose order follows the rowid
 * (a user's events by time, ~100 leaves apart in `npm run bench -- query`). It will not come back
 * for them, and even the largest window would reach one more probe at most: the siblings are
 * wasted (measured there: 3,085 pages fetched for 265 read, and no fewer rounds; ~2,100 with this
 * rule, as randomly spaced rows also make short steps, which still prefetch). Such a miss still
 * grows the window: probes that only look ordered at first (a join's users one after another, each
 * user's rowids ascending) turn out random at the first change of direction, which ends the
 * exception, and then prefetch as much as before (not counting them cost that join 5 of its 32
 * rounds). Closer ordered probes keep the prefetch, which trades pages for rounds (17 leaves
 * apart: 10× the pages, 40% fewer rounds).
 */
export class BtreeWalk {
  private readonly pageCount: number;
  private readonly opts: PrefetchOptions;
  private readonly parents = new Map<number, Parent>();
  private readonly parentOf = new Map<number, { parent: number; at: number }>();

  constructor(pageCount: number, opts: PrefetchOptions = DEFAULT_PREFETCH) {
    this.pageCount = pageCount;
    this.opts = opts;
  }

  /** Notes a page the engine read; interior pages are parsed the first time. */
  onRead(pgno: number, page: Uint8Array): void {
    if (this.parents.has(pgno)) return;
    const children = interiorChildren(pgno, page, this.pageCount);
    if (children === undefined) return;
    this.parents.set(pgno, { children, misses: 0, last: -1, dir: 0, ordered: true, steps: 0, skipped: 0 });
    children.forEach((child, at) => {
      if (!this.parentOf.has(child)) this.parentOf.set(child, { parent: pgno, at });
    });
  }

  /** The parent of `pgno` among the interior pages read so far. */
  parent(pgno: number): number | undefined {
    return this.parentOf.get(pgno)?.parent;
  }

  /**
   * Siblings worth fetching with the missed page `pgno` (not `pgno` itself), skipping those for
   * which `have` is true; at most `budget`. Updates the walk's state: call once per miss.
   */
  prefetchFor(pgno: number, have: (pgno: number) => boolean, budget: number): number[] {
    const place = this.parentOf.get(pgno);
    if (place === undefined) return [];
    const p = this.parents.get(place.parent)!;
    const dir = p.last < 0 || p.last === place.at ? 0 : p.last > place.at ? -1 : 1;
    if (dir !== 0 && p.dir !== 0 && dir !== p.dir) p.ordered = false;
    if (dir !== 0) {
      p.steps++;
      p.skipped += unfetchedBetween(p.children, p.last, place.at, have);
    }
    const sparse = p.ordered && dir !== 0 && p.skipped / p.steps >= this.opts.max / 2;
    const backwards = p.last > place.at;
    p.last = place.at;
    if (dir !== 0) p.dir = dir;
    p.misses++;
    if (sparse || p.misses < 2) return [];
    const want = Math.min(this.opts.max, this.opts.first * 2 ** (p.misses - 2), budget);
    const out: number[] = [];
    const n = p.children.length;
    // In the walk's direction first, then wrapping around: random probes fill the whole parent.
    for (let k = 1; k < n && out.length < want; k++) {
      const child = p.children[(((backwards ? place.at - k : place.at + k) % n) + n) % n];
      if (child !== pgno && !have(child)) out.push(child);
    }
    return out;
  }
}

/** Children strictly between positions `a` and `b` that are not local (`have` false). */
function unfetchedBetween(children: number[], a: number, b: number, have: (pgno: number) => boolean): number {
  let n = 0;
  for (let k = Math.min(a, b) + 1; k < Math.max(a, b); k++) if (!have(children[k])) n++;
  return n;
}
