// errors.ts: the status table, the JSON error shape, and onError/notFound through a hono app in Node.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ERROR_STATUS, errorBody, invalidLtx, notFound, onError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import { LTXError } from '../../src/ltx/errors.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function appThrowing(err: unknown): Hono {
  const app = new Hono();
  app.post('/x', async (c) => {
    if (err === 'json') return c.json(await c.req.json());
    throw err;
  });
  app.onError(onError);
  app.notFound(notFound);
  return app;
}

async function call(
  err: unknown,
  init: RequestInit = { method: 'POST' },
): Promise<{ status: number; body: { error: { code: string; message: string; details?: Record<string, unknown> } }; res: Response }> {
  const res = await appThrowing(err).request('/x', init);
  return { status: res.status, body: await res.json(), res };
}

describe('ERROR_STATUS', () => {
  it.each<[ErrorCode, number]>([
    ['BAD_REQUEST', 400],
    ['INVALID_NAME', 400],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['METHOD_NOT_ALLOWED', 405],
    ['PAYLOAD_TOO_LARGE', 413],
    ['POSITION_MISMATCH', 409],
    ['CONFLICT', 409],
    ['NOT_YET_AVAILABLE', 409],
    ['PAGE_SIZE_MISMATCH', 409],
    ['TXID_NOT_AVAILABLE', 410],
    ['RANGE_NOT_SATISFIABLE', 416],
    ['INVALID_LTX', 422],
    ['INTERNAL', 500],
    ['NOT_CONFIGURED', 503],
  ])('%s → %i', (code, status) => {
    expect(ERROR_STATUS[code]).toBe(status);
    expect(new ApiError(code, 'm').status).toBe(status);
  });

  it('omits details when absent', () => {
    expect(errorBody('NOT_FOUND', 'm')).toEqual({ error: { code: 'NOT_FOUND', message: 'm' } });
  });
});

describe('onError', () => {
  it('answers an ApiError with its status, code and details', async () => {
    const pos = { txid: '0000000000000007', postApplyChecksum: '8000000000000000' };
    const { status, body, res } = await call(new ApiError('POSITION_MISMATCH', 'gap', { pos }));
    expect(status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual({ error: { code: 'POSITION_MISMATCH', message: 'gap', details: { pos } } });
  });

  it('answers a malformed JSON body with 400 BAD_REQUEST', async () => {
    const { status, body } = await call('json', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(status).toBe(400);
    expect(body.error.code).toBe('BAD_REQUEST');
  });

  it('answers a codec rejection with 422 INVALID_LTX and details.ltxCode', async () => {
    const { status, body } = await call(new LTXError('LTX_BAD_MAGIC', 'bad magic'));
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'INVALID_LTX', details: { ltxCode: 'LTX_BAD_MAGIC' } });
    expect(invalidLtx(new LTXError('LTX_TRUNCATED', 't')).details).toEqual({ ltxCode: 'LTX_TRUNCATED' });
  });

  it.each<[number, ErrorCode]>([
    [401, 'UNAUTHORIZED'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [429, 'BAD_REQUEST'],
  ])('answers HTTPException %i with its own status', async (status, code) => {
    const res = new Response('x', { status, headers: { 'www-authenticate': 'Bearer' } });
    const got = await call(new HTTPException(status as 401, { message: 'no', res }));
    expect(got.status).toBe(status);
    expect(got.body.error.code).toBe(code);
    expect(got.res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers anything else with 500 INTERNAL, logged, without internals', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { status, body } = await call(new Error('secret detail'));
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(logged).toHaveBeenCalled();
  });

  it('treats LTX_INVALID_ARGUMENT as our bug: 500', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { status } = await call(new LTXError('LTX_INVALID_ARGUMENT', 'bad call'));
    expect(status).toBe(500);
  });
});

describe('notFound', () => {
  it('answers 404 NOT_FOUND as JSON', async () => {
    const res = await appThrowing(null).request('/elsewhere');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
