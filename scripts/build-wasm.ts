// Writes src/ltx/crc64.wasm and src/ltx/crc64-wasm.ts from src/ltx/crc64.wat (`npm run wasm`).

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CRC64_WASM_PATH, CRC64_WASM_TS_PATH, buildCRC64Wasm } from './wasm-build.ts';

const root = path.resolve(import.meta.dirname, '..');
const { wasm, ts } = await buildCRC64Wasm();
writeFileSync(path.join(root, CRC64_WASM_PATH), wasm);
writeFileSync(path.join(root, CRC64_WASM_TS_PATH), ts);
console.log(`wrote ${CRC64_WASM_PATH} (${wasm.length} B) and ${CRC64_WASM_TS_PATH}`);
