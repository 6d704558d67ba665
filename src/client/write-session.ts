// Write transactions of the Node client: SQL runs locally over the writable VFS, reruns after fetching missed pages, and yields the dirty pages to commit.

import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import type { PrefetchOptions } from '../query/btree-walk.ts';
import type { SqliteModule } from '../query/sqlite-module.ts';
import { type Params, type ResultValue, bindParams, readColumn } from '../query/values.ts';
import type { PinnedState } from './client-pages.ts';
import { ClientError } from './errors.ts';
import type { PageStore } from './page-store.ts';
import { clientWriteModule } from './sqlite-runtime.ts';
import { WRITE_VFS_NAME, WritableFile, WritableVFS } from './writable-vfs.ts';

/** Default most fetch rounds of one transaction: each round runs the callback again from the start. */
export const DEFAULT_MAX_WRITE_ROUNDS = 1_000;

/** What one statement of a transaction gives back. */
export interface StatementResult {
  columns: string[];
  /** Values as the query API encodes them (src/query/values.ts): big integers as decimal strings, BLOBs as {base64}. */
  rows: ResultValue[][];
  /** Rows the statement inserted, updated or deleted (sqlite3_changes). */
  changes: number;
  /** The connection's last inserted rowid (a decimal string beyond 2^53). */
  lastInsertRowid: number | string;
}

/**
 * The handle a transaction callback gets. Statements run synchronously inside one SQLite
 * transaction (BEGIN IMMEDIATE … COMMIT) over the base TXID plus what this transaction wrote.
 */
export interface Transaction {
  /** Runs one statement (read or write) with optional parameters (same forms as the query API). */
  query(sql: string, params?: Params): Promise<StatementResult>;
  /** Runs a script of statements without parameters or rows. */
  exec(sql: string): Promise<void>;
}

/** The pages a finished transaction wrote: send them with POST …/tx. */
export interface DirtyPages {
  /** Ascending pgno, whole pages; page 1 as SQLite wrote it (the caller restores its journal-mode bytes). */
  pages: { pgno: number; data: Uint8Array }[];
  /** Database size in pages afterwards. */
  commit: number;
}

/** Thrown through the callback when a statement missed pages: the attempt is abandoned and run again. */
class PageMiss extends Error {
  constructor() {
    super('a page was not local yet: the transaction runs again once it is fetched (do not catch this)');
    this.name = 'PageMiss';
  }
}

interface WriteModule extends SqliteModule {
  _sqlite3_changes(db: number): number;
  _sqlite3_last_insert_rowid(db: number): number;
  _sqlite3_get_autocommit(db: number): number;
}

let vfsOf: WeakMap<SqliteModule, WritableVFS> | undefined;
let seq = 0;

async function writeRuntime(): Promise<{ mod: WriteModule; vfs: WritableVFS }> {
  const mod = (await clientWriteModule()) as WriteModule;
  vfsOf ??= new WeakMap();
  let vfs = vfsOf.get(mod);
  if (vfs === undefined) {
    vfs = new WritableVFS(mod);
    if (mod.vfs_register(vfs, false) !== SQLite.SQLITE_OK) throw new Error('could not register the writable VFS');
    vfsOf.set(mod, vfs);
  }
  return { mod, vfs };
}

export interface RunWriteOptions {
  maxRounds?: number;
  maxBytes?: number;
  prefetch?: PrefetchOptions;
}

/**
 * Runs `fn` as one SQLite transaction over the base at `state` and returns its value and the pages it
 * wrote (none when it wrote nothing or rolled back). A statement that reads a page not fetched yet
 * fails; the whole attempt is dropped (SQLite rolls a transaction back on an I/O error anyway), the
 * missing pages are fetched at the base TXID, and `fn` runs again from the start on a fresh
 * connection — so `fn` may run more than once and should keep side effects outside. SQL errors
 * reach `fn` as ClientError SQL_ERROR (SQLite rolls back that statement only; an uncaught one ends
 * the transaction).
 */
export async function runWrite<T>(
  store: PageStore,
  state: PinnedState,
  fn: (tx: Transaction) => Promise<T>,
  opts: RunWriteOptions = {},
): Promise<{ value: T; dirty: DirtyPages | undefined }> {
  const { mod, vfs } = await writeRuntime();
  const maxRounds = opts.maxRounds ?? DEFAULT_MAX_WRITE_ROUNDS;
  // One file for every run: pages fetched by earlier runs stay local even if the LRU evicts them, and
  // the b-tree walk keeps counting misses per parent, so its sibling prefetch grows as in a query.
  const file = new WritableFile(store, state, { maxBytes: opts.maxBytes, prefetch: opts.prefetch });
  for (let round = 0; ; round++) {
    file.resetWrites();
    const attempt = new Attempt(mod, vfs, file);
    let value: T | undefined;
    let error: { e: unknown } | undefined;
    try {
      attempt.begin(state.commit === 0 ? state.pageSize : undefined);
      value = await fn(attempt.handle);
      attempt.finish();
    } catch (e) {
      error = { e };
    } finally {
      attempt.close();
    }
    // A miss spoils the run even when the callback caught the PageMiss and returned anyway.
    if (!attempt.missed) {
      if (error) throw error.e;
      const commit = file.pageCount;
      const pages = [...file.dirty]
        .filter(([pgno]) => pgno <= commit)
        .sort((a, b) => a[0] - b[0])
        .map(([pgno, data]) => ({ pgno, data }));
      return { value: value as T, dirty: pages.length > 0 ? { pages, commit } : undefined };
    }
    if (file.internalError !== undefined) throw file.internalError;
    if (file.failure !== undefined) throw file.failure;
    if (round >= maxRounds)
      throw new ClientError('TOO_MANY_ROUNDS', `the transaction needed more than ${maxRounds} rounds of page fetches`);
    await file.fetchMissing();
  }
}

/** One run of a transaction on its own connection. */
class Attempt {
  readonly handle: Transaction;
  /** A statement missed a page: everything after is refused and the run is dropped. */
  missed = false;
  private readonly mod: WriteModule;
  private readonly file: WritableFile;
  private readonly unregister: () => void;
  private readonly name: string;
  private db = 0;
  private closed = false;

  constructor(mod: WriteModule, vfs: WritableVFS, file: WritableFile) {
    this.mod = mod;
    this.file = file;
    this.name = `w${++seq}`;
    this.unregister = vfs.register(this.name, file);
    this.handle = {
      query: async (sql, params) => this.statement(sql, params),
      exec: async (sql) => this.script(sql),
    };
  }

  /** Opens the connection, sets it up for a memory journal, begins the transaction. */
  begin(newPageSize: number | undefined): void {
    const mod = this.mod;
    const pp = mod._malloc(4);
    const zName = cString(mod, this.name);
    const zVfs = cString(mod, WRITE_VFS_NAME);
    try {
      const rc = mod._sqlite3_open_v2(zName, pp, SQLite.SQLITE_OPEN_READWRITE, zVfs);
      this.db = mod.HEAP32[pp >> 2];
      if (rc !== SQLite.SQLITE_OK) this.fail(rc);
    } finally {
      mod._free(pp);
      mod._sqlite3_free(zName);
      mod._sqlite3_free(zVfs);
    }
    const setup = ['PRAGMA locking_mode=EXCLUSIVE', 'PRAGMA journal_mode=MEMORY', 'PRAGMA temp_store=MEMORY'];
    if (newPageSize !== undefined) setup.push(`PRAGMA page_size=${newPageSize}`);
    setup.push('BEGIN IMMEDIATE');
    this.script(setup.join(';'));
  }

  /** Commits the local transaction (the callback may have ended it itself with COMMIT or ROLLBACK). */
  finish(): void {
    this.check();
    if (this.mod._sqlite3_get_autocommit(this.db) === 0) this.script('COMMIT');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.db !== 0) this.mod._sqlite3_close_v2(this.db);
    this.db = 0;
    this.unregister();
  }

  private check(): void {
    if (this.closed) throw new ClientError('CLOSED', 'the transaction has ended: statements must run before its callback returns');
    if (this.missed) throw new PageMiss();
  }

  private statement(sql: string, params: Params | undefined): StatementResult {
    this.check();
    const mod = this.mod;
    const bytes = new TextEncoder().encode(sql);
    const zSql = mod._sqlite3_malloc(bytes.length + 1);
    mod.HEAPU8.set(bytes, zSql);
    mod.HEAPU8[zSql + bytes.length] = 0;
    const pp = mod._malloc(8);
    let stmt = 0;
    try {
      let rc = mod._sqlite3_prepare_v3(this.db, zSql, bytes.length, 0, pp, pp + 4);
      stmt = mod.HEAP32[pp >> 2];
      if (rc !== SQLite.SQLITE_OK) this.fail(rc);
      if (stmt === 0) throw new ClientError('BAD_REQUEST', 'sql holds no statement');
      const tail = mod.HEAP32[(pp + 4) >> 2];
      if (new TextDecoder().decode(mod.HEAPU8.subarray(tail, zSql + bytes.length)).replace(/[\s;]+/g, '') !== '') {
        throw new ClientError('BAD_REQUEST', 'query() runs one statement; use exec() for a script');
      }
      rc = bindParams(mod, stmt, params);
      if (rc !== SQLite.SQLITE_OK) this.fail(rc);
      const n = mod._sqlite3_column_count(stmt);
      const columns: string[] = [];
      for (let i = 0; i < n; i++) columns.push(mod.UTF8ToString(mod._sqlite3_column_name(stmt, i)));
      const rows: ResultValue[][] = [];
      for (;;) {
        rc = mod._sqlite3_step(stmt);
        if (this.file.missingCount > 0) this.fail(rc);
        if (rc === SQLite.SQLITE_DONE) break;
        if (rc !== SQLite.SQLITE_ROW) this.fail(rc);
        const row: ResultValue[] = new Array(n);
        for (let i = 0; i < n; i++) row[i] = readColumn(mod, stmt, i).value;
        rows.push(row);
      }
      const lo = mod._sqlite3_last_insert_rowid(this.db);
      const hi = mod.getTempRet0();
      return { columns, rows, changes: mod._sqlite3_changes(this.db), lastInsertRowid: int64(lo, hi) };
    } finally {
      if (stmt !== 0) mod._sqlite3_finalize(stmt);
      mod._free(pp);
      mod._sqlite3_free(zSql);
    }
  }

  private script(sql: string): void {
    this.check();
    const z = cString(this.mod, sql);
    try {
      const rc = this.mod._sqlite3_exec(this.db, z, 0, 0, 0);
      if (rc !== SQLite.SQLITE_OK || this.file.missingCount > 0) this.fail(rc);
    } finally {
      this.mod._sqlite3_free(z);
    }
  }

  /** A failed call: a miss spoils the attempt (PageMiss); anything else is the SQL's own error. */
  private fail(rc: number): never {
    const file = this.file;
    if (file.missingCount > 0 || file.failure !== undefined || file.internalError !== undefined) {
      this.missed = true;
      throw new PageMiss();
    }
    const mod = this.mod;
    const message = this.db !== 0 ? mod.UTF8ToString(mod._sqlite3_errmsg(this.db)) : `SQLite error ${rc}`;
    const code = this.db !== 0 ? mod._sqlite3_extended_errcode(this.db) : rc;
    throw new ClientError('SQL_ERROR', message, { sqliteCode: code });
  }
}

function int64(lo: number, hi: number): number | string {
  const v = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function cString(mod: SqliteModule, s: string): number {
  const bytes = new TextEncoder().encode(s);
  const p = mod._sqlite3_malloc(bytes.length + 1);
  mod.HEAPU8.set(bytes, p);
  mod.HEAPU8[p + bytes.length] = 0;
  return p;
}
