// The read-only query engine: one wa-sqlite instance per isolate, statements run synchronously and rerun after fetching the pages they missed.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import { applyConnectionLimits } from './connection-limits.ts';
import { type PageFile, PageVFS, VFS_NAME } from './page-vfs.ts';
import { QueryError } from './query-error.ts';
import {
  DEFAULT_MAX_HEAP_BYTES,
  DEFAULT_QUERY_LIMITS,
  type QueryLimits,
  engineLost,
  heapExhausted,
  isStackExhaustion,
  nativeStackExhausted,
  stackTooDeep,
  timeout,
} from './query-limits.ts';
import { DEFAULT_COMPLEXITY_LIMITS, checkSqlComplexity } from './sql-complexity.ts';
import { type SqliteModule, instantiateSqlite } from './sqlite-module.ts';
import { StackGuard } from './stack-guard.ts';
import { type Params, type ResultValue, bindParams, readColumn } from './values.ts';

export {
  DEFAULT_MAX_FETCH_ROUNDS,
  DEFAULT_MAX_HEAP_BYTES,
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_ROWS,
  DEFAULT_MAX_VM_STEPS,
  DEFAULT_QUERY_LIMITS,
  DEFAULT_TIMEOUT_MS,
  type QueryLimits,
} from './query-limits.ts';
export { MAX_SQL_BYTES } from './sql-complexity.ts';

/** VM instructions between progress-handler calls. */
const PROGRESS_OPS = 1000;

export interface QueryRequest {
  sql: string;
  params?: Params;
}

export interface QueryOutput {
  columns: string[];
  rows: ResultValue[][];
  /** Estimated JSON bytes of `rows`. */
  resultBytes: number;
  /** Statement runs that stopped at a missing page and were run again after fetching it. */
  reruns: number;
  /** SQLite VM instructions executed, over all runs (in steps of PROGRESS_OPS). */
  vmSteps: number;
}

/** The statement running now (runs are synchronous, so at most one per engine). */
interface Active {
  steps: number;
  limits: QueryLimits;
  deadline: number;
  stop: 'vm_steps' | 'heap' | 'timeout' | undefined;
  /** The heap when the current run began: only growth during its own run is a query's (the heap is shared and never shrinks). */
  heapAtRun: number;
}

/**
 * What the engine needs of a query's pages: the VFS file, plus the fault-and-rerun bookkeeping.
 * QueryPages (the Worker, pages from R2) and the Node client's ClientPages (src/client/) implement it.
 */
export interface EnginePages extends PageFile {
  /** Pages noted missing since the last clearMissing(). */
  readonly missingCount: number;
  clearMissing(): void;
  /** Fetches what the last run missed (and any prefetch); throws for budgets and I/O failures. */
  fetchMissing(): Promise<void>;
  /** A typed failure noted during a read (reads must not throw through the wasm stack). */
  readonly failure: QueryError | undefined;
  /** An unexpected exception noted during a read (a bug): rethrown as is, except a RangeError (then the instance is dropped). */
  readonly internalError: unknown;
}

/** Per-query connection state across reruns. */
interface Session {
  pages: EnginePages;
  name: string;
  db: number;
  ready: boolean;
  zSql: number;
  nSql: number;
  active: Active;
}

type Attempt = { done: true; columns: string[]; rows: ResultValue[][]; bytes: number } | { done: false };

/**
 * One SQLite per isolate, shared by all requests. A query opens its own read-only connection on
 * its own VFS file (its pages at its TXID), so requests share nothing but the heap and finished
 * page bytes. A statement runs synchronously to the end; a read of a page that is not local fails
 * it (SQLITE_IOERR_READ), the query fetches everything that run missed (plus b-tree siblings) in
 * one batch and runs the statement again, up to `maxFetchRounds` times. Because runs never await,
 * statements of concurrent requests never interleave, and a slow query's fetches never block
 * another request (unlike the Asyncify build, where one suspended query holds the whole instance).
 * Rows of a failed run are dropped; only a complete run's rows are returned.
 *
 * The instance is shared, so it must survive whatever one request sends: SQL is scanned before it is
 * compiled (sql-complexity.ts), every connection runs with CONNECTION_LIMITS, and after every run a
 * StackGuard checks the wasm stack. An exception thrown out of the wasm module (a native stack
 * overflow, a trap) or a run that wrote past the stack loses the instance: `broken` turns true,
 * `isolateEngine()` builds a fresh one, and queries still on this one end with QUERY_BUSY.
 */
export class QueryEngine {
  private readonly mod: SqliteModule;
  private readonly vfs: PageVFS;
  private readonly guard: StackGuard;
  private readonly ppOut: number;
  private readonly pzTail: number;
  private readonly zVfs: number;
  private readonly progressKey: number;
  private active: Active | undefined;
  private seq = 0;
  private users = 0;
  /** The instance can no longer be trusted. */
  private lost = false;

  private constructor(mod: SqliteModule) {
    this.mod = mod;
    this.guard = new StackGuard(mod);
    this.vfs = new PageVFS(mod);
    if (mod.vfs_register(this.vfs, false) !== SQLite.SQLITE_OK) throw new Error('could not register the query VFS');
    this.ppOut = mod._malloc(8);
    this.pzTail = mod._malloc(8);
    this.zVfs = cString(mod, VFS_NAME);
    // One progress callback for every connection: it checks whichever statement is running.
    this.progressKey = mod._malloc(4);
    mod.HEAP32[this.progressKey >> 2] = 0; // 0 = synchronous callback
    mod.setCallback(this.progressKey, () => this.progress());
  }

  /** A new instance over `wasm`; `maxMemoryBytes` caps its wasm memory (none: the build's 2 GiB). */
  static async create(wasm: WebAssembly.Module, opts: { maxMemoryBytes?: number } = {}): Promise<QueryEngine> {
    return new QueryEngine(await instantiateSqlite(wasm, opts));
  }

  /** True once the instance can no longer be trusted (see the class comment): use a new engine. */
  get broken(): boolean {
    return this.lost;
  }

  /** Bytes of wasm linear memory now (it only grows). */
  get heapBytes(): number {
    return this.mod.HEAPU8.length;
  }

  /** Queries running now. */
  get running(): number {
    return this.users;
  }

  /** Connections open now (0 when no query runs). */
  get openFiles(): number {
    return this.vfs.openFiles;
  }

  /** SQLite's version string. */
  get sqliteVersion(): string {
    return this.mod.UTF8ToString(this.mod._sqlite3_libversion());
  }

  /**
   * Runs one read-only statement over `pages`. Throws QueryError for everything the client caused
   * (SQL errors, writes, several statements, limits, QUERY_TOO_COMPLEX), for budgets of `pages`, and
   * QUERY_BUSY when the instance was lost under the query; never an exception of the wasm module.
   */
  async query(pages: EnginePages, req: QueryRequest, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<QueryOutput> {
    const sqlBytes = new TextEncoder().encode(req.sql);
    checkSqlComplexity(req.sql, sqlBytes.length, limits.complexity ?? DEFAULT_COMPLEXITY_LIMITS);
    if (this.lost) throw engineLost();
    const start = Date.now();
    const mod = this.mod;
    const zSql = mod._sqlite3_malloc(sqlBytes.length + 1);
    if (zSql === 0) throw heapExhausted(limits);
    const name = `q${++this.seq}`;
    const unregister = this.vfs.register(name, pages);
    mod.HEAPU8.set(sqlBytes, zSql);
    mod.HEAPU8[zSql + sqlBytes.length] = 0;
    const s: Session = {
      pages,
      name,
      db: 0,
      ready: false,
      zSql,
      nSql: sqlBytes.length,
      active: { steps: 0, limits, deadline: start + limits.timeoutMs, stop: undefined, heapAtRun: 0 },
    };
    this.users++;
    try {
      for (let reruns = 0; ; reruns++) {
        pages.clearMissing();
        const out = this.run(s, req.params);
        if (out.done) return { columns: out.columns, rows: out.rows, resultBytes: out.bytes, reruns, vmSteps: s.active.steps };
        if (reruns >= limits.maxFetchRounds) {
          throw new QueryError('QUERY_TOO_EXPENSIVE', `the query needed more than ${limits.maxFetchRounds} rounds of page fetches`, {
            limit: 'fetch_rounds',
            value: limits.maxFetchRounds,
          });
        }
        this.checkTime(s.active);
        await pages.fetchMissing();
        this.checkTime(s.active);
      }
    } finally {
      this.users--;
      // A lost instance is left alone: the connection goes with it.
      if (!this.lost) {
        if (s.db !== 0) mod._sqlite3_close_v2(s.db);
        mod._sqlite3_free(zSql);
      }
      unregister();
    }
  }

  /**
   * One run (attempt), then the stack check. A run that went deeper than STACK_BUDGET_BYTES is
   * refused; one that wrote past the stack, or threw out of the wasm module, loses the instance: its
   * memory or its stack pointer is no longer what SQLite left it. The error thrown is the client's
   * (QUERY_TOO_COMPLEX) when its statement exhausted a stack, else QUERY_BUSY (retry on a new engine).
   */
  private run(s: Session, params: Params | undefined): Attempt {
    if (this.lost) throw engineLost();
    let out: Attempt | undefined;
    let error: unknown;
    let threw = false;
    try {
      out = this.attempt(s, params);
    } catch (e) {
      threw = true;
      error = e;
    }
    const stack = this.guard.check();
    // A QueryError is thrown between calls into wasm, and a page read's own exception was caught
    // before it reached wasm (PageVFS): anything else came out of the module mid-call. A RangeError or
    // a trap is never trusted, wherever it was thrown.
    const fromWasm = threw && !(error instanceof QueryError) && error !== s.pages.internalError;
    const fatal = error instanceof RangeError || error instanceof WebAssembly.RuntimeError;
    if (stack === 'overflow' || stack === 'unwound' || fromWasm || fatal || this.lost) {
      this.lose(error ?? stack);
      if (stack === 'overflow') throw stackTooDeep();
      if (isStackExhaustion(error)) throw nativeStackExhausted();
      throw engineLost();
    }
    if (stack === 'deep') throw stackTooDeep();
    if (!threw) return out!;
    throw error; // a QueryError, or a bug in a page read (500)
  }

  /** Marks the instance lost (isolateEngine replaces it); logs why once. */
  private lose(cause: unknown): void {
    if (this.lost) return;
    this.lost = true;
    console.error(
      `query engine: the wa-sqlite instance is dropped after ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
    );
  }

  private checkTime(a: Active): void {
    if (Date.now() > a.deadline) throw timeout(a.limits);
  }

  /** One synchronous run: open and set up the connection if needed, prepare, check, bind, step to the end. */
  private attempt(s: Session, params: Params | undefined): Attempt {
    const mod = this.mod;
    this.active = s.active;
    s.active.heapAtRun = mod.HEAPU8.length;
    let stmt = 0;
    try {
      if (s.db === 0 && !this.open(s)) return { done: false };
      if (!s.ready) {
        const rc = this.exec(s.db, 'PRAGMA query_only=1; PRAGMA temp_store=MEMORY;');
        if (rc !== SQLite.SQLITE_OK) return this.failed(s, rc);
        s.ready = true;
      }
      const ppStmt = this.ppOut;
      let rc = mod._sqlite3_prepare_v3(s.db, s.zSql, s.nSql, 0, ppStmt, this.pzTail);
      stmt = mod.HEAP32[ppStmt >> 2];
      if (rc !== SQLite.SQLITE_OK) return this.failed(s, rc);
      if (stmt === 0) throw new QueryError('BAD_REQUEST', 'sql holds no statement');
      const tail = mod.HEAP32[this.pzTail >> 2];
      if (this.hasMore(s, tail)) throw new QueryError('MULTIPLE_STATEMENTS', 'sql holds more than one statement; send one per request');
      if (mod._sqlite3_stmt_readonly(stmt) === 0) throw new QueryError('QUERY_NOT_READ_ONLY', 'only read-only statements are served');
      rc = bindParams(mod, stmt, params);
      if (rc !== SQLite.SQLITE_OK) return this.failed(s, rc);
      const n = mod._sqlite3_column_count(stmt);
      const columns: string[] = [];
      for (let i = 0; i < n; i++) columns.push(mod.UTF8ToString(mod._sqlite3_column_name(stmt, i)));
      const rows: ResultValue[][] = [];
      const { maxRows, maxResultBytes } = s.active.limits;
      let bytes = 2;
      for (;;) {
        rc = mod._sqlite3_step(stmt);
        if (rc === SQLite.SQLITE_DONE) {
          // SQLite tolerates some read errors and finishes anyway (PRAGMA integrity_check reports
          // "unable to get the page"): a run that missed any page is never an answer.
          if (s.pages.missingCount > 0 || s.pages.failure !== undefined || s.pages.internalError !== undefined) return this.failed(s, rc);
          return { done: true, columns, rows, bytes };
        }
        // A row after a swallowed miss is not trusted either: stop and rerun (before any limit fires).
        if (rc !== SQLite.SQLITE_ROW || s.pages.missingCount > 0) return this.failed(s, rc);
        if (rows.length >= maxRows)
          throw new QueryError('QUERY_TOO_MANY_ROWS', `the query returns more than ${maxRows} rows`, { limit: 'rows', value: maxRows });
        const row: ResultValue[] = new Array(n);
        bytes += n + 2;
        for (let i = 0; i < n; i++) {
          const c = readColumn(mod, stmt, i);
          row[i] = c.value;
          bytes += c.size;
        }
        if (bytes > maxResultBytes) {
          throw new QueryError('QUERY_RESULT_TOO_LARGE', `the result is larger than ${maxResultBytes} bytes`, {
            limit: 'result_bytes',
            value: maxResultBytes,
          });
        }
        rows.push(row);
      }
    } finally {
      if (stmt !== 0) this.finalize(stmt);
      this.active = undefined;
    }
  }

  /** Finalizes without letting a second failure of a failing instance hide the first (run() then drops it). */
  private finalize(stmt: number): void {
    try {
      this.mod._sqlite3_finalize(stmt);
    } catch (e) {
      this.lose(e);
    }
  }

  /** Opens the query's VFS file read-only with the connection limits; false after a miss (retry). */
  private open(s: Session): boolean {
    const mod = this.mod;
    const zName = cString(mod, s.name);
    if (zName === 0) throw heapExhausted(s.active.limits);
    try {
      const rc = mod._sqlite3_open_v2(zName, this.ppOut, SQLite.SQLITE_OPEN_READONLY, this.zVfs);
      s.db = mod.HEAP32[this.ppOut >> 2];
      if (rc === SQLite.SQLITE_OK) {
        applyConnectionLimits(mod, s.db);
        mod._libprogress_progress_handler(s.db, PROGRESS_OPS, 1, this.progressKey);
        return true;
      }
      const err = this.failed(s, rc);
      mod._sqlite3_close_v2(s.db);
      s.db = 0;
      return err.done;
    } finally {
      mod._sqlite3_free(zName);
    }
  }

  /** True when the SQL after the first statement holds another statement (anything but spaces, comments and semicolons). */
  private hasMore(s: Session, tail: number): boolean {
    const end = s.zSql + s.nSql;
    if (tail === 0 || tail >= end) return false;
    const mod = this.mod;
    const ppStmt = this.ppOut + 4;
    const rc = mod._sqlite3_prepare_v3(s.db, tail, end - tail, 0, ppStmt, 0);
    const next = mod.HEAP32[ppStmt >> 2];
    if (next !== 0) mod._sqlite3_finalize(next);
    return next !== 0 || rc !== SQLite.SQLITE_OK;
  }

  private exec(db: number, sql: string): number {
    const z = cString(this.mod, sql);
    if (z === 0) return SQLite.SQLITE_NOMEM;
    try {
      return this.mod._sqlite3_exec(db, z, 0, 0, 0);
    } finally {
      this.mod._sqlite3_free(z);
    }
  }

  /**
   * A result code other than OK/ROW/DONE: a miss means "fetch and rerun" ({done: false}); anything
   * else is thrown as the QueryError it stands for.
   */
  private failed(s: Session, rc: number): { done: false } {
    const { pages, active } = s;
    if (pages.internalError !== undefined) throw pages.internalError;
    if (pages.failure !== undefined) throw pages.failure;
    if (active.stop === 'vm_steps') {
      throw new QueryError('QUERY_TOO_EXPENSIVE', `the query ran more than ${active.limits.maxVmSteps} SQLite VM steps`, {
        limit: 'vm_steps',
        value: active.limits.maxVmSteps,
      });
    }
    if (active.stop === 'heap') throw heapExhausted(active.limits);
    if (active.stop === 'timeout') throw timeout(active.limits);
    if (pages.missingCount > 0) return { done: false };
    const mod = this.mod;
    const primary = rc & 0xff;
    // Memory growth past the engine's ceiling fails (sqlite-module.ts), compiling included.
    if (primary === SQLite.SQLITE_NOMEM) throw heapExhausted(active.limits);
    const message = s.db !== 0 ? mod.UTF8ToString(mod._sqlite3_errmsg(s.db)) : `SQLite error ${rc}`;
    if (primary === SQLite.SQLITE_READONLY) throw new QueryError('QUERY_NOT_READ_ONLY', message, { sqliteCode: rc });
    const details: Record<string, unknown> = { sqliteCode: s.db !== 0 ? mod._sqlite3_extended_errcode(s.db) : rc };
    const offset = s.db !== 0 ? mod._sqlite3_error_offset(s.db) : -1;
    if (offset >= 0) details.offset = offset;
    throw new QueryError('SQL_ERROR', message, details);
  }

  /** The progress handler: a nonzero return interrupts the statement (SQLITE_INTERRUPT). Must not throw. */
  private progress(): number {
    const a = this.active;
    if (a === undefined) return 0;
    a.steps += PROGRESS_OPS;
    if (a.steps > a.limits.maxVmSteps) a.stop = 'vm_steps';
    else if (this.mod.HEAPU8.length > a.limits.maxHeapBytes && this.mod.HEAPU8.length > a.heapAtRun) a.stop = 'heap';
    else if (Date.now() > a.deadline) a.stop = 'timeout';
    return a.stop === undefined ? 0 : 1;
  }
}

/** A NUL-terminated copy of `s` in the wasm heap, or 0 when the heap is exhausted. */
function cString(mod: SqliteModule, s: string): number {
  const bytes = new TextEncoder().encode(s);
  const p = mod._sqlite3_malloc(bytes.length + 1);
  if (p === 0) return 0;
  mod.HEAPU8.set(bytes, p);
  mod.HEAPU8[p + bytes.length] = 0;
  return p;
}

let shared: Promise<QueryEngine> | undefined;
let sharedEngine: QueryEngine | undefined;

/**
 * The isolate's engine, created on first use, its wasm memory capped at `maxHeapBytes`. When the
 * instance was lost (`broken`), or a query has grown the wasm heap past `maxHeapBytes` (memory never
 * shrinks), the engine is replaced for later queries; the old one is collected once its running
 * queries finish (on a lost one, with QUERY_BUSY).
 */
export async function isolateEngine(wasm: WebAssembly.Module, maxHeapBytes = DEFAULT_MAX_HEAP_BYTES): Promise<QueryEngine> {
  if (sharedEngine !== undefined && (sharedEngine.broken || sharedEngine.heapBytes > maxHeapBytes)) {
    shared = undefined;
    sharedEngine = undefined;
  }
  if (shared === undefined) {
    const p = QueryEngine.create(wasm, { maxMemoryBytes: maxHeapBytes });
    shared = p;
    p.then(
      (e) => {
        if (shared === p) sharedEngine = e;
      },
      () => {
        if (shared === p) shared = undefined;
      },
    );
  }
  return shared;
}
