// Worker side of reads: one plan per request from the DO (0 for explicit TXIDs planned before), isolate caches.

import type { Context } from 'hono';
import type { PlanAnswer, PlanRequest } from '../durable/read-plan.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { formatHex64 } from '../ltx/checksum.ts';
import { PageIndexCache } from '../replication/page-index-cache.ts';
import { PageSource } from '../replication/page-source.ts';
import { type ReadPlan, isPlanStale, planFromJSON } from '../replication/plan.ts';
import { PointError, parseMinTXID, parsePoint } from '../replication/point.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { unwrap } from './rpc.ts';

/** Page indexes by immutable R2 key, shared by every request of this isolate (finished bytes only). */
const indexCache = new PageIndexCache();

/** Plans for explicit TXIDs never change (until retention deletes a file: then re-plan once). */
const planCache = new Map<string, ReadPlan>();
const PLAN_CACHE_ENTRIES = 1024;

export interface PlannedRead {
  plan: ReadPlan;
  /** [pgno → index into plan.files] from the DO, at the head. */
  hints: Map<number, number>;
  /** True when the point was an explicit TXID (responses are immutable). */
  explicit: boolean;
  source: PageSource;
  /** DO calls made for this request. */
  doCalls: number;
}

/** The point of a read from its query (`txid`, `at`, `min_txid`), as the DO's PlanRequest. */
export function readPoint(c: Context<AppEnv>): PlanRequest & { minTXID?: string } {
  try {
    const point = parsePoint({ txid: c.req.query('txid'), at: c.req.query('at') }, Date.now());
    const min = parseMinTXID(c.req.query('min_txid'));
    const req: PlanRequest & { minTXID?: string } = {};
    if (point.kind === 'txid') req.txid = formatHex64(point.txid);
    if (point.kind === 'at') req.at = point.at;
    if (min !== undefined) req.minTXID = formatHex64(min);
    return req;
  } catch (e) {
    if (e instanceof PointError) throw new ApiError('BAD_REQUEST', (e as Error).message);
    throw e;
  }
}

/** Gets a plan for `name` at the request's point, from the isolate cache or the DO. */
export async function planRead(c: Context<AppEnv>, name: string, pgnos?: number[]): Promise<PlannedRead> {
  const point = readPoint(c);
  const source = new PageSource(new R2ObjectStore(c.env.LTX_BUCKET), indexCache, { prefix: c.get('config').prefix });
  const cacheKey = point.txid !== undefined && point.minTXID === undefined ? `${name}@${point.txid}` : undefined;
  const cached = cacheKey ? planCache.get(cacheKey) : undefined;
  if (cached) return { plan: cached, hints: new Map(), explicit: true, source, doCalls: 0 };
  const answer: PlanAnswer = unwrap(await c.env.DATABASE.getByName(name).plan(name, { ...point, pgnos }));
  const plan = planFromJSON(answer.plan);
  if (cacheKey) {
    if (planCache.size >= PLAN_CACHE_ENTRIES) planCache.delete(planCache.keys().next().value!);
    planCache.set(cacheKey, plan);
  }
  return { plan, hints: new Map(answer.hints.map(([pgno, file]) => [pgno, file])), explicit: point.txid !== undefined, source, doCalls: 1 };
}

/**
 * Runs `read` over a plan; if a file of the plan was deleted meanwhile (compaction, retention),
 * drops the cached plan, plans again once and retries.
 */
export async function withPlan<T>(c: Context<AppEnv>, name: string, pgnos: number[] | undefined, read: (r: PlannedRead) => Promise<T>): Promise<T> {
  const first = await planRead(c, name, pgnos);
  try {
    return await read(first);
  } catch (e) {
    if (!isPlanStale(e)) throw e;
    planCache.delete(`${name}@${formatHex64(first.plan.txid)}`);
    const again = await planRead(c, name, pgnos);
    return read({ ...again, doCalls: again.doCalls + first.doCalls });
  }
}

/** Response headers of a read at a plan: the TXID read at, and caching by whether it can change. */
export function readHeaders(r: PlannedRead, etag?: string): Headers {
  const h = new Headers({ 'ltx-txid': formatHex64(r.plan.txid) });
  h.set('cache-control', r.explicit ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (etag) h.set('etag', `"${etag}"`);
  return h;
}

/** What this isolate's read caches did (each isolate has its own; GET …/stats shows the answering one). */
export function readCacheStats(): { pageIndexCache: ReturnType<PageIndexCache['stats']['valueOf']>; planCacheEntries: number } {
  return { pageIndexCache: { ...indexCache.stats }, planCacheEntries: planCache.size };
}

/** For tests: forget the isolate caches. */
export function resetReadCaches(): void {
  planCache.clear();
  indexCache.clear();
}
