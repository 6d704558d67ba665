// Watches the wasm stack of the engine's SQLite: painted bands tell whether a run went deeper than allowed, past the bottom of the stack, or left the stack pointer off its top.

import type { SqliteModule } from './sqlite-module.ts';

/**
 * The sync build's wasm stack: wa-sqlite's Makefile links with `-s STACK_SIZE=512KB`. It sits just
 * above the static data and grows down, and nothing checks it: a deeper recursion writes over static
 * data (function tables, SQLite's globals) without a trap, and the instance fails later ("null function
 * or function signature mismatch", "memory access out of bounds") or, worse, answers wrongly.
 * test/unit/query/stack-guard.test.ts checks this layout in the wasm file.
 */
export const WASM_STACK_BYTES = 512 * 1024;
/**
 * Deepest a run may use: half the stack. Ordinary statements use 4–20 KiB; the deepest statement the
 * complexity scan admits about 150 KiB (test/unit/query/sql-complexity.test.ts). A run that writes
 * below it is refused (QUERY_TOO_COMPLEX, stack_bytes); the statement, or a schema nested deeper than
 * the scan can see (views, CHECK constraints), is the cause, and the instance is still sound.
 */
export const STACK_BUDGET_BYTES = 256 * 1024;
/** Bytes of each painted band: larger than any one SQLite stack frame, so a deeper run cannot step over a band without writing in it. */
export const STACK_BAND_BYTES = 16 * 1024;
/** What the bands are painted with, as an int32 (any word a frame is unlikely to hold everywhere). */
export const STACK_PAINT = 0xdeadbeef | 0;

/** What a run did to the stack. */
export type StackState = 'ok' | 'deep' | 'overflow' | 'unwound';

/**
 * Two bands, painted while no wasm code runs (everything below the stack pointer is free then):
 * `budget` just below STACK_BUDGET_BYTES, `bottom` the lowest STACK_BAND_BYTES of the stack. After a
 * run: a written `budget` band means the run went deeper than allowed ('deep': refuse it, repaint);
 * a written `bottom` band that it may have gone past the stack into static data ('overflow': the
 * instance can no longer be trusted); a stack pointer off its idle value that an exception unwound
 * through wasm frames without restoring it ('unwound': the same).
 */
export class StackGuard {
  /** The stack pointer while no wasm code runs (as stackPointer reads it). */
  readonly top: number;
  private readonly mod: SqliteModule;
  private readonly budgetBand: number;
  private readonly bottomBand: number;

  constructor(mod: SqliteModule) {
    this.mod = mod;
    this.top = stackPointer(mod);
    this.budgetBand = alignDown(this.top - STACK_BUDGET_BYTES - STACK_BAND_BYTES);
    this.bottomBand = alignUp(this.top - WASM_STACK_BYTES + 16);
    if (this.bottomBand < 1024 || this.top > mod.HEAPU8.length)
      throw new Error(`wa-sqlite's stack is not where the query engine expects it (top ${this.top})`);
    this.paint(this.budgetBand);
    this.paint(this.bottomBand);
  }

  /** Call after a run, with no wasm code running. A 'deep' budget band is painted again. */
  check(): StackState {
    if (!this.intact(this.bottomBand)) return 'overflow';
    if (stackPointer(this.mod) !== this.top) return 'unwound';
    if (this.intact(this.budgetBand)) return 'ok';
    this.paint(this.budgetBand);
    return 'deep';
  }

  private paint(at: number): void {
    this.mod.HEAP32.fill(STACK_PAINT, at >> 2, (at + STACK_BAND_BYTES) >> 2);
  }

  private intact(at: number): boolean {
    const heap = this.mod.HEAP32;
    for (let i = at >> 2, end = (at + STACK_BAND_BYTES) >> 2; i < end; i++) if (heap[i] !== STACK_PAINT) return false;
    return true;
  }
}

/**
 * The wasm stack pointer now (less 16). The glue does not export it, but `ccall` places a string
 * argument on the stack and `memcpy(dst, src, 0)` returns `dst`: the address of that empty string.
 */
export function stackPointer(mod: SqliteModule): number {
  return mod.ccall('memcpy', 'number', ['string', 'number', 'number'], ['', 0, 0]) as number;
}

function alignDown(n: number): number {
  return n & ~15;
}

function alignUp(n: number): number {
  return (n + 15) & ~15;
}
