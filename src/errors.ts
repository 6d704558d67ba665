// API error codes → HTTP status in one table, the ApiError type, and hono's onError/notFound (DESIGN §4).
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { LTXError } from './ltx/index.ts';
import { QueryError } from './query/query-error.ts';
import { PlanError } from './replication/plan.ts';
import { PointError } from './replication/point.ts';
import { StorageError } from './storage/object-store.ts';

/** Every code the API answers with, and its HTTP status. The only place statuses are decided. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_NAME: 400, // database name outside DESIGN §2's pattern
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  LINK_INVALID: 403, // a read link that is malformed, tampered with, or names another database than it was minted for
  LINK_EXPIRED: 403, // a read link past its expiresAt
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408, // a push or /tx body sent no byte for the idle deadline, or outlasted the total one; nothing was kept
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_WATCHERS: 429, // GET …/watch: the database serves LTX_EDGE_WATCHERS_PER_DATABASE streams already; details.limit
  DATABASE_TOO_LARGE: 413, // the write would make the database larger than LTX_EDGE_MAX_DATABASE_BYTES or SQLite's page limit; details.maxBytes, maxPages
  POSITION_MISMATCH: 409, // pushed LTX is not contiguous with the head; details.pos
  CONFLICT: 409, // page-set write with base ≠ head; details.pos
  NOT_YET_AVAILABLE: 409, // min_txid not reached within the wait
  PAGE_SIZE_MISMATCH: 409,
  TXID_EXHAUSTED: 409, // the head is TXID ffffffffffffffff: no next transaction can be written (restore, /tx)
  TXID_NOT_AVAILABLE: 410, // older than retention
  PRECONDITION_FAILED: 412, // If-Match names no current ETag of the file
  RANGE_NOT_SATISFIABLE: 416, // details.size; Content-Range: bytes */size
  INVALID_LTX: 422, // the codec rejected the file; details.ltxCode carries its LTXErrorCode
  SQL_ERROR: 400, // POST …/query: SQLite refused the statement; SQLite's message, details.sqliteCode (+ offset)
  QUERY_NOT_READ_ONLY: 400, // POST …/query: the statement would write; only reads are served
  MULTIPLE_STATEMENTS: 400, // POST …/query: one statement per request
  QUERY_TIMEOUT: 408, // POST …/query: wall time ran out (page fetches included); details.limit, value
  QUERY_TOO_MANY_ROWS: 413, // POST …/query: more rows than the limit; details.limit, value
  QUERY_RESULT_TOO_LARGE: 413, // POST …/query: the encoded rows exceed the byte limit; details.limit, value
  QUERY_TOO_EXPENSIVE: 422, // POST …/query: CPU (vm_steps), heap, page_bytes or fetch_rounds budget; details.limit, value
  QUERY_TOO_COMPLEX: 422, // POST …/query: the statement is too long or too deeply nested (or needs too much stack); details.limit, value, max
  QUERY_BUSY: 503, // POST …/query: concurrent queries hold the isolate's page memory (or this database's share of it), or the engine was reset; details.retryAfterSeconds
  INTERNAL: 500,
  MAINTENANCE_BUDGET_EXCEEDED: 503, // a compaction or snapshot ran past LTX_EDGE_MAINTENANCE_BUDGET and was aborted (reported in maintenance actions)
  STORAGE_UNAVAILABLE: 503, // R2 kept failing after retries; nothing was committed, retry later
  NOT_CONFIGURED: 503, // production without tokens, or invalid vars (DESIGN §4b)
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Optional structured context of an error, e.g. `{ pos }` or `{ ltxCode }`. */
export type ErrorDetails = Record<string, unknown>;

/** The JSON error shape of DESIGN §4. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
}

/** An error meant for the client: thrown anywhere in a route, answered by onError. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

/** Builds the JSON error body; `details` is omitted when absent. */
export function errorBody(code: ErrorCode, message: string, details?: ErrorDetails): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** A complete JSON error Response with the status of `code`. */
export function errorResponse(code: ErrorCode, message: string, details?: ErrorDetails, headers?: HeadersInit): Response {
  return jsonError(ERROR_STATUS[code], code, message, details, headers);
}

function jsonError(status: number, code: ErrorCode, message: string, details?: ErrorDetails, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/json; charset=UTF-8');
  return new Response(JSON.stringify(errorBody(code, message, details)), { status, headers: h });
}

/** Wraps a codec rejection as 422 INVALID_LTX (details.ltxCode = the codec code). */
export function invalidLtx(err: LTXError): ApiError {
  return new ApiError('INVALID_LTX', err.message, { ltxCode: err.code });
}

/**
 * Domain errors that escape a route, as API errors — the one place they are translated (routes do not
 * catch them to rethrow): a point the client wrote wrong is 400; a query's own failure keeps its code;
 * storage that kept failing, or a plan still stale after the one re-plan, is 503 STORAGE_UNAVAILABLE
 * (retry later); a rejected LTX file is 422. Undefined for anything else (a bug: 500).
 */
export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof PointError) return new ApiError('BAD_REQUEST', err.message);
  if (err instanceof QueryError) return new ApiError(err.code, err.message, err.details);
  if (err instanceof StorageError) {
    if (err.code === 'STORAGE_NOT_FOUND' || err.code === 'STORAGE_INVALID_RANGE')
      return new ApiError('STORAGE_UNAVAILABLE', 'an object of the database changed while it was read; retry');
    return new ApiError('STORAGE_UNAVAILABLE', 'storage is unavailable; retry later', { storageCode: err.code });
  }
  if (err instanceof PlanError)
    return new ApiError('STORAGE_UNAVAILABLE', 'the database changed while it was read; retry', { planCode: err.code });
  if (err instanceof LTXError && err.code !== 'LTX_INVALID_ARGUMENT') return invalidLtx(err);
  return undefined;
}

/** Headers an error answer carries besides the body: Retry-After for the transient ones. */
function errorHeaders(e: ApiError): HeadersInit | undefined {
  const seconds = e.details?.retryAfterSeconds;
  if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0) return { 'retry-after': String(seconds) };
  if (e.code === 'STORAGE_UNAVAILABLE' || e.code === 'QUERY_BUSY') return { 'retry-after': '1' };
  return undefined;
}

/** Codes for bare statuses raised by hono middleware as HTTPException; other statuses get a generic code. */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  416: 'RANGE_NOT_SATISFIABLE',
};

/**
 * hono onError: ApiError and the domain errors of apiErrorOf → their status (Retry-After on 503s);
 * malformed JSON → 400 BAD_REQUEST; HTTPException → its own status; anything else → 500 INTERNAL,
 * logged, with no internals in the body.
 */
export function onError(err: Error, c: Context): Response {
  const api = apiErrorOf(err);
  if (api) return errorResponse(api.code, api.message, api.details, errorHeaders(api));
  // Request.json() rejects with a SyntaxError on a malformed body; JSON.parse on our own data never should.
  if (err instanceof SyntaxError) return errorResponse('BAD_REQUEST', `malformed JSON body: ${err.message}`);
  if (err instanceof HTTPException && err.status < 500) {
    // Keep headers the middleware set (e.g. WWW-Authenticate), not its body.
    const headers = new Headers(err.res?.headers);
    headers.delete('content-type');
    headers.delete('content-length');
    const code = HTTP_EXCEPTION_CODES[err.status] ?? 'BAD_REQUEST';
    return jsonError(err.status, code, err.message || 'request rejected', undefined, headers);
  }
  console.error(`INTERNAL ${c.req.method} ${new URL(c.req.url).pathname}:`, err);
  const status = err instanceof HTTPException ? err.status : 500;
  return jsonError(status, 'INTERNAL', 'internal error');
}

/** hono notFound: 404 NOT_FOUND as JSON. */
export function notFound(c: Context): Response {
  return errorResponse('NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
}
