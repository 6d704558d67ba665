// requestLog (src/log.ts) on a small hono app: one JSON line per request with the matched pattern, database, status, ms and error code; nothing secret.

import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorResponse, onError, notFound, ApiError } from '../../src/errors.ts';
import { requestLog } from '../../src/log.ts';
import type { RequestLogEntry } from '../../src/log.ts';

function harness() {
  const lines: string[] = [];
  const app = new Hono();
  app.use('*', requestLog({ write: (line) => lines.push(line) }));
  app.get('/v1/databases/:db/pages/:pgno', async (c) => {
    await new Promise((r) => setTimeout(r, 1));
    return c.body(new Uint8Array(8));
  });
  app.get('/v1/databases/:db', (c) => {
    throw new ApiError('NOT_FOUND', `database ${c.req.param('db')} does not exist`);
  });
  app.post('/v1/databases/:db/ltx', () => errorResponse('UNAUTHORIZED', 'missing Authorization header'));
  app.get('/litefs/db/snapshot', (c) => c.json({ code: 'EPOSMISMATCH', error: 'position mismatch' }, 409));
  app.get('/boom', () => {
    throw 'not an Error';
  });
  app.onError(onError);
  app.notFound(notFound);
  const entries = () => lines.map((l) => JSON.parse(l) as RequestLogEntry);
  return { app, lines, entries };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('requestLog', () => {
  it('logs ts, method, the route pattern, db, status and ms', async () => {
    const { app, entries } = harness();
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValueOnce(Date.UTC(2026, 0, 1)).mockReturnValueOnce(Date.UTC(2026, 0, 1) + 250);
    const res = await app.request('/v1/databases/orders/pages/7?txid=0000000000000001');
    expect(res.status).toBe(200);
    expect(entries()).toEqual([
      { ts: '2026-01-01T00:00:00.000Z', method: 'GET', route: '/v1/databases/:db/pages/:pgno', db: 'orders', status: 200, ms: 250 },
    ]);
  });

  it("adds the error code of thrown and returned errors, and leaves the response's body intact", async () => {
    const { app, entries } = harness();
    const thrown = await app.request('/v1/databases/orders');
    expect(((await thrown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const returned = await app.request('/v1/databases/orders/ltx', {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret-token' },
      body: 'LTX-BYTES',
    });
    expect(returned.status).toBe(401);
    expect(entries()).toMatchObject([
      { route: '/v1/databases/:db', db: 'orders', status: 404, code: 'NOT_FOUND' },
      { method: 'POST', route: '/v1/databases/:db/ltx', db: 'orders', status: 401, code: 'UNAUTHORIZED' },
    ]);
  });

  it('never logs tokens, bodies or query strings', async () => {
    const { app, lines } = harness();
    await app.request('/v1/databases/orders/ltx?secret=q', {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret-token' },
      body: 'LTX-BYTES',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cret|LTX-BYTES|secret=q|authorization/i);
    expect(Object.keys(JSON.parse(lines[0])).sort()).toEqual(['code', 'db', 'method', 'ms', 'route', 'status', 'ts']);
  });

  it('unmatched paths: route null; invalid names: db null; LiteFS: db from ?db= and its code', async () => {
    const { app, entries } = harness();
    await app.request('/nope');
    await app.request('/v1/databases/..%2Fetc/pages/1');
    await app.request('/litefs/db/snapshot?db=orders');
    expect(entries()).toMatchObject([
      { route: null, db: null, status: 404, code: 'NOT_FOUND' },
      { route: '/v1/databases/:db/pages/:pgno', db: null, status: 200 },
      { route: '/litefs/db/snapshot', db: 'orders', status: 409, code: 'EPOSMISMATCH' },
    ]);
  });

  it('a throw that is not an Error is logged as 500 and still propagates', async () => {
    const { app, entries } = harness();
    await expect(app.request('/boom')).rejects.toBe('not an Error');
    expect(entries()).toMatchObject([{ route: '/boom', status: 500 }]);
    expect(entries()[0].code).toBeUndefined();
  });

  it('writes to console.log by default', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const app = new Hono().use('*', requestLog()).get('/x', (c) => c.text('ok'));
    await app.request('/x');
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({ method: 'GET', route: '/x', db: null, status: 200 });
  });
});
