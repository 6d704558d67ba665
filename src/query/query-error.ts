// Typed failures of a query (no HTTP knowledge; src/errors.ts maps the codes to statuses).

export type QueryErrorCode =
  /** The request itself is malformed (no statement, bad params). */
  | 'BAD_REQUEST'
  /** SQLite refused the SQL (syntax, unknown table, a failing function…); the message is SQLite's. */
  | 'SQL_ERROR'
  /** The statement would write (or change the connection): only reads are served. */
  | 'QUERY_NOT_READ_ONLY'
  /** More than one statement in `sql`. */
  | 'MULTIPLE_STATEMENTS'
  /** More rows than the row limit. */
  | 'QUERY_TOO_MANY_ROWS'
  /** The encoded result is larger than the byte limit. */
  | 'QUERY_RESULT_TOO_LARGE'
  /** Wall time ran out (page fetches included). */
  | 'QUERY_TIMEOUT'
  /** A CPU, memory or I/O budget ran out: details.limit says which (vm_steps, heap_bytes, page_bytes, fetch_rounds). */
  | 'QUERY_TOO_EXPENSIVE'
  /**
   * The statement is too long or too deeply nested for the engine's stacks, refused before SQLite
   * compiles it (sql-complexity.ts) or stopped by the stack guard: details {limit, value, max}, limit
   * one of sql_bytes, expression_depth, selects, list_items, literal_bytes, stack_bytes, native_stack.
   */
  | 'QUERY_TOO_COMPLEX'
  /**
   * Transient, retry after details.retryAfterSeconds: the running queries of the isolate (or of this
   * database, past its share) hold the page memory, or the engine was reset under the query.
   */
  | 'QUERY_BUSY';

/**
 * Seconds a QUERY_BUSY client should wait (details.retryAfterSeconds, an integer for Retry-After).
 * What it waits for — page memory held by running queries, or a fresh engine — is gone within a
 * query's run: median tens of ms, at most DEFAULT_TIMEOUT_MS (10 s). One second is the smallest
 * Retry-After, and spreads retries over more than one run of the busy queries.
 */
export const BUSY_RETRY_AFTER_SECONDS = 1;

export class QueryError extends Error {
  readonly code: QueryErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: QueryErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'QueryError';
    this.code = code;
    this.details = details;
  }
}
