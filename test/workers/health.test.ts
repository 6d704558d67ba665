// Worker smoke tests in workerd: health, JSON 404, DatabaseDO RPC and the scheduled handler.
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import worker from '../../src/index.ts';
import { DatabaseDO } from '../../src/durable/database.ts';

const BASE = 'https://ltx-edge.test';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /v1/health', () => {
  it('answers ok with name and version, no token needed', async () => {
    const res = await exports.default.fetch(`${BASE}/v1/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true, name: 'ltx-edge', version: pkg.version });
  });
});

describe('unknown routes', () => {
  it('answer 404 with the JSON error shape', async () => {
    const res = await exports.default.fetch(`${BASE}/v1/nope`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(typeof body.error.message).toBe('string');
  });
});

describe('DatabaseDO', () => {
  it('answers ping() over RPC through the DATABASE binding', async () => {
    const stub = env.DATABASE.getByName('orders');
    expect(await stub.ping()).toBe('pong');
  });

  it('is the DatabaseDO class inside the object', async () => {
    const stub = env.DATABASE.getByName('orders');
    const name = await runInDurableObject(stub, (instance: DatabaseDO) => {
      expect(instance).toBeInstanceOf(DatabaseDO);
      return instance.ping();
    });
    expect(name).toBe('pong');
  });
});

describe('scheduled', () => {
  it('runs the cron handler through the worker module', async () => {
    const log = vi.spyOn(console, 'log');
    const controller = createScheduledController({ cron: '* * * * *', scheduledTime: Date.UTC(2026, 0, 1) });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('ltx-edge scheduled: cron "* * * * *" at 2026-01-01T00:00:00.000Z'));
  });
});
