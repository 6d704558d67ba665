// Builds the web console (src/console/) into the one JSON module the Worker serves at /ui/: index.html, console.js, console.css as strings.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, transform } from 'esbuild';

/** The generated file, relative to the repository (committed; `npm run console` writes it). */
export const CONSOLE_ASSETS_PATH = 'src/routes/console-assets.json';

const CONSOLE_DIR = path.resolve(import.meta.dirname, '../src/console');

/** The assets by file name, as src/routes/console.ts serves them. */
export interface ConsoleAssets {
  'index.html': string;
  'console.js': string;
  'console.css': string;
}

/** Bundles and minifies the console; the same sources always give the same text (no sourcemap, no timestamps). */
export async function buildConsoleAssets(): Promise<string> {
  const js = await build({
    entryPoints: [path.join(CONSOLE_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const css = await transform(readFileSync(path.join(CONSOLE_DIR, 'console.css'), 'utf8'), {
    loader: 'css',
    minify: true,
    charset: 'utf8',
  });
  const assets: ConsoleAssets = {
    'index.html': readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8'),
    'console.js': js.outputFiles[0].text,
    'console.css': css.code,
  };
  return `${JSON.stringify(assets, null, 2)}\n`;
}
