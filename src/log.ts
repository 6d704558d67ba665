// Structured request logs: one JSON line per request with method, matched route, database, status, ms and the error code.

import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { isValidDatabaseName } from './api/database-name.ts';
import { ApiError } from './errors.ts';

/** One log line (JSON). Never holds tokens, bodies, query strings or headers. */
export interface RequestLogEntry {
  /** When the request arrived, RFC3339 with ms. */
  ts: string;
  method: string;
  /** The matched route pattern, e.g. `/v1/databases/:db/pages/:pgno`; null when nothing matched (404). */
  route: string | null;
  /** The database the request is about (`:db`, or `?db=` under /litefs), when it is a valid name; else null. */
  db: string | null;
  status: number;
  /**
   * Wall time in ms from Date.now() differences. In production Workers the clock advances only
   * across I/O (a Spectre mitigation), so this is time spent waiting on R2, DOs and the client,
   * and a CPU-only request logs 0; locally it is ordinary wall time.
   */
  ms: number;
  /** The JSON error code, for responses of status ≥ 400 that carry one. */
  code?: string;
}

/** Options of requestLog. */
export interface RequestLogOptions {
  /** Where lines go; default console.log (Workers Logs / `wrangler tail` read stdout). */
  write?: (line: string) => void;
}

/** The last matched handler that is a route (not `use()` middleware): its pattern. */
function routeOf(c: Context): string | null {
  let route: string | null = null;
  for (const r of matchedRoutes(c)) if (r.method !== 'ALL') route = r.path;
  return route;
}

function dbOf(c: Context): string | null {
  let db = c.req.param('db');
  if (db === undefined && c.req.path.startsWith('/litefs/')) db = c.req.query('db');
  return db !== undefined && isValidDatabaseName(db) ? db : null;
}

/** The `error.code` of a JSON error body (small, built by errors.ts); read from a clone, so the response is untouched. */
async function errorCodeOf(res: Response): Promise<string | undefined> {
  if (res.status < 400 || !res.headers.get('content-type')?.startsWith('application/json')) return undefined;
  try {
    const body = (await res.clone().json()) as { error?: { code?: unknown }; code?: unknown };
    // `/v1`: {"error": {"code"}}; LiteFS: {"code", "error"} (DESIGN §4).
    const code = typeof body.error === 'object' && body.error !== null ? body.error.code : body.code;
    return typeof code === 'string' ? code.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

/** Middleware: logs one JSON line per request once the response is ready. Mount it first. */
export function requestLog(opts: RequestLogOptions = {}): MiddlewareHandler {
  const write = opts.write ?? ((line: string) => console.log(line));
  return async function requestLog(c, next) {
    const start = Date.now();
    let threw = false;
    try {
      await next();
    } catch (err) {
      // onError answers every Error; anything else escapes to the runtime as a 500.
      threw = true;
      throw err;
    } finally {
      // After next(), c.req.param() reads the params of the last handler that ran: the route's.
      const entry: RequestLogEntry = {
        ts: new Date(start).toISOString(),
        method: c.req.method,
        route: routeOf(c),
        db: dbOf(c),
        status: threw ? 500 : c.res.status,
        ms: Date.now() - start,
      };
      // A thrown ApiError is answered with its own code (errors.ts onError): no need to read the body.
      const code = threw ? undefined : c.error instanceof ApiError && c.res.status >= 400 ? c.error.code : await errorCodeOf(c.res);
      if (code !== undefined) entry.code = code;
      write(JSON.stringify(entry));
    }
  };
}
