// The committed CRC-64 kernel (src/ltx/crc64.wasm and crc64-wasm.ts) is what src/ltx/crc64.wat assembles to.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRC64_WASM_PATH, CRC64_WASM_TS_PATH, buildCRC64Wasm } from '../../scripts/wasm-build.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('the CRC-64 kernel', () => {
  it('is what crc64.wat assembles to (run `npm run wasm` after changing it)', async () => {
    const { wasm, ts } = await buildCRC64Wasm();
    expect(new Uint8Array(readFileSync(path.join(root, CRC64_WASM_PATH)))).toEqual(wasm);
    expect(readFileSync(path.join(root, CRC64_WASM_TS_PATH), 'utf8') === ts, `${CRC64_WASM_TS_PATH} is stale: run npm run wasm`).toBe(true);
  });
});
