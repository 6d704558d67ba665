// The read caches of one Worker isolate inside one memory budget: page indexes, shared b-tree pages, running queries' page memory, plans at explicit TXIDs, and each database's incarnation.
//
// Every key names something immutable: an incarnation (a database's life, see migrations/0005) plus
// an R2 key or a TXID. A name alone is not immutable — a database can be deleted and created again —
// so nothing is keyed by a name except the incarnation map, which says which life a name is in now.

import { PageMemory } from '../query/query-pages.ts';
import { SharedPageCache } from '../query/shared-page-cache.ts';
import { PageIndexCache } from '../replication/page-index-cache.ts';
import type { ReadPlan } from '../replication/plan.ts';

/** Bytes set aside inside the budget for the plan and incarnation maps (count-bounded, small entries). */
export const MAP_RESERVE_BYTES = 2 * 1024 * 1024;
/** Plans at explicit TXIDs kept per isolate (a plan is ~100 bytes plus ~80 per file). */
export const PLAN_CACHE_ENTRIES = 4_096;
/** Databases whose incarnation an isolate remembers. */
export const INCARNATION_ENTRIES = 16_384;
/** Shares of the rest of the budget: page indexes, shared b-tree pages, page memory of running queries. */
const SHARES = { indexes: 0.5, sharedPages: 0.25, queryMemory: 0.25 } as const;

/** A Map used as a least-recently-used cache of at most `max` entries. */
class LRU<V> {
  private readonly map = new Map<string, V>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, v);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Which incarnation a database name is in, its retention generation, and when the DO last said so (ms). */
export interface KnownIncarnation {
  incarnation: string;
  generation: number;
  checkedAt: number;
}

/** The part of a cache key that says which life of a database, and which of its retentions, an entry belongs to. */
export function lifeKey(k: { incarnation: string; generation: number }): string {
  return `${k.incarnation}.${k.generation}`;
}

export interface ReadCaches {
  readonly budgetBytes: number;
  readonly indexes: PageIndexCache;
  readonly sharedPages: SharedPageCache;
  readonly queryMemory: PageMemory;
  /** Plans at explicit TXIDs by `<incarnation>.<generation>@<name>@<txid>`. */
  readonly plans: LRU<ReadPlan>;
  readonly incarnations: LRU<KnownIncarnation>;
}

let current: ReadCaches | undefined;

/** The isolate's caches for a budget (built on first use; a new budget — a config change — starts them afresh). */
export function readCaches(budgetBytes: number): ReadCaches {
  if (current?.budgetBytes === budgetBytes) return current;
  const rest = Math.max(0, budgetBytes - MAP_RESERVE_BYTES);
  current = {
    budgetBytes,
    indexes: new PageIndexCache({ maxBytes: Math.floor(rest * SHARES.indexes) }),
    sharedPages: new SharedPageCache(Math.floor(rest * SHARES.sharedPages)),
    queryMemory: new PageMemory(Math.floor(rest * SHARES.queryMemory)),
    plans: new LRU(PLAN_CACHE_ENTRIES),
    incarnations: new LRU(INCARNATION_ENTRIES),
  };
  return current;
}

/** What this isolate's read caches hold (GET …/stats shows the answering isolate's). */
export function readCacheStats():
  | {
      budgetBytes: number;
      pageIndexCache: PageIndexCache['stats'];
      sharedPages: SharedPageCache['stats'];
      queryPageMemoryUsed: number;
      plans: number;
      incarnations: number;
    }
  | undefined {
  const c = current;
  if (!c) return undefined;
  return {
    budgetBytes: c.budgetBytes,
    pageIndexCache: { ...c.indexes.stats },
    sharedPages: c.sharedPages.stats,
    queryPageMemoryUsed: c.queryMemory.used,
    plans: c.plans.size,
    incarnations: c.incarnations.size,
  };
}

/** For tests and benchmarks: forget everything (cold reads again). */
export function resetReadCaches(): void {
  current = undefined;
}
