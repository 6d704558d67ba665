// The edge cache (the Workers Cache API, one per Cloudflare location) in front of R2 and of whole answers at explicit TXIDs: only immutable bytes, under keys that name a database's incarnation.
//
// What is cached, for how long: ranges of LTX objects (page-index tails, frame runs) by
// (incarnation, R2 key, offset, length), and 200 answers of page and batch reads at an explicit TXID
// by (incarnation and retention generation, path, query), each for EDGE_TTL_SECONDS. Every such byte
// is immutable: an LTX key is never rewritten within an incarnation, and a TXID's pages never change.
// A stale entry cannot serve wrong bytes — it can only outlive its database or its TXID, unreachable:
// reads look up answers under the incarnation and generation the DO says are current (read-service.ts;
// a deleted or re-created database has another incarnation or none, a retention moves the
// generation, so a retired TXID is planned again and answers 410), and ranges only through a plan.
// Authorization runs before any lookup; keys never hold a token. The Cache API does nothing on
// *.workers.dev hostnames (a custom domain is needed), so there every read goes to R2.

import type { RangeCache } from '../replication/page-source.ts';

/** Entries live this long (s). The bytes never change; the bound only lets the cache forget deleted databases. */
export const EDGE_TTL_SECONDS = 7 * 86_400;
/** Answers larger than this are not stored whole (their ranges still are). */
export const MAX_CACHED_ANSWER_BYTES = 8 * 1024 * 1024;
/** Headers of a stored answer that keep what the Cache API would not: its status and its own Cache-Control. */
const STATUS_HEADER = 'x-ltx-edge-status';
const CACHE_CONTROL_HEADER = 'x-ltx-edge-cache-control';
/** A host no request ever names: cache keys only. */
const ORIGIN = 'https://edge-cache.ltx-edge.invalid';

type WaitUntil = (p: Promise<unknown>) => void;

/** The Cache API of this location, or undefined where there is none (Node). */
function defaultCache(): Cache | undefined {
  return typeof caches === 'undefined' ? undefined : (caches as unknown as { default: Cache }).default;
}

/** Ranges of R2 objects of one incarnation through the edge cache; lookups and stores never fail a read. */
export function edgeRangeCache(incarnation: string, waitUntil: WaitUntil, cache = defaultCache()): RangeCache | undefined {
  if (!cache) return undefined;
  const keyOf = (key: string, offset: number, length: number): string =>
    `${ORIGIN}/r/${incarnation}/${encodeURIComponent(key)}/${offset}-${length}`;
  return {
    async match(key, offset, length) {
      try {
        const hit = await cache.match(keyOf(key, offset, length));
        if (!hit) return undefined;
        const size = Number(hit.headers.get('x-object-size'));
        const bytes = new Uint8Array(await hit.arrayBuffer());
        return Number.isSafeInteger(size) && bytes.length === length ? { bytes, size } : undefined;
      } catch {
        return undefined;
      }
    },
    put(key, offset, length, bytes, size) {
      const res = new Response(bytes.slice(), {
        headers: { 'cache-control': `public, max-age=${EDGE_TTL_SECONDS}, immutable`, 'x-object-size': String(size) },
      });
      waitUntil(cache.put(keyOf(key, offset, length), res).catch(() => undefined));
    },
  };
}

/**
 * Whole answers of one incarnation and generation (`life`, read-caches.ts lifeKey), by the canonical
 * form of what they are (`what`: database, kind, TXID, pages) — never the raw URL, so junk parameters
 * or another spelling of a page or TXID cannot fill the cache with copies, and never the token.
 */
export interface AnswerCache {
  match(): Promise<Response | undefined>;
  /** Stores a 200 or 206 answer that says it is immutable; returns what to send (the same answer, its body teed when stored). */
  put(res: Response): Response;
}

export function edgeAnswerCache(life: string, what: string, waitUntil: WaitUntil, cache = defaultCache()): AnswerCache | undefined {
  if (!cache) return undefined;
  const key = `${ORIGIN}/a/${life}/${what}`;
  return {
    async match() {
      try {
        const hit = await cache.match(key);
        if (!hit) return undefined;
        const headers = new Headers(hit.headers);
        const status = Number(headers.get(STATUS_HEADER) ?? 200);
        headers.set('cache-control', headers.get(CACHE_CONTROL_HEADER) ?? 'no-cache');
        headers.delete(STATUS_HEADER);
        headers.delete(CACHE_CONTROL_HEADER);
        headers.set('x-ltx-edge-cache', 'hit');
        return new Response(hit.body, { status, headers });
      } catch {
        return undefined;
      }
    },
    put(res) {
      const length = Number(res.headers.get('content-length') ?? NaN);
      const cacheControl = res.headers.get('cache-control') ?? '';
      if ((res.status !== 200 && res.status !== 206) || !cacheControl.includes('immutable') || !(length <= MAX_CACHED_ANSWER_BYTES))
        return res;
      // The Cache API stores neither 206s nor, in front of a Worker, anything it should not share:
      // the copy is a 200 that remembers the status and the Cache-Control it was answered with.
      const stored = new Response(res.clone().body, { status: 200, headers: res.headers });
      stored.headers.set(STATUS_HEADER, String(res.status));
      stored.headers.set(CACHE_CONTROL_HEADER, cacheControl);
      stored.headers.set('cache-control', `public, max-age=${EDGE_TTL_SECONDS}, immutable`);
      waitUntil(cache.put(key, stored).catch(() => undefined));
      return res;
    },
  };
}
