// GET /v1/openapi.json and /v1/docs against the running app: the document lists exactly the /v1 routes hono registered, DESIGN §4's with their scopes, and every documented parameter, scope and example is what the routes really enforce.

import { env, exports } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { app } from '../../src/app.ts';
import { operationsOf } from '../../src/routes/docs-page.ts';
import { honoPath } from '../../src/openapi/route.ts';
import served from '../../src/routes/openapi.json' with { type: 'json' };
import { TOKENS, bearer, withTokens } from '../helpers/auth-matrix.ts';
import type { TokenRole } from '../helpers/auth-matrix.ts';

const BASE = 'https://ltx-edge.test';
const DEV = { authorization: 'Bearer dev-token' };
const tokenEnv = withTokens(env);

const { manifest, files } = inject('ltxVectors');

type Schema = Record<string, unknown>;
interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Op {
  summary: string;
  requestBody?: { content: Record<string, { schema: Schema }> };
  'x-scope': string;
  'x-error-codes': string[];
  parameters?: Param[];
  responses: Record<string, unknown>;
}

/** DESIGN §4's table: method + path → scope. */
const DESIGN_ROUTES: Record<string, string> = {
  'GET /v1/databases': 'read',
  'GET /v1/databases/:db': 'read',
  'DELETE /v1/databases/:db': 'admin',
  'POST /v1/databases/:db/ltx': 'write',
  'POST /v1/databases/:db/tx': 'write',
  'GET /v1/databases/:db/pages/:pgno': 'read',
  'GET /v1/databases/:db/pages': 'read',
  'GET /v1/databases/:db/changes': 'read',
  'GET /v1/databases/:db/snapshot': 'read',
  'POST /v1/databases/:db/query': 'read',
  'GET /v1/databases/:db/ltx': 'read',
  'GET /v1/databases/:db/ltx/:level/:file': 'read',
  'POST /v1/databases/:db/restore': 'admin',
  'GET /v1/databases/:db/stats': 'read',
};

const doc = served as unknown as {
  components: { schemas: Record<string, Schema> };
  'x-error-status': Record<string, number>;
};
const ops = operationsOf(doc) as unknown as [string, string, Op][];

/** `METHOD /hono/:path` of every /v1 route the app registered (app.use middleware has method ALL). */
function registeredRoutes(): Set<string> {
  return new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/')).map((r) => `${r.method} ${r.path}`));
}

/** The schema with $ref and allOf merged in. */
function resolve(schema: Schema): Schema {
  let out: Schema = { ...schema };
  if (typeof out.$ref === 'string') out = { ...resolve(doc.components.schemas[out.$ref.split('/').pop()!]), ...out, $ref: undefined };
  if (Array.isArray(out.allOf)) for (const part of out.allOf as Schema[]) out = { ...out, ...resolve(part) };
  return out;
}

/** A value the document says is valid. */
function exampleOf(p: Param): string {
  const s = resolve(p.schema);
  const value =
    s.example ??
    (Array.isArray(s.examples) ? s.examples[0] : undefined) ??
    s.default ??
    (Array.isArray(s.enum) ? s.enum[0] : undefined) ??
    s.minimum;
  if (value === undefined) throw new Error(`parameter ${p.name} has no example`);
  return String(value);
}

/** Values the document says are invalid, from the schema's own constraints. */
function invalidSamples(p: Param): string[] {
  const s = resolve(p.schema);
  const out: string[] = [];
  if (Array.isArray(s.enum)) out.push('not-in-enum');
  if (typeof s.pattern === 'string') {
    expect(new RegExp(s.pattern).test('!'), `${p.name} pattern`).toBe(false);
    out.push('!');
  }
  if (s.type === 'integer') {
    out.push('x');
    if (typeof s.minimum === 'number') out.push(String(s.minimum - 1));
    if (typeof s.maximum === 'number') out.push(String(s.maximum + 1));
  }
  if (typeof s.maxLength === 'number') out.push('a'.repeat(s.maxLength + 1));
  return out;
}

/** A request for `op` on database `db`: path params and required query params at their examples, `set` overriding. */
function requestFor(
  path: string,
  op: Op,
  db: string,
  set: Record<string, string | undefined> = {},
  token: string = TOKENS.admin,
): [string, RequestInit] {
  const values = new Map<string, string | undefined>();
  for (const p of op.parameters ?? []) if (p.in === 'path' || p.required) values.set(p.name, p.name === 'db' ? db : exampleOf(p));
  for (const [k, v] of Object.entries(set)) values.set(k, v);
  const query = new URLSearchParams();
  const headers: Record<string, string> = { ...bearer(token) };
  let url = path;
  for (const p of op.parameters ?? []) {
    const v = values.get(p.name);
    if (v === undefined) continue;
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(v));
    else if (p.in === 'query') query.set(p.name, v);
    else headers[p.name] = v;
  }
  const qs = query.toString();
  const jsonBody = op.requestBody?.content['application/json'];
  if (!jsonBody) return [qs ? `${url}?${qs}` : url, { headers }];
  // The schema's example, so the route gets past its body to the parameters.
  headers['content-type'] = 'application/json';
  return [qs ? `${url}?${qs}` : url, { headers, body: JSON.stringify(resolve(jsonBody.schema).example) }];
}

/** Query names the routes read, per request: `c.req.query(name)` recorded by a wrapper around the app. */
const queried = new Set<string>();
const probe = new Hono();
probe.use('*', async (c, next) => {
  const query = c.req.query.bind(c.req) as (key?: string) => unknown;
  Object.assign(c.req, {
    query: (key?: string) => {
      queried.add(String(key));
      return query(key);
    },
  });
  await next();
});
probe.route('/', app);

/** The real app (its routes, onError) with the fixture tokens and an execution context (snapshots stream through waitUntil). */
async function send(method: string, [url, init]: [string, RequestInit]): Promise<{ status: number; code: string | null }> {
  const ctx = createExecutionContext();
  const res = await probe.request(BASE + url, { ...init, method }, tokenEnv, ctx);
  // Read the body before waiting on the context: a snapshot's waitUntil ends only once it is read.
  // An event stream (…/watch) never ends by itself: its answer is the status.
  const stream = res.headers.get('content-type')?.startsWith('text/event-stream');
  const text = stream ? '' : await res.text();
  if (stream) await res.body?.cancel();
  await waitOnExecutionContext(ctx);
  let code: string | null = null;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    // not JSON: a success body
  }
  return { status: res.status, code };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /v1/openapi.json', () => {
  it('serves the OpenAPI 3.1 document without a token, even unconfigured', async () => {
    const res = await exports.default.fetch(`${BASE}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await res.json()) as { openapi: string; info: { title: string } };
    expect(served.openapi).toBe('3.1.0');
    expect(served).toEqual(doc);

    const unconfigured = await app.request(
      `${BASE}/v1/openapi.json`,
      {},
      { ...env, LTX_EDGE_ENV: 'production', LTX_EDGE_TOKENS: undefined },
    );
    expect(unconfigured.status).toBe(200);
    await unconfigured.body?.cancel();
  });

  it('documents exactly the /v1 routes the app registers', () => {
    const documented = ops.map(([method, path]) => `${method} ${honoPath(path)}`).sort();
    expect(documented).toEqual([...registeredRoutes()].sort());
  });

  it("lists every DESIGN §4 route the app registers, with DESIGN's scope", () => {
    const registered = registeredRoutes();
    const byRoute = new Map(ops.map(([method, path, op]) => [`${method} ${honoPath(path)}`, op]));
    const served = Object.keys(DESIGN_ROUTES).filter((r) => registered.has(r));
    expect(served.length).toBeGreaterThanOrEqual(13);
    for (const r of served) expect(byRoute.get(r)?.['x-scope'], r).toBe(DESIGN_ROUTES[r]);
    // Not served yet (POST …/query): then not documented either.
    for (const r of Object.keys(DESIGN_ROUTES).filter((r) => !registered.has(r))) expect(byRoute.has(r), r).toBe(false);
  });

  it("every operation's error statuses are errors.ts's statuses of its codes", () => {
    const table = doc['x-error-status'];
    for (const [method, path, op] of ops) {
      const statuses = new Set(op['x-error-codes'].map((c) => String(table[c])));
      const documented = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      expect(documented.sort(), `${method} ${path}`).toEqual([...statuses].sort());
    }
  });
});

describe('scopes in the document are the scopes the routes enforce', () => {
  const roles: TokenRole[] = ['read', 'write', 'admin'];
  const grants = (role: TokenRole, scope: string) => role === 'admin' || role === scope;

  it('no token → 401, a token without x-scope → 403, with it → through to the route', async () => {
    for (const [method, path, op] of ops) {
      const label = `${method} ${path}`;
      const scope = op['x-scope'];
      // An invalid name: a request that gets through auth stops at 400 INVALID_NAME and changes nothing.
      const [url] = requestFor(path, op, 'NOT-A-NAME');
      const anonymous = await send(method, [url, {}]);
      if (scope === 'none') {
        // Served without a token; a read link's route still checks the name first.
        expect(anonymous.status, label).toBe(path.includes('{db}') ? 400 : 200);
        continue;
      }
      expect(anonymous, label).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      for (const role of roles) {
        const got = await send(method, [url, { headers: bearer(TOKENS[role]) }]);
        if (!grants(role, scope)) expect(got, `${label} with ${role}`).toEqual({ status: 403, code: 'FORBIDDEN' });
        else if (path.includes('{db}')) expect(got, `${label} with ${role}`).toEqual({ status: 400, code: 'INVALID_NAME' });
        else expect(got.status, `${label} with ${role}`).toBe(200);
      }
    }
  });
});

describe('parameters in the document are the ones the routes validate', () => {
  const SEEDED = 'openapi-seeded';
  const CHAIN = manifest.files
    .filter((f) => f.set === 'block-ps4096')
    .map((f) => f.path)
    .sort()
    .slice(0, 3);

  beforeAll(async () => {
    for (const p of CHAIN) {
      const body = Uint8Array.from(atob(files[p]), (c) => c.charCodeAt(0));
      const res = await exports.default.fetch(`${BASE}/v1/databases/${SEEDED}/ltx`, { method: 'POST', headers: DEV, body });
      expect([200, 201]).toContain(res.status);
      await res.body?.cancel();
    }
  });

  it('a value outside the documented schema is refused with a documented 4xx', async () => {
    let checked = 0;
    for (const [method, path, op] of ops) {
      for (const p of op.parameters ?? []) {
        if (p.name === 'db') continue;
        for (const bad of invalidSamples(p)) {
          const got = await send(method, requestFor(path, op, 'openapi-absent', { [p.name]: bad }));
          const label = `${method} ${path} ${p.in} ${p.name}=${JSON.stringify(bad.slice(0, 20))}`;
          expect(['BAD_REQUEST', 'RANGE_NOT_SATISFIABLE'], `${label} → ${got.status} ${got.code}`).toContain(got.code);
          expect(op['x-error-codes'], label).toContain(got.code);
          expect(Object.keys(op.responses), label).toContain(String(got.status));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('a required parameter left out is refused with 400', async () => {
    for (const [method, path, op] of ops) {
      for (const p of (op.parameters ?? []).filter((p) => p.in === 'query' && p.required)) {
        const got = await send(method, requestFor(path, op, 'openapi-absent', { [p.name]: undefined }));
        expect(got, `${method} ${path} without ${p.name}`).toEqual({ status: 400, code: 'BAD_REQUEST' });
      }
    }
  });

  it("every read answers 2xx with the document's examples, one optional parameter at a time", async () => {
    // A read link's route needs a link the server signed: the document's example is only its shape.
    const minted = await exports.default.fetch(`${BASE}/v1/databases/${SEEDED}/links`, { method: 'POST', headers: DEV });
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };
    const link = url.slice(url.lastIndexOf('/') + 1);
    for (const [method, path, op] of ops.filter(([m, p]) => m === 'GET' && p.includes('{db}'))) {
      const optional = (op.parameters ?? []).filter((p) => p.in !== 'path' && !p.required);
      for (const extra of [undefined, ...optional]) {
        const set = { ...(path.includes('{link}') ? { link } : {}), ...(extra ? { [extra.name]: exampleOf(extra) } : {}) };
        const got = await send(method, requestFor(path, op, SEEDED, set));
        expect(got.status, `${method} ${path} ${JSON.stringify(set)} → ${got.code}`).toBeGreaterThanOrEqual(200);
        expect(got.status, `${method} ${path} ${JSON.stringify(set)} → ${got.code}`).toBeLessThan(300);
      }
    }
  });

  it('routes read no query parameter the document does not list', async () => {
    let reads = 0;
    for (const [method, path, op] of ops) {
      const documented = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      const optional = (op.parameters ?? []).filter((p) => p.in === 'query' && !p.required);
      // One optional parameter at a time (txid and at exclude each other); writes go to a database that does not exist.
      const db = method === 'GET' ? SEEDED : 'openapi-absent';
      for (const extra of [undefined, ...optional]) {
        queried.clear();
        await send(method, requestFor(path, op, db, extra ? { [extra.name]: exampleOf(extra) } : {}));
        reads += queried.size;
        for (const name of queried) expect(documented, `${method} ${path} reads ?${name}`).toContain(name);
      }
    }
    expect(reads).toBeGreaterThan(20);
  });
});

describe('GET /v1/docs', () => {
  it('renders every operation as HTML with no scripts and no external resources', async () => {
    const res = await exports.default.fetch(`${BASE}/v1/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    for (const [method, path, op] of ops) {
      expect(html, `${method} ${path}`).toContain(`${method}</span> <code>${path}</code>`);
      expect(html).toContain(op.summary.replace(/'/g, '&#39;'));
    }
    for (const code of ['POSITION_MISMATCH', 'TXID_NOT_AVAILABLE', 'NOT_CONFIGURED']) expect(html).toContain(`<code>${code}</code>`);
  });
});
