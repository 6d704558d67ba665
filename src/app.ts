// hono app assembly: request log, config gate, CORS, sub-apps via app.route(), one onError and notFound (errors.ts).
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';
import { ConfigError, resolveConfig } from './config.ts';
import type { Config } from './config.ts';
import type { AppEnv, Env } from './env.ts';
import { ApiError, notFound, onError } from './errors.ts';
import { requestLog } from './log.ts';
import { consoleRoutes } from './routes/console.ts';
import { databaseRoutes } from './routes/databases.ts';
import { healthRoutes } from './routes/health.ts';
import { linkMintRoutes, linkRoutes } from './routes/links.ts';
import { litefsRoutes } from './routes/litefs.ts';
import { ltxFileRoutes } from './routes/ltx-files.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { pageRoutes } from './routes/pages.ts';
import { queryRoutes } from './routes/query.ts';
import { snapshotRoutes } from './routes/snapshot.ts';
import { watchRoutes } from './routes/watch.ts';

/** Paths served even when the Worker is not configured (DESIGN §4b); the console's assets too (under /ui). */
const UNGATED_PATHS = new Set(['/v1/health', '/v1/openapi.json', '/v1/docs']);
const isConsolePath = (path: string): boolean => path === '/ui' || path.startsWith('/ui/');

// env is the same object for every request in an isolate, so config is resolved once per isolate.
const resolved = new WeakMap<object, Config | ConfigError>();

function configFor(env: Env): Config | ConfigError {
  let entry = resolved.get(env);
  if (entry === undefined) {
    try {
      entry = resolveConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(`ltx-edge is not configured: ${err.message}`);
      entry = err;
    }
    resolved.set(env, entry);
  }
  return entry;
}

/** Puts the resolved Config on the context, or answers 503 NOT_CONFIGURED (except UNGATED_PATHS). */
export function configGate(): MiddlewareHandler<AppEnv> {
  return async function configGate(c, next) {
    if (UNGATED_PATHS.has(c.req.path) || isConsolePath(c.req.path)) return next();
    const config = configFor(c.env);
    if (config instanceof ConfigError) {
      throw new ApiError('NOT_CONFIGURED', config.message, { configCode: config.code, variable: config.variable });
    }
    if (config.notConfigured !== null) throw new ApiError('NOT_CONFIGURED', config.notConfigured);
    c.set('config', config);
    return next();
  };
}

/** Request headers a page on an allowed origin may send to the token-authenticated routes. */
const API_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Range', 'If-Range', 'If-None-Match', 'If-Match'];
/** Response headers it may read. */
const API_EXPOSED_HEADERS = [
  'LTX-TXID',
  'Content-Range',
  'Content-Length',
  'Accept-Ranges',
  'ETag',
  'Content-Disposition',
  'Retry-After',
  'Location',
];

/**
 * CORS for the token-authenticated /v1 routes: only the origins of LTX_EDGE_CORS_ORIGINS (none by
 * default). Tokens travel in Authorization, never in cookies, so no credentials mode is needed.
 * Read links (/v1/links) answer any origin on their own.
 */
function apiCors(): MiddlewareHandler<AppEnv> {
  const handler = cors({
    origin: (origin, c) => {
      const allowed = (c.get('config') as Config | undefined)?.corsOrigins ?? [];
      return allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : null;
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: API_ALLOWED_HEADERS,
    exposeHeaders: API_EXPOSED_HEADERS,
    maxAge: 600,
  });
  return async function apiCors(c, next) {
    if (c.req.path.startsWith('/v1/links/')) return next();
    return handler(c, next);
  };
}

/** The whole HTTP API. Middleware order: request log, config gate, then routes; errors end in onError. */
export const app = new Hono<AppEnv>();

app.use('*', requestLog());
app.use('*', configGate());
app.use('/v1/*', apiCors());
app.route('/v1/health', healthRoutes);
app.route('/v1/links', linkRoutes);
app.route('/v1', openApiRoutes);
app.route('/v1/databases', ltxFileRoutes);
app.route('/v1/databases', pageRoutes);
app.route('/v1/databases', snapshotRoutes);
app.route('/v1/databases', linkMintRoutes);
app.route('/v1/databases', queryRoutes);
app.route('/v1/databases', maintenanceRoutes);
app.route('/v1/databases', watchRoutes);
app.route('/v1/databases', databaseRoutes);
app.route('/', consoleRoutes);
app.route('/', litefsRoutes);
app.onError(onError);
app.notFound(notFound);
