// hono app assembly: request log, config gate, sub-apps via app.route(), one onError and notFound (errors.ts).
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { ConfigError, resolveConfig } from './config.ts';
import type { Config } from './config.ts';
import type { AppEnv, Env } from './env.ts';
import { ApiError, notFound, onError } from './errors.ts';
import { requestLog } from './log.ts';
import { databaseRoutes } from './routes/databases.ts';
import { healthRoutes } from './routes/health.ts';
import { litefsRoutes } from './routes/litefs.ts';
import { ltxFileRoutes } from './routes/ltx-files.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { pageRoutes } from './routes/pages.ts';
import { queryRoutes } from './routes/query.ts';
import { snapshotRoutes } from './routes/snapshot.ts';

/** Paths served even when the Worker is not configured (DESIGN §4b). */
const UNGATED_PATHS = new Set(['/v1/health', '/v1/openapi.json', '/v1/docs']);

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
    if (UNGATED_PATHS.has(c.req.path)) return next();
    const config = configFor(c.env);
    if (config instanceof ConfigError) {
      throw new ApiError('NOT_CONFIGURED', config.message, { configCode: config.code, variable: config.variable });
    }
    if (config.notConfigured !== null) throw new ApiError('NOT_CONFIGURED', config.notConfigured);
    c.set('config', config);
    return next();
  };
}

/** The whole HTTP API. Middleware order: request log, config gate, then routes; errors end in onError. */
export const app = new Hono<AppEnv>();

app.use('*', requestLog());
app.use('*', configGate());
app.route('/v1/health', healthRoutes);
app.route('/v1', openApiRoutes);
app.route('/v1/databases', ltxFileRoutes);
app.route('/v1/databases', pageRoutes);
app.route('/v1/databases', snapshotRoutes);
app.route('/v1/databases', queryRoutes);
app.route('/v1/databases', maintenanceRoutes);
app.route('/v1/databases', databaseRoutes);
app.route('/', litefsRoutes);
app.onError(onError);
app.notFound(notFound);
