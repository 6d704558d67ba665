// `npm run build` (also npm's `prepare`): the npm package — dist/cli.js and dist/client.js (esbuild, shared code in dist/chunks) and the client's declarations (tsc, dist/types). No TypeScript runs in the package.

import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });
const started = performance.now();
await build({
  absWorkingDir: ROOT,
  entryPoints: { cli: 'bin/ltx-edge.js', client: 'src/client/index.ts' },
  outdir: DIST,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // wa-sqlite stays an import (its wasm is found through node_modules at run time): the package's one
  // dependency. What only some commands load (yaml for --config, prom-client for --metrics-addr) is
  // bundled into their chunks at the versions this repo pins and tests.
  external: ['@journeyapps/wa-sqlite', '@journeyapps/wa-sqlite/*'],
  // Those are CommonJS: their require() of Node's modules needs a real require in ESM output.
  banner: { js: "import { createRequire as __ltxEdgeRequire } from 'node:module'; const require = __ltxEdgeRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(path.join(DIST, 'cli.js'), 0o755);

execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
// tsc keeps the sources' `.ts` specifiers in declarations: point them at the emitted `.d.ts` files' `.js` names.
for (const file of walk(path.join(DIST, 'types'))) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
  if (fixed !== text) writeFileSync(file, fixed);
}
console.error(`build: dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.d.ts')) yield p;
  }
}
