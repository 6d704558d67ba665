// The emscripten module of @journeyapps/wa-sqlite (sync build) as typed here, instantiated from a precompiled WebAssembly.Module.

/// <reference types="@journeyapps/wa-sqlite" />
import ModuleFactory from '@journeyapps/wa-sqlite/dist/wa-sqlite.mjs';

/**
 * The C API and glue of the sync build that the engine uses. Pointers are numbers into `HEAPU8`;
 * 64-bit integers travel as (lo32, hi32) pairs (the build has no WASM_BIGINT): a function returning
 * one leaves the high half in `getTempRet0()`. `HEAPU8` is replaced when memory grows: read it fresh.
 */
export interface SqliteModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  getTempRet0(): number;
  UTF8ToString(ptr: number, maxBytes?: number): string;
  /** Registers a JS VFS object (x-methods) with SQLite; 0 on success. */
  vfs_register(vfs: object, makeDefault: boolean): number;
  /** Binds a JS target to a key the C adapters call back with (progress handlers, VFSs). */
  setCallback(key: number, target: ((...args: number[]) => number) | object): void;

  _malloc(n: number): number;
  _free(p: number): void;
  _sqlite3_malloc(n: number): number;
  _sqlite3_free(p: number): void;
  _sqlite3_libversion(): number;
  _sqlite3_open_v2(zFilename: number, ppDb: number, flags: number, zVfs: number): number;
  _sqlite3_close_v2(db: number): number;
  _sqlite3_errmsg(db: number): number;
  _sqlite3_extended_errcode(db: number): number;
  _sqlite3_error_offset(db: number): number;
  _sqlite3_limit(db: number, id: number, value: number): number;
  _sqlite3_exec(db: number, zSql: number, callback: number, arg: number, pzErr: number): number;
  _sqlite3_interrupt(db: number): void;
  _sqlite3_prepare_v3(db: number, zSql: number, nByte: number, flags: number, ppStmt: number, pzTail: number): number;
  _sqlite3_finalize(stmt: number): number;
  _sqlite3_step(stmt: number): number;
  _sqlite3_stmt_readonly(stmt: number): number;
  _sqlite3_stmt_isexplain(stmt: number): number;
  _sqlite3_bind_parameter_count(stmt: number): number;
  _sqlite3_bind_parameter_name(stmt: number, i: number): number;
  _sqlite3_bind_null(stmt: number, i: number): number;
  _sqlite3_bind_int64(stmt: number, i: number, lo: number, hi: number): number;
  _sqlite3_bind_double(stmt: number, i: number, v: number): number;
  _sqlite3_bind_text(stmt: number, i: number, ptr: number, n: number, destructor: number): number;
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number;
  _sqlite3_column_count(stmt: number): number;
  _sqlite3_column_name(stmt: number, i: number): number;
  _sqlite3_column_type(stmt: number, i: number): number;
  _sqlite3_column_int64(stmt: number, i: number): number;
  _sqlite3_column_double(stmt: number, i: number): number;
  _sqlite3_column_text(stmt: number, i: number): number;
  _sqlite3_column_blob(stmt: number, i: number): number;
  _sqlite3_column_bytes(stmt: number, i: number): number;
  _libprogress_progress_handler(db: number, nOps: number, xProgress: number, pApp: number): void;
}

/**
 * Instantiates the sync build over `wasm`. Workers forbid compiling wasm from bytes at run time, so
 * the module comes precompiled: wrangler turns an imported `.wasm` file into a WebAssembly.Module
 * (its default CompiledWasm rule); Node compiles the file itself. Instantiation is synchronous
 * (no I/O), so concurrent first requests cannot end up waiting on each other's I/O.
 */
export async function instantiateSqlite(wasm: WebAssembly.Module): Promise<SqliteModule> {
  const mod = await ModuleFactory({
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      done(new WebAssembly.Instance(wasm, imports), wasm);
      return {};
    },
    // The glue prints through console; keep SQLite's own logging out of Worker logs unless it errs.
    print: () => {},
    printErr: (text: string) => console.error(`wa-sqlite: ${text}`),
  });
  return mod as SqliteModule;
}
