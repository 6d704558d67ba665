// Random page reads at a plan: page indexes from file tails (cached), frames by coalesced range reads (ltx-format.md §4, §12).

import { decodePageFrame, decodePageIndexFromTail, fail, findPage, lockPgno, type PageIndex, pageIndexProbeRange } from '../ltx/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { FileScan } from './file-scan.ts';
import type { PageIndexCache } from './page-index-cache.ts';
import { type PlanFileRef, type ReadPlan, PlanError, PlanStaleError, planCeilings, planFileKey, validatePlan } from './plan.ts';

/** Frames at most this far apart in one file share a get: R2 bills per operation, 64 KiB more costs little. */
export const DEFAULT_MAX_COALESCE_GAP = 64 * 1024;
/** Largest frame range read at once (bytes): bounds a batch read's memory; a longer run is split. */
export const DEFAULT_MAX_RANGE_BYTES = 8 * 1024 * 1024;
/** R2 gets in flight at once: a Worker invocation has 6 simultaneous connections. */
export const DEFAULT_GET_CONCURRENCY = 6;

export interface PageSourceOptions {
  /** Storage prefix of the LTX keys (DESIGN §2), e.g. "db". */
  prefix: string;
  /** Frames of one file at most this many bytes apart are read with one ranged get. Default 64 KiB; 0 = only back-to-back frames. */
  maxCoalesceGap?: number;
  /** Most bytes one frame get may span. Default 8 MiB. */
  maxRangeBytes?: number;
  /** Most gets in flight at once. Default 6. */
  concurrency?: number;
  /**
   * The incarnation of the database read (ReadPlan.incarnation): part of every cache key, since a
   * database deleted and created again reuses its name, its TXIDs and so its R2 keys.
   */
  incarnation?: string;
  /** A cache of object ranges in front of the store (the Worker's edge cache); none by default. */
  rangeCache?: RangeCache;
}

/** Ranges of immutable objects, by key, offset and length (the caller scopes keys to one incarnation). */
export interface RangeCache {
  match(key: string, offset: number, length: number): Promise<{ bytes: Uint8Array; size: number } | undefined>;
  /** Stores the range (`size`: the whole object's size); never fails the read. */
  put(key: string, offset: number, length: number, bytes: Uint8Array, size: number): void;
}

/** Frame runs of one file in one read at most this many go through the range cache (page-index reads always do). */
export const MAX_CACHED_RUNS = 2;

/** The key a page index is cached under: the incarnation, then the R2 key (which alone repeats across re-creations). */
export function indexCacheKey(incarnation: string | undefined, r2Key: string): string {
  return `${incarnation ?? ''}/${r2Key}`;
}

/** What this source did, for tests, stats and benchmarks. */
export interface PageSourceStats {
  /** Ranged gets issued (index probes, index remainders, frame runs). */
  r2Gets: number;
  /** Page indexes read from storage (cache misses). */
  indexLoads: number;
  /** Bytes received from storage. */
  bytesRead: number;
  /** Pages returned by readPages (zero pages included). */
  pagesServed: number;
  /** Ranges found in the range cache (no R2 get). */
  rangeCacheHits: number;
}

/** An index as loaded, with the tail bytes it came in when it was just read (frames there need no get). */
export interface LoadedIndex {
  index: PageIndex;
  tail: Uint8Array | undefined;
  tailOffset: number;
}

/** Where one requested page lives: a plan file and the page's position in its index. */
interface Located {
  pgno: number;
  file: number;
  at: number;
}

/**
 * Reads pages of a database at a plan, pure over the ObjectStore port. Make one per request (it
 * holds that request's in-flight gets and counters) and share one PageIndexCache per isolate (it
 * holds plain typed arrays only; Workers forbid sharing I/O across requests).
 */
export class PageSource {
  readonly stats: PageSourceStats = { r2Gets: 0, indexLoads: 0, bytesRead: 0, pagesServed: 0, rangeCacheHits: 0 };
  private readonly store: ObjectStore;
  private readonly cache: PageIndexCache;
  private readonly prefix: string;
  private readonly maxGap: number;
  private readonly maxRange: number;
  private readonly limit: Limiter;
  private readonly incarnation: string | undefined;
  private readonly rangeCache: RangeCache | undefined;
  private readonly inflight = new Map<string, Promise<LoadedIndex>>();

  constructor(store: ObjectStore, cache: PageIndexCache, opts: PageSourceOptions) {
    this.store = store;
    this.cache = cache;
    this.prefix = opts.prefix;
    this.maxGap = opts.maxCoalesceGap ?? DEFAULT_MAX_COALESCE_GAP;
    this.maxRange = opts.maxRangeBytes ?? DEFAULT_MAX_RANGE_BYTES;
    this.limit = new Limiter(opts.concurrency ?? DEFAULT_GET_CONCURRENCY);
    this.incarnation = opts.incarnation;
    this.rangeCache = opts.rangeCache;
  }

  /**
   * The page index of one file. Cached by key; a miss reads the last 32 KiB (the whole file when it
   * is smaller) and, only when the index is longer than that, the rest of it: 1 get, rarely 2.
   */
  async indexOf(db: string, file: PlanFileRef): Promise<PageIndex> {
    return (await this.load(db, file)).index;
  }

  /**
   * Pages at the plan's TXID, by pgno in ascending order. For each pgno ≤ Commit the newest plan file
   * holding the page wins (`hints` may name it: pgno → index into plan.files, trusted when that file
   * holds the page); a page no file holds (grown, never written, or truncated away by a later
   * shrink) and the lock page are zeros; pgnos past Commit are left out. Costs, cold: one get per
   * page index read (the hinted file's only, or newest to oldest until every page is found) and one
   * get per run of nearby frames per file, files in parallel; frames inside a just-read tail are free.
   * Warm: one get per run. Throws PlanStaleError when a file is gone.
   */
  async readPages(plan: ReadPlan, pgnos: readonly number[], hints?: ReadonlyMap<number, number>): Promise<Map<number, Uint8Array>> {
    validatePlan(plan);
    const lock = lockPgno(plan.pageSize);
    const want = [...new Set(pgnos)].sort((a, b) => a - b);
    for (const p of want) if (!Number.isInteger(p) || p < 1) throw new RangeError(`invalid page number ${p}`);
    const pages = want.filter((p) => p <= plan.commit);
    const found: (Located | undefined)[] = new Array(pages.length);
    const loads: (Promise<LoadedIndex> | undefined)[] = new Array(plan.files.length);
    const loadFile = (i: number): Promise<LoadedIndex> => (loads[i] ??= this.load(plan.db, plan.files[i]));

    // Hinted pages: straight to their file; a wrong hint (page not there) falls back to the search.
    if (hints !== undefined) {
      const byFile = new Map<number, number[]>();
      pages.forEach((p, k) => {
        const f = hints.get(p);
        if (p !== lock && f !== undefined && Number.isInteger(f) && f >= 0 && f < plan.files.length) pushTo(byFile, f, k);
      });
      await Promise.all(
        [...byFile].map(async ([f, ks]) => {
          const { index } = await loadFile(f);
          for (const k of ks) {
            const at = findPage(index, pages[k]);
            if (at >= 0) found[k] = { pgno: pages[k], file: f, at };
          }
        }),
      );
    }

    // The rest: newest file first, a wave of indexes at a time, until every page is placed.
    let open = pages.map((_, k) => k).filter((k) => found[k] === undefined && pages[k] !== lock);
    for (let hi = plan.files.length - 1; hi >= 0 && open.length > 0; ) {
      const lo = Math.max(0, hi - this.limit.max + 1);
      const wave: number[] = [];
      for (let f = hi; f >= lo; f--) wave.push(f);
      const indexes = await Promise.all(wave.map(loadFile));
      for (let w = 0; w < wave.length; w++) {
        const { index } = indexes[w];
        open = open.filter((k) => {
          const at = findPage(index, pages[k]);
          if (at < 0) return true;
          found[k] = { pgno: pages[k], file: wave[w], at };
          return false;
        });
      }
      hi = lo - 1;
    }

    // Drop copies a later shrink truncated away, then fetch frames per file.
    const ceilings = planCeilings(plan);
    const byFile = new Map<number, Located[]>();
    for (const loc of found) {
      if (loc !== undefined && loc.pgno <= ceilings[loc.file]) pushTo(byFile, loc.file, loc);
    }
    const data = new Map<number, Uint8Array>();
    await Promise.all([...byFile].map(async ([f, locs]) => this.readFrames(plan, f, await loadFile(f), locs, data)));

    const out = new Map<number, Uint8Array>();
    for (const p of pages) out.set(p, data.get(p) ?? new Uint8Array(plan.pageSize));
    this.stats.pagesServed += out.size;
    return out;
  }

  /** One page at the plan's TXID, or undefined past Commit. See readPages. */
  async readPage(plan: ReadPlan, pgno: number, hint?: number): Promise<Uint8Array | undefined> {
    const hints = hint === undefined ? undefined : new Map([[pgno, hint]]);
    return (await this.readPages(plan, [pgno], hints)).get(pgno);
  }

  /**
   * One file's pages in pgno order without holding a connection open (for merges over many files):
   * its index (cached, or 1 get that for a file under 32 KiB is the whole file), then its frames in
   * ranged runs of at most `runBytes` (at least one frame each); `open()` checks the header, read with
   * the first run. Frames are checked one by one (LZ4, size, pgno); the file checksum is not.
   * Memory: one run and one page.
   */
  scanFile(db: string, file: PlanFileRef, runBytes: number): FileScan {
    return new FileScan(this, db, file, runBytes);
  }

  /** @internal FileScan's access to the loader. */
  loadIndex(db: string, file: PlanFileRef): Promise<LoadedIndex> {
    return this.load(db, file);
  }

  /** @internal FileScan's access to ranged reads. */
  readRange(db: string, file: PlanFileRef, offset: number, length: number): Promise<Uint8Array> {
    return this.getRange(planFileKey(this.prefix, db, file), file, offset, length);
  }

  private load(db: string, file: PlanFileRef): Promise<LoadedIndex> {
    const key = planFileKey(this.prefix, db, file);
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    const cacheKey = indexCacheKey(this.incarnation, key);
    const index = this.cache.get(cacheKey);
    if (index !== undefined) return Promise.resolve({ index, tail: undefined, tailOffset: Infinity });
    const p = this.fetchIndex(key, cacheKey, file).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * One exact get when the plan knows the index's length; else Litestream's rule (§12): read the
   * last 32 KiB, and if the index starts before that, the rest of it.
   */
  private async fetchIndex(key: string, cacheKey: string, file: PlanFileRef): Promise<LoadedIndex> {
    this.stats.indexLoads++;
    const probe = pageIndexProbeRange(file.size, file.indexBytes);
    let tail = await this.getRange(key, file, probe.offset, probe.length);
    let tailOffset = probe.offset;
    let r = decodePageIndexFromTail(tail, tailOffset, file.size);
    if ('needOffset' in r) {
      const head = await this.getRange(key, file, r.needOffset, tailOffset - r.needOffset);
      const joined = new Uint8Array(head.length + tail.length);
      joined.set(head);
      joined.set(tail, head.length);
      tail = joined;
      tailOffset = r.needOffset;
      r = decodePageIndexFromTail(tail, tailOffset, file.size);
      if ('needOffset' in r) fail('LTX_BAD_INDEX', 'page index moved between reads');
    }
    this.cache.set(cacheKey, r.index);
    return { index: r.index, tail, tailOffset };
  }

  /** Fetches and decodes the frames of `locs` (one file) into `out`, coalescing nearby frames. */
  private async readFrames(plan: ReadPlan, f: number, loaded: LoadedIndex, locs: Located[], out: Map<number, Uint8Array>): Promise<void> {
    const { index, tail, tailOffset } = loaded;
    const file = plan.files[f];
    const key = planFileKey(this.prefix, plan.db, file);
    const decode = (loc: Located, bytes: Uint8Array, at: number): void => {
      const frame = bytes.subarray(at, at + index.sizes[loc.at]);
      const page = decodePageFrame(frame, plan.pageSize);
      if (page.pgno !== loc.pgno)
        fail('LTX_BAD_INDEX', `${key}: frame at ${index.offsets[loc.at]} holds page ${page.pgno}, index says ${loc.pgno}`);
      out.set(loc.pgno, page.data);
    };
    locs.sort((a, b) => a.at - b.at);
    const runs: Located[][] = [];
    let runStart = 0;
    let runEnd = 0;
    for (const loc of locs) {
      const off = index.offsets[loc.at];
      const end = off + index.sizes[loc.at];
      if (tail !== undefined && off >= tailOffset) {
        decode(loc, tail, off - tailOffset);
        continue;
      }
      const last = runs[runs.length - 1];
      if (last !== undefined && off - runEnd <= this.maxGap && end - runStart <= this.maxRange) {
        last.push(loc);
        runEnd = end;
      } else {
        runs.push([loc]);
        runStart = off;
        runEnd = end;
      }
    }
    // A read of a few runs (a page, a handful) may be asked again as is: worth a cache lookup. The many
    // runs of a scattered batch will not be, and a lookup that misses costs about what the get does.
    const cacheRuns = runs.length <= MAX_CACHED_RUNS;
    await Promise.all(
      runs.map(async (run) => {
        const start = index.offsets[run[0].at];
        const lastLoc = run[run.length - 1];
        const bytes = await this.getRange(key, file, start, index.offsets[lastLoc.at] + index.sizes[lastLoc.at] - start, cacheRuns);
        for (const loc of run) decode(loc, bytes, index.offsets[loc.at] - start);
      }),
    );
  }

  /** One ranged get of exactly [offset, offset+length) of a plan file, checked against the plan. */
  private getRange(key: string, file: PlanFileRef, offset: number, length: number, cache = true): Promise<Uint8Array> {
    const rangeCache = cache ? this.rangeCache : undefined;
    return this.limit.run(async () => {
      const cached = await rangeCache?.match(key, offset, length);
      if (cached && cached.size === file.size) {
        this.stats.rangeCacheHits++;
        return cached.bytes;
      }
      this.stats.r2Gets++;
      const obj = await this.store.get(key, { offset, length });
      if (obj === null) throw new PlanStaleError(key);
      const bytes = await obj.bytes();
      this.stats.bytesRead += bytes.length;
      if (obj.size !== file.size) throw new PlanError('PLAN_INVALID', `${key} has ${obj.size} bytes, the plan says ${file.size}`);
      if (bytes.length !== length) throw new PlanError('PLAN_INVALID', `${key}: read ${bytes.length} bytes at ${offset}, wanted ${length}`);
      rangeCache?.put(key, offset, length, bytes, obj.size);
      return bytes;
    });
  }
}

function pushTo<T>(m: Map<number, T[]>, key: number, v: T): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [v]);
  else list.push(v);
}

/** Runs at most `max` async tasks at once, the rest in FIFO order. */
class Limiter {
  readonly max: number;
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`invalid concurrency ${max}`);
    this.max = max;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.queue.push(resolve)); // the finisher hands its slot over
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
