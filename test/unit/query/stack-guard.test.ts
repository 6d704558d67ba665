// The stack guard's view of the sync build: where its wasm stack is (read from the .wasm file), and what each painted band reports.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instantiateSqlite } from '../../../src/query/sqlite-module.ts';
import { STACK_BAND_BYTES, STACK_BUDGET_BYTES, StackGuard, WASM_STACK_BYTES, stackPointer } from '../../../src/query/stack-guard.ts';
import { compileWaSqlite, waSqliteDist } from '../../helpers/sqlite-wasm.ts';

/** The initial value of the first global (wasm-ld's __stack_pointer) and the end of the last active data segment. */
function wasmLayout(bytes: Uint8Array): { stackPointer: number; dataEnd: number } {
  let p = 8;
  const u32 = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return r;
    }
  };
  const i32 = (): number => {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[p++];
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? r | (-1 << shift) : r;
  };
  let stack = -1;
  let dataEnd = 0;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 6 && stack < 0) {
      u32(); // count
      p += 2; // i32, mutable
      expect(bytes[p++]).toBe(0x41); // i32.const
      stack = i32();
    }
    if (id === 11) {
      for (let n = u32(); n > 0; n--) {
        const flags = u32();
        expect(flags).toBe(0); // active, memory 0
        expect(bytes[p++]).toBe(0x41);
        const offset = i32();
        p++; // end
        const len = u32();
        dataEnd = Math.max(dataEnd, offset + len);
        p += len;
      }
    }
    p = end;
  }
  return { stackPointer: stack, dataEnd };
}

describe('StackGuard', () => {
  it('the sync build has a 512 KiB stack right above its static data, below the heap', async () => {
    const { stackPointer: initial, dataEnd } = wasmLayout(new Uint8Array(readFileSync(waSqliteDist('wa-sqlite.wasm'))));
    const mod = await instantiateSqlite(compileWaSqlite());
    expect(stackPointer(mod) + 16).toBe(initial); // idle: the initial value (less ccall's 16 bytes)
    expect(initial - WASM_STACK_BYTES).toBeGreaterThanOrEqual(dataEnd); // the whole stack is above the static data
    expect(initial - WASM_STACK_BYTES - dataEnd).toBeLessThan(64 * 1024); // … right above it (a smaller stack would put the bottom band in data)
    expect(mod._malloc(16)).toBeGreaterThanOrEqual(initial); // the heap is above
  });

  it('reports a run that wrote below the budget (then repaints), past the bottom, or left the stack pointer low', async () => {
    const mod = await instantiateSqlite(compileWaSqlite());
    const guard = new StackGuard(mod);
    expect(guard.check()).toBe('ok');
    const budget = guard.top - STACK_BUDGET_BYTES - STACK_BAND_BYTES / 2;
    mod.HEAP32[budget >> 2] = 7;
    expect(guard.check()).toBe('deep');
    expect(guard.check()).toBe('ok'); // painted again
    mod.HEAP32[(guard.top + 16 - WASM_STACK_BYTES + 64) >> 2] = 7;
    expect(guard.check()).toBe('overflow');
  });

  it('an exception thrown through wasm frames leaves the stack pointer low: unwound', async () => {
    const mod = await instantiateSqlite(compileWaSqlite());
    const guard = new StackGuard(mod);
    const cString = (text: string): number => {
      const b = new TextEncoder().encode(`${text}\0`);
      const p = mod._malloc(b.length);
      mod.HEAPU8.set(b, p);
      return p;
    };
    const pp = mod._malloc(4);
    expect(mod._sqlite3_open_v2(cString(':memory:'), pp, 6, 0)).toBe(0);
    const db = mod.HEAP32[pp >> 2];
    // A progress handler that throws: the exception leaves sqlite3_exec without its frames restoring the stack pointer.
    const key = mod._malloc(4);
    mod.HEAP32[key >> 2] = 0;
    mod.setCallback(key, () => {
      throw new Error('thrown through wasm');
    });
    mod._libprogress_progress_handler(db, 1, 1, key);
    expect(() => mod._sqlite3_exec(db, cString('SELECT 1'), 0, 0, 0)).toThrow('thrown through wasm');
    expect(guard.check()).toBe('unwound');
  });
});
