// Writes src/routes/console-assets.json, the web console the Worker serves at /ui/, from src/console/ (`npm run console`); prints each asset's size raw and gzipped.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONSOLE_ASSETS_PATH, type ConsoleAssets, buildConsoleAssets } from './console-bundle.ts';

const json = await buildConsoleAssets();
writeFileSync(path.resolve(import.meta.dirname, '..', CONSOLE_ASSETS_PATH), json);
console.log(`wrote ${CONSOLE_ASSETS_PATH}`);
for (const [name, text] of Object.entries(JSON.parse(json) as ConsoleAssets)) {
  const raw = Buffer.byteLength(text);
  console.log(`  ${name.padEnd(12)} ${String(raw).padStart(7)} B raw  ${String(gzipSync(text).length).padStart(6)} B gzip`);
}
