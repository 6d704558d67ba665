// The config gate: without tokens in production every route but /v1/health answers 503 NOT_CONFIGURED.
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app.ts';
import type { Env } from '../../src/env.ts';

// A fresh env object each time: the app caches resolved config per env object.
function envWith(vars: Partial<Env>): Env {
  return { ...env, ...vars };
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('config gate', () => {
  it('lets requests through with the .dev.vars token (wrangler.toml + .dev.vars are loaded)', async () => {
    expect(env.LTX_EDGE_ENV).toBe('development');
    const res = await app.request('/v1/unknown', {}, env);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('NOT_FOUND');
  });

  it('answers 503 NOT_CONFIGURED in production without tokens, except /v1/health', async () => {
    const production = envWith({ LTX_EDGE_ENV: 'production', LTX_EDGE_TOKENS: undefined });
    const res = await app.request('/v1/databases', {}, production);
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe('NOT_CONFIGURED');
    const health = await app.request('/v1/health', {}, production);
    expect(health.status).toBe(200);
  });

  it('answers 503 NOT_CONFIGURED with the config code when a var is invalid', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await app.request('/v1/databases', {}, envWith({ LTX_EDGE_LEVELS: '5m,1m' }));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; details: { configCode: string; variable: string } } };
    expect(body.error.code).toBe('NOT_CONFIGURED');
    expect(body.error.details).toEqual({ configCode: 'INVALID_LEVELS', variable: 'LTX_EDGE_LEVELS' });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});
