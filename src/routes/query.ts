// POST /v1/databases/:db/query (DESIGN §4): one read-only SQL statement at a point in time, WASM SQLite over the page source.

import SQLITE_WASM from '@journeyapps/wa-sqlite/dist/wa-sqlite.wasm';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { formatHex64, formatTXID } from '../ltx/index.ts';
import { DEFAULT_QUERY_LIMITS, type QueryOutput, isolateEngine } from '../query/engine.ts';
import { QueryPages } from '../query/query-pages.ts';
import type { Params } from '../query/values.ts';
import { type ReadPoint, ReadService, toReadPoint } from '../read/read-service.ts';
import { aNonEmptyString, aString, anArrayOrObject, parseJSONObject, readJSONBody } from './json-body.ts';
import { dbName } from './params.ts';

export const queryRoutes = new Hono<AppEnv>();

/** Largest request body (bytes): the SQL (≤ 100 kB) plus params, blobs included. */
export const MAX_QUERY_BODY_BYTES = 1024 * 1024;

/** The request body of POST …/query. */
export interface QueryBody {
  sql: string;
  params?: Params;
  /** TXID in hex (1–16 lowercase digits). */
  txid?: string;
  /** RFC3339 or relative ("5 minutes ago"), as the `at` query selector. */
  at?: string;
  /** Read-your-writes: wait (bounded) until the head reaches this TXID, else 409 NOT_YET_AVAILABLE. */
  min_txid?: string;
}

/** The 200 answer. Values are encoded as src/query/values.ts ResultValue says. */
export interface QueryResponse {
  columns: string[];
  rows: QueryOutput['rows'];
  pos: { txid: string; postApplyChecksum: string };
  stats: {
    /** Distinct pages SQLite read. */
    pagesRead: number;
    /** Pages brought from R2, b-tree prefetch included. */
    pagesFetched: number;
    /** Pages found in the isolate's shared cache (interior b-tree pages, page 1, schema). */
    sharedCacheHits: number;
    /** Ranged R2 gets: page-index loads and frame runs. */
    r2Reads: number;
    /** Batches of misses fetched, each followed by a rerun of the statement. */
    fetchRounds: number;
    /** Plan calls to the database's Durable Object (0 for an explicit TXID planned before). */
    doCalls: number;
    /** Wall time in the Worker (ms). In production it advances only across I/O. */
    ms: number;
  };
}

queryRoutes.post('/:db/query', requireScope('read'), async (c) => {
  const start = Date.now();
  const name = dbName(c);
  const body = parseQueryBody(await readJSONBody(c.req.raw, MAX_QUERY_BODY_BYTES));
  const point = await queryPoint(c, body);
  // SQLite starts (once per isolate) while the plan and the page indexes load: a fresh isolate's
  // first query waits for the slower of the two, not their sum.
  const starting = isolateEngine(SQLITE_WASM);
  starting.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  const timing = new ServerTiming(start);
  const reads = new ReadService(c, name);
  const prefix = c.get('config').prefix;
  const r = await reads.read(point, undefined, async (planned) => {
    timing.mark('plan');
    const pages = await QueryPages.open(planned.plan, planned.source, reads.caches.sharedPages, {
      prefix,
      memory: reads.caches.queryMemory,
    });
    timing.mark('indexes');
    try {
      const engine = await starting;
      timing.mark('engine');
      const out = await engine.query(pages, { sql: body.sql, params: body.params }, DEFAULT_QUERY_LIMITS);
      timing.mark('sql');
      return { ...planned, pages, out };
    } finally {
      pages.close();
    }
  });
  const { plan, pages, source, out } = r;
  const answer: QueryResponse = {
    columns: out.columns,
    rows: out.rows,
    pos: { txid: formatTXID(plan.txid), postApplyChecksum: formatHex64(plan.checksum) },
    stats: {
      pagesRead: pages.stats.pagesRead,
      pagesFetched: pages.stats.pagesFetched,
      sharedCacheHits: pages.stats.sharedHits,
      r2Reads: source.stats.r2Gets,
      fetchRounds: pages.stats.fetchRounds,
      doCalls: r.doCalls,
      ms: Date.now() - start,
    },
  };
  return c.json(answer, 200, { 'ltx-txid': formatTXID(plan.txid), 'server-timing': timing.header() });
});

/**
 * Where a query's time went, as a Server-Timing header (browsers' devtools show it): the plan (the
 * DO's answer, or the isolate's cache), the page indexes, waiting for SQLite to start (a fresh
 * isolate's), the statement with its fetch rounds. Wall time: in production it advances only across I/O.
 */
class ServerTiming {
  private last: number;
  private readonly parts: string[] = [];

  constructor(start: number) {
    this.last = start;
  }

  mark(name: string): void {
    const now = Date.now();
    this.parts.push(`${name};dur=${now - this.last}`);
    this.last = now;
  }

  header(): string {
    return this.parts.join(', ');
  }
}

/** The body's shape; each value in `params` is checked when it is bound (query/values.ts). */
const QUERY_BODY = { sql: aNonEmptyString, params: anArrayOrObject, txid: aString, at: aString, min_txid: aString };
const QUERY_BODY_SHAPE = '{"sql": "…", "params"?: [...] | {...}, "txid"? | "at"? | "min_txid"?: "…"}';

/** Checks the body's shape; 400 BAD_REQUEST naming the first wrong field. */
export function parseQueryBody(json: unknown): QueryBody {
  const body = parseJSONObject(json, QUERY_BODY, QUERY_BODY_SHAPE);
  if (body.sql === undefined) throw new ApiError('BAD_REQUEST', `sql is required (expected ${QUERY_BODY_SHAPE})`, { field: 'sql' });
  return body as QueryBody;
}

/** The point from the body (`txid`, `at`, `min_txid`), or else from the query string as on every read; both → 400. */
function queryPoint(c: Context<AppEnv>, body: QueryBody): Promise<ReadPoint> {
  const fromQuery = { txid: c.req.query('txid'), at: c.req.query('at'), min: c.req.query('min_txid') };
  const inBody = body.txid !== undefined || body.at !== undefined || body.min_txid !== undefined;
  const inQuery = fromQuery.txid !== undefined || fromQuery.at !== undefined || fromQuery.min !== undefined;
  if (inBody && inQuery) throw new ApiError('BAD_REQUEST', 'give txid / at / min_txid in the body or in the query string, not both');
  const sel = inBody ? { txid: body.txid, at: body.at, min: body.min_txid } : fromQuery;
  return toReadPoint(sel.txid, sel.at, sel.min);
}
