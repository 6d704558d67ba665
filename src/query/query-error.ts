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
  /** Concurrent queries of the isolate hold all its page memory: transient, retry. */
  | 'QUERY_BUSY';

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
