// Node side: the wa-sqlite sync build's wasm compiled from node_modules (Workers get it precompiled from wrangler instead).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Path of a file of @journeyapps/wa-sqlite's dist/ (e.g. "wa-sqlite.wasm"). */
export function waSqliteDist(file: string): string {
  return createRequire(import.meta.url).resolve(`@journeyapps/wa-sqlite/dist/${file}`);
}

/** Compiles a wa-sqlite wasm file. Node may compile from bytes; workers-types do not declare it, hence the cast. */
export function compileWaSqlite(file = 'wa-sqlite.wasm'): WebAssembly.Module {
  const ModuleCtor = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
  return new ModuleCtor(readFileSync(waSqliteDist(file)));
}
