// Bench only: the alternative the query engine was measured against — wa-sqlite's Asyncify build, whose xRead awaits the fetch.

import ModuleFactory from '@journeyapps/wa-sqlite/dist/wa-sqlite-async.mjs';
import * as SQLite from '@journeyapps/wa-sqlite/src/sqlite-constants.js';
import type { QueryOutput, QueryRequest } from '../src/query/engine.ts';
import { PageVFS, VFS_NAME } from '../src/query/page-vfs.ts';
import type { QueryPages } from '../src/query/query-pages.ts';
import type { SqliteModule } from '../src/query/sqlite-module.ts';
import { type ResultValue, bindParams, readColumn } from '../src/query/values.ts';

type AsyncModule = SqliteModule & {
  ccall(name: string, ret: string, argTypes: string[], args: unknown[], opts: { async: true }): Promise<number>;
};

/**
 * The same VFS and page fetching (QueryPages, b-tree sibling prefetch), but a miss suspends the
 * wasm stack (Asyncify) until the pages arrive instead of failing the statement: no reruns, rows
 * could stream. One suspended statement blocks the instance, so queries take a lock, one at a time.
 */
export class AsyncQueryEngine {
  private readonly mod: AsyncModule;
  private readonly zVfs: number;
  private readonly pp: number;
  private current: QueryPages | undefined;
  private lock: Promise<void> = Promise.resolve();
  private seq = 0;
  private readonly vfs: PageVFS;

  private constructor(mod: AsyncModule) {
    this.mod = mod;
    this.vfs = new PageVFS(mod);
    // The same methods, but xRead may await: wa-sqlite registers it as an async method.
    const asyncVfs = Object.create(this.vfs) as { hasAsyncMethod(m?: string): boolean; xRead(...a: number[]): Promise<number> };
    const syncRead = this.vfs.xRead.bind(this.vfs);
    asyncVfs.hasAsyncMethod = (m?: string) => m === 'xRead';
    asyncVfs.xRead = async (pFile: number, pData: number, iAmt: number, lo: number, hi: number): Promise<number> => {
      for (;;) {
        const rc = syncRead(pFile, pData, iAmt, lo, hi);
        const pages = this.current;
        if (rc !== SQLite.SQLITE_IOERR_READ || pages === undefined || pages.missingCount === 0) return rc;
        await pages.fetchMissing();
      }
    };
    if (mod.vfs_register(asyncVfs, false) !== 0) throw new Error('vfs_register failed');
    this.zVfs = mod._sqlite3_malloc(16);
    mod.HEAPU8.set(new TextEncoder().encode(`${VFS_NAME}\0`), this.zVfs);
    this.pp = mod._malloc(8);
  }

  static async create(wasm: WebAssembly.Module): Promise<AsyncQueryEngine> {
    const mod = await ModuleFactory({
      instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
        done(new WebAssembly.Instance(wasm, imports), wasm);
        return {};
      },
    });
    return new AsyncQueryEngine(mod as AsyncModule);
  }

  async query(pages: QueryPages, req: QueryRequest): Promise<QueryOutput> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    await prev;
    this.current = pages;
    const mod = this.mod;
    const name = `a${++this.seq}`;
    const unregister = this.vfs.register(name, pages);
    const call = (fn: string, args: number[]) =>
      mod.ccall(
        fn,
        'number',
        args.map(() => 'number'),
        args,
        { async: true },
      );
    const cstr = (s: string) => {
      const b = new TextEncoder().encode(s);
      const p = mod._sqlite3_malloc(b.length + 1);
      mod.HEAPU8.set(b, p);
      mod.HEAPU8[p + b.length] = 0;
      return p;
    };
    const zName = cstr(name);
    const zSql = cstr(req.sql);
    let db = 0;
    let stmt = 0;
    try {
      let rc = await call('sqlite3_open_v2', [zName, this.pp, SQLite.SQLITE_OPEN_READONLY, this.zVfs]);
      db = mod.HEAP32[this.pp >> 2];
      if (rc !== 0) throw new Error(`open: ${rc}`);
      const zPragma = cstr('PRAGMA query_only=1; PRAGMA temp_store=MEMORY;');
      rc = await call('sqlite3_exec', [db, zPragma, 0, 0, 0]);
      mod._sqlite3_free(zPragma);
      rc = await call('sqlite3_prepare_v3', [db, zSql, -1, 0, this.pp, 0]);
      stmt = mod.HEAP32[this.pp >> 2];
      if (rc !== 0 || stmt === 0) throw new Error(`prepare: ${mod.UTF8ToString(mod._sqlite3_errmsg(db))}`);
      bindParams(mod, stmt, req.params);
      const n = mod._sqlite3_column_count(stmt);
      const columns = Array.from({ length: n }, (_, i) => mod.UTF8ToString(mod._sqlite3_column_name(stmt, i)));
      const rows: ResultValue[][] = [];
      for (;;) {
        rc = await call('sqlite3_step', [stmt]);
        if (rc === SQLite.SQLITE_DONE) break;
        if (rc !== SQLite.SQLITE_ROW) throw new Error(`step: ${rc} ${mod.UTF8ToString(mod._sqlite3_errmsg(db))}`);
        rows.push(Array.from({ length: n }, (_, i) => readColumn(mod, stmt, i).value));
      }
      return { columns, rows, resultBytes: 0, reruns: 0, vmSteps: 0 };
    } finally {
      if (stmt !== 0) await call('sqlite3_finalize', [stmt]);
      if (db !== 0) await call('sqlite3_close_v2', [db]);
      mod._sqlite3_free(zName);
      mod._sqlite3_free(zSql);
      unregister();
      this.current = undefined;
      release();
    }
  }
}
