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
  /** Calls an exported C function by name; 'string' arguments are copied onto the wasm stack for the call. */
  ccall(name: string, returnType: 'number' | null, argTypes: ('number' | 'string')[], args: (number | string)[]): unknown;

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

export interface SqliteModuleOptions {
  /**
   * Most bytes of wasm memory the module may ask for; none = the build's 2 GiB. Growth past it fails
   * (malloc returns NULL, SQLite answers SQLITE_NOMEM), even while a statement compiles, where no
   * progress handler runs: a few hundred bytes of CTEs that expand each other grew the heap past
   * 100 MiB in one prepare (test/unit/query/engine-isolation.test.ts). Emscripten grows in steps
   * (up to 20% of the heap), so memory may end one step past this.
   */
  maxMemoryBytes?: number;
}

/** The glue's import that grows wasm memory (sbrk calls it); found by name, as the import keys are minified. */
const RESIZE_HEAP_IMPORT = '_emscripten_resize_heap';

/**
 * Instantiates the sync build over `wasm`. Workers forbid compiling wasm from bytes at run time, so
 * the module comes precompiled: wrangler turns an imported `.wasm` file into a WebAssembly.Module
 * (its default CompiledWasm rule); Node compiles the file itself. Instantiation is synchronous
 * (no I/O), so concurrent first requests cannot end up waiting on each other's I/O.
 */
export async function instantiateSqlite(wasm: WebAssembly.Module, opts: SqliteModuleOptions = {}): Promise<SqliteModule> {
  const mod = await ModuleFactory({
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      if (opts.maxMemoryBytes !== undefined) capMemory(imports, opts.maxMemoryBytes);
      done(new WebAssembly.Instance(wasm, imports), wasm);
      return {};
    },
    // The glue prints through console; keep SQLite's own logging out of Worker logs unless it errs.
    print: () => {},
    printErr: (text: string) => console.error(`wa-sqlite: ${text}`),
  });
  return mod as SqliteModule;
}

/** Wraps the glue's heap-growth import so that growth past `max` bytes fails; throws if the glue has no such import. */
function capMemory(imports: WebAssembly.Imports, max: number): void {
  for (const ns of Object.values(imports)) {
    for (const [key, fn] of Object.entries(ns)) {
      if (typeof fn !== 'function' || fn.name !== RESIZE_HEAP_IMPORT) continue;
      const grow = fn as (requestedSize: number) => boolean;
      ns[key] = (requestedSize: number): boolean => (requestedSize >>> 0 > max ? false : grow(requestedSize));
      return;
    }
  }
  throw new Error(`wa-sqlite's glue has no ${RESIZE_HEAP_IMPORT} import: the memory ceiling cannot be set`);
}
