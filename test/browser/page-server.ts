// The test page's origin: bundles page/readers.js and sqlite-wasm-http's worker with esbuild, then serves them and sql.js-httpvfs's dist on 127.0.0.1 (a port of its own, so reads are cross-origin).

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const HERE = import.meta.dirname;
const MODULES = path.resolve(HERE, '../../node_modules');
const WASM_HTTP = path.join(MODULES, 'sqlite-wasm-http');

/** URL prefix → directory. Nothing else is served. */
function roots(bundleDir: string): Record<string, string> {
  return { '/bundle/': bundleDir, '/sqljs/': path.join(MODULES, 'sql.js-httpvfs/dist'), '/': path.join(HERE, 'page') };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export interface PageServer {
  /** The page's URL (index.html). */
  url: string;
  close(): Promise<void>;
}

/**
 * Bundles into a temporary directory: readers.js (ESM, the page) and sqlite-wasm-http's
 * sqlite-worker.js next to it, where the page's `new URL('./sqlite-worker.js', import.meta.url)`
 * finds it. That worker is started as a classic worker, so it is an IIFE whose `import.meta.url`
 * (used to find sqlite3.wasm, copied beside it) becomes the worker script's own location.
 */
async function bundle(dir: string): Promise<void> {
  const common = { bundle: true, platform: 'browser', target: 'chrome120', logLevel: 'warning', sourcemap: false } as const;
  await build({ ...common, entryPoints: [path.join(HERE, 'page/readers.js')], outfile: path.join(dir, 'readers.js'), format: 'esm' });
  await build({
    ...common,
    entryPoints: [path.join(WASM_HTTP, 'dist/sqlite-worker.js')],
    outfile: path.join(dir, 'sqlite-worker.js'),
    format: 'iife',
    define: { 'import.meta.url': 'self.location.href' },
  });
  copyFileSync(path.join(WASM_HTTP, 'deps/dist/sqlite3.wasm'), path.join(dir, 'sqlite3.wasm'));
}

/** Builds the bundle and serves the page on a free port of 127.0.0.1. */
export async function startPageServer(): Promise<PageServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-browser-'));
  await bundle(dir);
  const mounts = Object.entries(roots(dir));
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const file = pathname === '/' ? path.join(HERE, 'page/index.html') : resolve(mounts, pathname);
    try {
      const body = file ? readFileSync(file) : undefined;
      if (!body) throw new Error('not found');
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file!)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The file under a mount for `pathname`, or undefined when it would leave the mount. */
function resolve(mounts: [string, string][], pathname: string): string | undefined {
  for (const [prefix, root] of mounts) {
    if (!pathname.startsWith(prefix)) continue;
    const file = path.join(root, decodeURIComponent(pathname.slice(prefix.length)));
    return file.startsWith(root + path.sep) ? file : undefined;
  }
  return undefined;
}
