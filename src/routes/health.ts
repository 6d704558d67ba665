// GET /v1/health: liveness, name and version; needs no token and works even when not configured.
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { NAME, VERSION } from '../version.ts';

/** Mounted at /v1/health. */
export const healthRoutes = new Hono<AppEnv>().get('/', (c) => {
  c.header('cache-control', 'no-store');
  return c.json({ ok: true, name: NAME, version: VERSION });
});
