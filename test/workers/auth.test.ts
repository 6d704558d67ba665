// requireScope in workerd: the {header} × {read, write, admin route} matrix on a test app, raw auth, and the real config gate.
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { configGate } from '../../src/app.ts';
import { requireScope, WWW_AUTHENTICATE } from '../../src/auth.ts';
import { resolveConfig } from '../../src/config.ts';
import type { Scope } from '../../src/config.ts';
import type { AppEnv } from '../../src/env.ts';
import { notFound, onError } from '../../src/errors.ts';
import { bearer, expectAuthMatrix, OTHER_DATABASE, TOKENS, TOKENS_JSON, withTokens } from '../helpers/auth-matrix.ts';
import type { MatrixRoute } from '../helpers/auth-matrix.ts';

const BASE = 'https://ltx-edge.test';
const config = resolveConfig({ LTX_EDGE_TOKENS: TOKENS_JSON, LTX_EDGE_ENV: 'development' });

/** Routes guarded like the real ones; handlers answer which scopes the token had (never its value). */
function guarded(app: Hono<AppEnv>): Hono<AppEnv> {
  for (const scope of ['read', 'write', 'admin'] as const) {
    app.post(`/t/:db/${scope}`, requireScope(scope), (c) => c.json({ ok: true, scopes: c.get('token').scopes }));
  }
  app.get('/t/all', requireScope('read'), (c) => c.json({ ok: true }));
  app.get('/litefs/pos', requireScope('read', { raw: true }), (c) => c.json({ ok: true }));
  app.post('/litefs/db/tx', requireScope('write', { raw: true, db: (c) => c.req.query('db') }), (c) => c.json({ ok: true }));
  app.onError(onError);
  app.notFound(notFound);
  return app;
}

const testApp = guarded(
  new Hono<AppEnv>().use('*', async function setConfig(c, next) {
    c.set('config', config);
    await next();
  }),
);

async function send(authorization: string | undefined, path: string): Promise<Response> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  return testApp.request(`${BASE}${path}`, { method: path.startsWith('/litefs/pos') ? 'GET' : 'POST', headers });
}

async function outcome(res: Response): Promise<string> {
  if (res.status === 200) return '200';
  const body = (await res.json()) as { error: { code: string } };
  return `${res.status} ${body.error.code}`;
}

const OK = '200';
const NO = '401 UNAUTHORIZED';
const FORBIDDEN = '403 FORBIDDEN';

describe('requireScope matrix', () => {
  // header → expected outcome on the [read, write, admin] routes of database "orders".
  const matrix: [string, string | undefined, [string, string, string]][] = [
    ['no header', undefined, [NO, NO, NO]],
    ['malformed header', 'Basic dGVzdDp0ZXN0', [NO, NO, NO]],
    ['empty bearer', 'Bearer', [NO, NO, NO]],
    ['unknown token', 'Bearer unknown-token', [NO, NO, NO]],
    ['read token', `Bearer ${TOKENS.read}`, [OK, FORBIDDEN, FORBIDDEN]],
    ['write token', `Bearer ${TOKENS.write}`, [FORBIDDEN, OK, FORBIDDEN]],
    ['admin token', `Bearer ${TOKENS.admin}`, [OK, OK, OK]],
    ['admin token, lower-case scheme', `bearer ${TOKENS.admin}`, [OK, OK, OK]],
    ['admin token without scheme', TOKENS.admin, [NO, NO, NO]],
    ['token for another database', `Bearer ${TOKENS.otherDb}`, [FORBIDDEN, FORBIDDEN, FORBIDDEN]],
  ];
  it.each(matrix)('%s', async (_name, authorization, want) => {
    const got = [];
    for (const scope of ['read', 'write', 'admin'] as const) got.push(await outcome(await send(authorization, `/t/orders/${scope}`)));
    expect(got).toEqual(want);
  });

  it('lets the other-database token in on its own database', async () => {
    for (const scope of ['read', 'write', 'admin'] as const) {
      expect(await outcome(await send(`Bearer ${TOKENS.otherDb}`, `/t/${OTHER_DATABASE}/${scope}`))).toBe(OK);
    }
  });

  it('401 carries WWW-Authenticate and no token value; 403 names the missing scope or database', async () => {
    const unauthorized = await send('Bearer some-secret-guess', '/t/orders/read');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe(WWW_AUTHENTICATE);
    expect(await unauthorized.text()).not.toContain('some-secret-guess');

    const scope = await send(`Bearer ${TOKENS.read}`, '/t/orders/admin');
    expect(scope.headers.get('www-authenticate')).toBeNull();
    const scopeBody = await scope.text();
    expect(scopeBody).not.toContain(TOKENS.read);
    expect(JSON.parse(scopeBody).error.details).toEqual({ scope: 'admin' });

    const db = await send(`Bearer ${TOKENS.otherDb}`, '/t/orders/read');
    expect(((await db.json()) as { error: { details: unknown } }).error.details).toEqual({ database: 'orders' });
  });

  it('puts the token spec on the context', async () => {
    const res = await send(`Bearer ${TOKENS.admin}`, '/t/orders/write');
    expect(await res.json()).toEqual({ ok: true, scopes: ['admin'] });
  });

  it('skips the database check when the route has no database', async () => {
    const res = await testApp.request(`${BASE}/t/all`, { headers: bearer(TOKENS.otherDb) });
    expect(res.status).toBe(200);
  });
});

describe('raw Authorization (LiteFS)', () => {
  it.each([
    ['bare token', TOKENS.admin, OK],
    ['FlyV1', `FlyV1 ${TOKENS.admin}`, OK],
    ['Bearer', `Bearer ${TOKENS.admin}`, OK],
    ['unknown bare token', 'nope', NO],
    ['read token', TOKENS.read, OK],
  ])('GET /litefs/pos with %s', async (_name, authorization, want) => {
    expect(await outcome(await send(authorization, '/litefs/pos'))).toBe(want);
  });

  it('takes the database from ?db= when told to', async () => {
    const tx = async (token: string, db: string): Promise<Response> =>
      testApp.request(`${BASE}/litefs/db/tx?db=${db}`, { method: 'POST', headers: { authorization: token } });
    expect(await outcome(await tx(TOKENS.otherDb, OTHER_DATABASE))).toBe(OK);
    expect(await outcome(await tx(TOKENS.otherDb, 'orders'))).toBe(FORBIDDEN);
    expect(await outcome(await tx(TOKENS.read, 'orders'))).toBe(FORBIDDEN);
    expect(await outcome(await tx(TOKENS.write, 'orders'))).toBe(OK);
  });
});

describe('expectAuthMatrix helper', () => {
  const routes: MatrixRoute[] = [
    ...(['read', 'write', 'admin'] as Scope[]).map(
      (scope): MatrixRoute => ({ method: 'POST', path: `/t/orders/${scope}`, scope, body: '{}' }),
    ),
    { method: 'GET', path: '/t/all', scope: 'read', perDatabase: false },
    { method: 'GET', path: '/litefs/pos', scope: 'read', perDatabase: false, raw: true },
    { method: 'POST', path: '/litefs/db/tx?db=orders', scope: 'write', raw: true, body: () => new Uint8Array([1, 2, 3]) },
  ];

  it('passes on the test app with the config set directly', async () => {
    const results = await expectAuthMatrix((url, init) => testApp.request(url, init), routes);
    expect(results.filter((r) => r.expected === 'pass').every((r) => r.status === 200)).toBe(true);
  });

  it('passes behind the real config gate with tokens injected through env', async () => {
    const gated = guarded(new Hono<AppEnv>().use('*', configGate()));
    const tokenEnv = withTokens(env);
    await expectAuthMatrix((url, init) => gated.request(url, init, tokenEnv), routes);
  });

  it('catches a route guarded with too weak a scope', async () => {
    const weak: MatrixRoute = { method: 'POST', path: '/t/orders/read', scope: 'admin' };
    await expect(expectAuthMatrix((url, init) => testApp.request(url, init), [weak])).rejects.toThrow(
      /\[read token\]: expected 403 FORBIDDEN, got 200/,
    );
  });

  it('the .dev.vars token is not in the fixture config', async () => {
    const res = await send('Bearer dev-token', '/t/orders/read');
    expect(res.status).toBe(401);
  });
});
