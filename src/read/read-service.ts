// The Worker's one read path: a request's point, its plan (the isolate's cache or the DO), one re-plan when a file went away, and pages through the isolate's caches.
//
// Reads at the head make one DO call (the plan), which also tells the isolate the database's
// incarnation, or that it no longer exists. A plan at an explicit TXID is immutable and cached under
// its incarnation, but its database may be deleted and created again: the isolate asks the DO for
// the current incarnation (a cheap call, no plan) when it last heard it INCARNATION_CHECK_MS ago or
// more. So a deleted database stops being served at once in the isolate that deleted it (and in any
// that read it since), and within INCARNATION_CHECK_MS everywhere else.

import type { Context } from 'hono';
import type { PlanAnswer, PlanRequest } from '../durable/read-plan.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { formatTXID } from '../ltx/index.ts';
import { PageSource } from '../replication/page-source.ts';
import { PlanStaleError, type ReadPlan, isPlanStale, planFileKey } from '../replication/plan.ts';
import { parseMinTXID, parsePoint } from '../replication/point.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { unwrap } from '../routes/rpc.ts';
import { edgeAnswerCache, edgeRangeCache } from './edge-cache.ts';
import { type KnownIncarnation, type ReadCaches, lifeKey, readCaches } from './read-caches.ts';

/** Cache-Control of a token-authenticated answer at an explicit TXID. */
export const IMMUTABLE_PRIVATE = 'private, max-age=31536000, immutable';

/** How long an isolate trusts the incarnation it last heard for a name before asking the DO again (ms). */
export const INCARNATION_CHECK_MS = 1_000;

/** Where to read: the head (nothing), a TXID or a time; `minTXID` waits for the head to reach it. */
export type ReadPoint = PlanRequest & { minTXID?: string };

export interface PlannedRead {
  plan: ReadPlan;
  /** [pgno → index into plan.files] from the DO, at the head. */
  hints: Map<number, number>;
  /** True when the point was an explicit TXID (the answer is immutable). */
  explicit: boolean;
  /** Pages of this plan through the isolate's caches. */
  source: PageSource;
  /** DO calls made for this read so far. */
  doCalls: number;
}

/** The point in a request's query string (`txid`, `at`, `min_txid`); PointError (400) when malformed. */
export function queryPoint(c: Context<AppEnv>): Promise<ReadPoint> {
  return toReadPoint(c.req.query('txid'), c.req.query('at'), c.req.query('min_txid'));
}

/** A point from its three selectors as the client wrote them. */
export async function toReadPoint(txid: string | undefined, at: string | undefined, minTXID: string | undefined): Promise<ReadPoint> {
  const point = await parsePoint({ txid, at }, Date.now());
  const min = parseMinTXID(minTXID);
  const req: ReadPoint = {};
  if (point.kind === 'txid') req.txid = formatTXID(point.txid);
  if (point.kind === 'at') req.at = point.at;
  if (min !== undefined) req.minTXID = formatTXID(min);
  return req;
}

/** One read of one database, made per request. */
export class ReadService {
  readonly name: string;
  readonly caches: ReadCaches;
  private readonly c: Context<AppEnv>;
  private readonly now: () => number;

  constructor(c: Context<AppEnv>, name: string, now: () => number = Date.now) {
    this.c = c;
    this.name = name;
    this.caches = readCaches(c.get('config').readCacheBytes);
    this.now = now;
  }

  /** Forgets what this isolate knows of `name` (after a DELETE through it): the next read asks the DO. */
  static forget(c: Context<AppEnv>, name: string): void {
    readCaches(c.get('config').readCacheBytes).incarnations.delete(name);
  }

  /** Pages of `plan` through the isolate's page-index cache and the edge cache, keyed by its incarnation. */
  source(plan: ReadPlan): PageSource {
    const rangeCache = plan.incarnation ? edgeRangeCache(plan.incarnation, (p) => waitUntil(this.c, p)) : undefined;
    return new PageSource(new R2ObjectStore(this.c.env.LTX_BUCKET), this.caches.indexes, {
      prefix: this.c.get('config').prefix,
      incarnation: plan.incarnation,
      rangeCache,
    });
  }

  /**
   * `read`, with its answer at an explicit TXID through the edge cache under `what` — what the
   * answer is, canonically (`page?pgno=5`), never the URL: another spelling of a page or TXID, or a
   * junk parameter, must not make another copy. Looked up under the
   * incarnation this isolate heard within INCARNATION_CHECK_MS before anything else, or else under
   * the plan's once planned (the DO call a cold read makes anyway); stored when it is a 200 that says
   * it is immutable. Any other point: just `read`.
   */
  async answer(
    what: string,
    point: ReadPoint,
    pgnos: number[] | undefined,
    produce: (r: PlannedRead) => Promise<Response>,
  ): Promise<Response> {
    if (point.txid === undefined || point.minTXID !== undefined) return this.read(point, pgnos, produce);
    const key = `${encodeURIComponent(this.name)}@${point.txid}/${what}`;
    const cacheFor = (life: string) => edgeAnswerCache(life, key, (p) => waitUntil(this.c, p));
    const known = this.caches.incarnations.get(this.name);
    const fresh = known !== undefined && this.now() - known.checkedAt < INCARNATION_CHECK_MS;
    if (fresh) {
      const hit = await cacheFor(lifeKey(known))?.match();
      if (hit) return hit;
    }
    return this.read(point, pgnos, async (r) => {
      const life = planLife(r.plan);
      const cache = life ? cacheFor(life) : undefined;
      if (!fresh || lifeKey(known) !== life) {
        const hit = await cache?.match();
        if (hit) return hit;
      }
      const res = await produce(r);
      return cache ? cache.put(res) : res;
    });
  }

  /**
   * A plan at `point`: for an explicit TXID, the cached one when the database is still in the
   * incarnation it was made for; else the DO's. When the isolate last heard the incarnation
   * INCARNATION_CHECK_MS ago or more, the DO is asked again (`check`, which the caller awaits before
   * answering: it runs beside the page reads, not before them).
   */
  async plan(point: ReadPoint, pgnos?: number[], replan = false): Promise<PlannedRead & { check?: Promise<void> }> {
    const explicit = point.txid !== undefined;
    const cacheable = explicit && point.minTXID === undefined;
    if (cacheable && !replan) {
      const known = this.caches.incarnations.get(this.name);
      const plan = known && this.caches.plans.get(planKey(lifeKey(known), this.name, point.txid!));
      if (plan) {
        const stale = this.now() - known.checkedAt >= INCARNATION_CHECK_MS;
        return {
          plan,
          hints: new Map(),
          explicit,
          source: this.source(plan),
          doCalls: stale ? 1 : 0,
          ...(stale ? { check: this.checkIncarnation(known) } : {}),
        };
      }
    }
    let answer: PlanAnswer;
    try {
      answer = unwrap(await this.c.env.DATABASE.getByName(this.name).plan(this.name, { ...point, pgnos }));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NOT_FOUND') this.caches.incarnations.delete(this.name);
      throw e;
    }
    const { plan } = answer;
    const known: KnownIncarnation = { incarnation: plan.incarnation ?? '', generation: plan.generation ?? 0, checkedAt: this.now() };
    this.caches.incarnations.set(this.name, known);
    if (cacheable) this.caches.plans.set(planKey(lifeKey(known), this.name, point.txid!), plan);
    return { plan, hints: answer.hints, explicit, source: this.source(plan), doCalls: 1 };
  }

  /**
   * Rejects with 404 when the database no longer exists, PlanStaleError (plan again) when it is
   * another incarnation, or retention has removed files, since `expected` was heard.
   */
  private async checkIncarnation(expected: KnownIncarnation): Promise<void> {
    const now = await this.c.env.DATABASE.getByName(this.name).readIdentity();
    if (now === undefined) {
      this.caches.incarnations.delete(this.name);
      throw new ApiError('NOT_FOUND', `database ${this.name} does not exist`);
    }
    this.caches.incarnations.set(this.name, { ...now, checkedAt: this.now() });
    if (lifeKey(now) !== lifeKey(expected)) throw new PlanStaleError(`${this.name}, ${lifeKey(expected)}`);
  }

  /**
   * Runs `read` over a plan at `point`; if a file of the plan was deleted meanwhile (compaction,
   * retention, a DELETE), plans again once — from the DO — and retries.
   */
  async read<T>(point: ReadPoint, pgnos: number[] | undefined, read: (r: PlannedRead) => Promise<T>): Promise<T> {
    const first = await this.plan(point, pgnos);
    try {
      if (!first.check) return await read(first);
      const [result] = await Promise.all([read(first), first.check]);
      return result;
    } catch (e) {
      if (!isPlanStale(e)) throw e;
      const again = await this.plan(point, pgnos, true);
      return read({ ...again, doCalls: again.doCalls + first.doCalls });
    }
  }
}

/** The incarnation and generation a plan was made in, as a cache-key part (undefined for plans from before incarnations). */
function planLife(plan: ReadPlan): string | undefined {
  return plan.incarnation ? lifeKey({ incarnation: plan.incarnation, generation: plan.generation ?? 0 }) : undefined;
}

function planKey(life: string, name: string, txid: string): string {
  return `${life}@${name}@${txid}`;
}

/**
 * Checks that every file of the plan is still in storage, before a streamed answer sends its status:
 * a file retention removed makes the read plan again (PlanStaleError), a failing store answers 503,
 * instead of a body cut off mid-way.
 */
export async function ensurePlanFiles(c: Context<AppEnv>, plan: ReadPlan): Promise<void> {
  const store = new R2ObjectStore(c.env.LTX_BUCKET);
  const prefix = c.get('config').prefix;
  await Promise.all(
    plan.files.map(async (f) => {
      const key = planFileKey(prefix, plan.db, f);
      if (!(await store.head(key))) throw new PlanStaleError(key);
    }),
  );
}

/**
 * Response headers of a token-authenticated read: the TXID read at, and caching by whether it can
 * change — `private`, so that no shared cache in front of the Worker keeps an answer that needed a
 * token (RFC 9111 §3.5 lets `public` override Authorization). With `etagOf`
 * (what the answer is of, e.g. a page number), an ETag naming the database's incarnation, the TXID
 * and that: names repeat across a DELETE and re-creation, incarnations do not.
 */
export function readHeaders(r: PlannedRead, etagOf?: string | number): Headers {
  const h = new Headers({ 'ltx-txid': formatTXID(r.plan.txid) });
  h.set('cache-control', r.explicit ? IMMUTABLE_PRIVATE : 'no-cache');
  if (etagOf !== undefined) h.set('etag', `"${r.plan.incarnation ?? r.plan.db}-${formatTXID(r.plan.txid)}-${etagOf}"`);
  return h;
}

/**
 * `body` as a response body of exactly `length` bytes: the runtime drops a hand-set Content-Length on
 * a plain stream, a FixedLengthStream keeps it (and fails the response if `body` ever has another length).
 */
export function fixedLengthBody(c: Context<AppEnv>, length: number, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const fixed = new FixedLengthStream(length);
  waitUntil(
    c,
    body.pipeTo(fixed.writable).catch(() => undefined),
  );
  return fixed.readable;
}

/** ctx.waitUntil when the request has an execution context (under `app.request` in tests and benches it has none: the work just runs). */
export function waitUntil(c: Context<AppEnv>, p: Promise<unknown>): void {
  let ctx: ExecutionContext;
  try {
    ctx = c.executionCtx as ExecutionContext;
  } catch {
    return;
  }
  ctx.waitUntil(p);
}
