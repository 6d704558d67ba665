// GET /ui/: the web console (index.html, console.js, console.css), built ahead into console-assets.json by `npm run console`; no token needed.

import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

/** Nothing inline and nothing from another origin: the page's script and style come from /ui/, its API calls go to /v1. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES = {
  'index.html': 'text/html; charset=UTF-8',
  'console.js': 'text/javascript; charset=UTF-8',
  'console.css': 'text/css; charset=UTF-8',
} as const;

type AssetName = keyof typeof TYPES;

interface Asset {
  body: string;
  /** Strong: a hash of the body. */
  etag: string;
}

/** The assets as served, loaded on the first request for one: an isolate that never serves the console never evaluates them. */
let loaded: Promise<Map<AssetName, Asset>> | undefined;

async function etagOf(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  return `"${[...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
}

function assets(): Promise<Map<AssetName, Asset>> {
  loaded ??= import('./console-assets.json', { with: { type: 'json' } }).then(async ({ default: files }) => {
    const out = new Map<AssetName, Asset>();
    for (const name of Object.keys(TYPES) as AssetName[]) out.set(name, { body: files[name], etag: await etagOf(files[name]) });
    return out;
  });
  return loaded;
}

/** If-None-Match names `etag` (weak comparison, as RFC 9110 says for this header), or is `*`. */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

async function serve(c: Context<AppEnv>, name: AssetName): Promise<Response> {
  const asset = (await assets()).get(name)!;
  const headers = new Headers({
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Revalidate every time: a deploy changes the assets under the same URLs.
    'cache-control': 'no-cache',
    etag: asset.etag,
  });
  if (notModified(c.req.header('if-none-match'), asset.etag)) return new Response(null, { status: 304, headers });
  headers.set('content-type', TYPES[name]);
  return new Response(asset.body, { status: 200, headers });
}

/** Mounted at /: `/ui` redirects to `/ui/`; GET|HEAD `/ui/`, `/ui/console.js`, `/ui/console.css`; anything else under /ui/ is 404. */
export const consoleRoutes = new Hono<AppEnv>()
  .get('/ui', (c) => c.redirect('/ui/', 301))
  .get('/ui/', (c) => serve(c, 'index.html'))
  .get('/ui/console.js', (c) => serve(c, 'console.js'))
  .get('/ui/console.css', (c) => serve(c, 'console.css'))
  .all('/ui/*', (c) => {
    throw new ApiError('NOT_FOUND', `no console asset ${new URL(c.req.url).pathname}`);
  });
