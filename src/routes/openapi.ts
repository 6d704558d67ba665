// GET /v1/openapi.json (the OpenAPI 3.1 document, generated ahead from src/openapi/ by `npm run openapi`) and GET /v1/docs (it as HTML); no token needed.

import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { renderDocsPage } from './docs-page.ts';

/** The document as served, loaded on the first request for it: an isolate that never serves it never evaluates it. */
let rendered: Promise<{ json: string; html: string }> | undefined;

function document(): Promise<{ json: string; html: string }> {
  rendered ??= import('./openapi.json', { with: { type: 'json' } }).then(({ default: doc }) => ({
    json: JSON.stringify(doc),
    html: renderDocsPage(doc),
  }));
  return rendered;
}

/** Mounted at /v1: `/openapi.json` and `/docs`. */
export const openApiRoutes = new Hono<AppEnv>()
  .get('/openapi.json', async (c) => {
    c.header('cache-control', 'public, max-age=300');
    c.header('content-type', 'application/json; charset=UTF-8');
    return c.body((await document()).json);
  })
  .get('/docs', async (c) => {
    c.header('cache-control', 'public, max-age=300');
    // Nothing to fetch or run: inline styles only.
    c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    return c.html((await document()).html);
  });
