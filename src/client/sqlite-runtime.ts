// The wa-sqlite sync build in Node: the wasm compiled once per process, one read engine (src/query) and one module for write sessions.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { QueryEngine } from '../query/engine.ts';
import { type SqliteModule, instantiateSqlite } from '../query/sqlite-module.ts';

let wasm: WebAssembly.Module | undefined;
let readEngine: Promise<QueryEngine> | undefined;
let writeModule: Promise<SqliteModule> | undefined;

/** The sync build's wasm from node_modules, compiled on first use (Workers get it precompiled from wrangler instead). */
export function waSqliteWasm(): WebAssembly.Module {
  if (wasm === undefined) {
    const file = createRequire(import.meta.url).resolve('@journeyapps/wa-sqlite/dist/wa-sqlite.wasm');
    // Node may compile from bytes; the workers types this repo compiles with do not declare it, hence the cast.
    const ModuleCtor = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
    wasm = new ModuleCtor(readFileSync(file));
  }
  return wasm;
}

/**
 * The process's read-only query engine (the Worker's engine: fault-and-rerun over a PageFile). One
 * that lost its SQLite instance (`broken`: a stack overflow, a trap) is replaced by a fresh one.
 */
export async function clientReadEngine(): Promise<QueryEngine> {
  if (readEngine && (await readEngine.catch(() => undefined))?.broken) readEngine = undefined;
  readEngine ??= QueryEngine.create(waSqliteWasm()).catch((e: unknown) => {
    readEngine = undefined;
    throw e;
  });
  return readEngine;
}

/** A second SQLite instance for write sessions (its own heap and VFS; the read engine's stays read-only). */
export function clientWriteModule(): Promise<SqliteModule> {
  writeModule ??= instantiateSqlite(waSqliteWasm()).catch((e: unknown) => {
    writeModule = undefined;
    throw e;
  });
  return writeModule;
}
