// The limits of one query (defaults, each with why) and the QueryErrors a query ends with when one of them, or the engine, gives out.

import { BUSY_RETRY_AFTER_SECONDS, QueryError } from './query-error.ts';
import { type ComplexityLimits, tooComplex } from './sql-complexity.ts';
import { STACK_BUDGET_BYTES } from './stack-guard.ts';

/** Default most rows a query may return. */
export const DEFAULT_MAX_ROWS = 50_000;
/** Default most bytes of encoded rows (estimated as they are read): 8 MiB keeps a response well inside a Worker's memory. */
export const DEFAULT_MAX_RESULT_BYTES = 8 * 1024 * 1024;
/** Default wall time (ms) of a query, page fetches included. In production, time inside a Worker advances only across I/O: this bounds the fetching; `maxVmSteps` bounds the CPU. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default SQLite VM instructions per query, counted over every rerun: 1–2 s of CPU in local workerd (50–90M steps/s measured, progress handler on). */
export const DEFAULT_MAX_VM_STEPS = 100_000_000;
/**
 * Default ceiling of the wasm heap (it starts at ~17 MiB and never shrinks; a Worker has 128 MB). A
 * query whose own run grows the heap past it is stopped (the progress handler); isolateEngine's
 * instance cannot grow past it at all (sqlite-module.ts), compiling included.
 */
export const DEFAULT_MAX_HEAP_BYTES = 64 * 1024 * 1024;
/** Default most fetch rounds (reruns) of one query: each is a round trip to R2. */
export const DEFAULT_MAX_FETCH_ROUNDS = 1_000;

export interface QueryLimits {
  maxRows: number;
  maxResultBytes: number;
  timeoutMs: number;
  maxVmSteps: number;
  maxHeapBytes: number;
  maxFetchRounds: number;
  /** Limits of the scan before compiling; default DEFAULT_COMPLEXITY_LIMITS. */
  complexity?: ComplexityLimits;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxRows: DEFAULT_MAX_ROWS,
  maxResultBytes: DEFAULT_MAX_RESULT_BYTES,
  timeoutMs: DEFAULT_TIMEOUT_MS,
  maxVmSteps: DEFAULT_MAX_VM_STEPS,
  maxHeapBytes: DEFAULT_MAX_HEAP_BYTES,
  maxFetchRounds: DEFAULT_MAX_FETCH_ROUNDS,
};

/** The heap ceiling, or SQLITE_NOMEM (the memory ceiling, or a program past SQLITE_LIMIT_VDBE_OP, which SQLite reports as out of memory). */
export function heapExhausted(limits: QueryLimits): QueryError {
  return new QueryError('QUERY_TOO_EXPENSIVE', `the query needed more than ${limits.maxHeapBytes} bytes of memory`, {
    limit: 'heap_bytes',
    value: limits.maxHeapBytes,
  });
}

/** A run went deeper than STACK_BUDGET_BYTES of the wasm stack (or past it). */
export function stackTooDeep(): QueryError {
  return tooComplex(
    'stack_bytes',
    STACK_BUDGET_BYTES,
    STACK_BUDGET_BYTES,
    `the statement (or the database's schema) needs more than ${STACK_BUDGET_BYTES} bytes of SQLite's stack`,
  );
}

/** V8's stack ran out inside SQLite (a native stack overflow thrown through wasm). */
export function nativeStackExhausted(): QueryError {
  return new QueryError('QUERY_TOO_COMPLEX', "the statement (or the database's schema) exhausted the call stack", {
    limit: 'native_stack',
  });
}

/** The engine's instance was dropped (an exception out of wasm, a run past the stack): retry on a new one. */
export function engineLost(): QueryError {
  return new QueryError('QUERY_BUSY', 'the query engine was reset while this query ran; retry', {
    reason: 'engine_reset',
    retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
  });
}

/** V8's "Maximum call stack size exceeded" (wasm frames use the same native stack as JS). */
export function isStackExhaustion(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

export function timeout(limits: QueryLimits): QueryError {
  return new QueryError('QUERY_TIMEOUT', `the query ran longer than ${limits.timeoutMs} ms`, {
    limit: 'timeout_ms',
    value: limits.timeoutMs,
  });
}
