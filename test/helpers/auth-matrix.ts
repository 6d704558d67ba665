// Token fixtures and expectAuthMatrix: for any route, none/bad → 401, too weak → 403, enough → neither (DESIGN §4).
import type { Scope, TokenSpec } from '../../src/config.ts';

/** The only database the `otherDb` token covers; routes under test must use another name. */
export const OTHER_DATABASE = 'auth-other-db';

/** Token values of the fixture, by role. */
export const TOKENS = {
  /** ["read"] on every database. */
  read: 'test-read-token',
  /** ["write"] on every database (no read: scopes are independent, auth.ts). */
  write: 'test-write-token',
  /** ["admin"] on every database (admin implies read and write). */
  admin: 'test-admin-token',
  /** Every scope, but only on OTHER_DATABASE. */
  otherDb: 'test-other-db-token',
} as const;

export type TokenRole = keyof typeof TOKENS;

/** The fixture as configured token specs. */
export const TOKEN_SPECS: TokenSpec[] = [
  { token: TOKENS.read, scopes: ['read'], databases: '*' },
  { token: TOKENS.write, scopes: ['write'], databases: '*' },
  { token: TOKENS.admin, scopes: ['admin'], databases: '*' },
  { token: TOKENS.otherDb, scopes: ['read', 'write', 'admin'], databases: [OTHER_DATABASE] },
];

/** The fixture as the LTX_EDGE_TOKENS var: `resolveConfig({ LTX_EDGE_TOKENS: TOKENS_JSON, ... })`. */
export const TOKENS_JSON = JSON.stringify(TOKEN_SPECS);

/**
 * `env` with the fixture tokens, as a new object (the app resolves config once per env object):
 * `app.request(url, init, withTokens(env))` runs the real app, bindings included, with these tokens.
 */
export function withTokens<E extends object>(env: E): E & { LTX_EDGE_TOKENS: string } {
  return { ...env, LTX_EDGE_TOKENS: TOKENS_JSON };
}

/** `{ authorization: "Bearer <token>" }`. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** Something that answers requests: `exports.default.fetch`, or `(url, init) => app.request(url, init, env)`. */
export type Fetch = (url: string, init?: RequestInit) => Response | Promise<Response>;

/** One route to check. */
export interface MatrixRoute {
  method: string;
  /** Path (and query) with a concrete database name other than OTHER_DATABASE, or a full URL. */
  path: string;
  scope: Scope;
  /** Sent with every request; a function is called once per request (streams cannot be replayed). */
  body?: string | Uint8Array | (() => BodyInit);
  headers?: Record<string, string>;
  /** False for routes about no single database (GET /v1/databases, /litefs/pos): the otherDb token passes. Default true. */
  perDatabase?: boolean;
  /** The route takes the Authorization value raw (LiteFS, `requireScope(.., { raw: true })`). Default false. */
  raw?: boolean;
}

/** One request of the matrix and its outcome. */
export interface MatrixResult {
  route: string;
  case: string;
  expected: 401 | 403 | 'pass';
  status: number;
  code: string | null;
}

const BASE = 'https://ltx-edge.test';

interface MatrixCase {
  name: string;
  authorization: string | undefined;
  expected: MatrixResult['expected'];
}

function casesFor(route: MatrixRoute): MatrixCase[] {
  const perDatabase = route.perDatabase ?? true;
  const raw = route.raw ?? false;
  const rejected: MatrixCase[] = [
    { name: 'no header', authorization: undefined, expected: 401 },
    { name: 'Basic scheme', authorization: 'Basic dGVzdDp0ZXN0', expected: 401 },
    { name: 'empty Bearer', authorization: 'Bearer ', expected: 401 },
    { name: 'unknown token', authorization: 'Bearer not-a-configured-token', expected: 401 },
  ];
  const sufficient = (role: TokenRole): boolean => role === 'admin' || role === route.scope || (role === 'otherDb' && !perDatabase);
  const roles = Object.keys(TOKENS) as TokenRole[];
  const tokenCases = roles.map(
    (role): MatrixCase => ({ name: `${role} token`, authorization: `Bearer ${TOKENS[role]}`, expected: sufficient(role) ? 'pass' : 403 }),
  );
  const rawCases: MatrixCase[] = [
    { name: 'bare admin token', authorization: TOKENS.admin, expected: raw ? 'pass' : 401 },
    { name: 'FlyV1 admin token', authorization: `FlyV1 ${TOKENS.admin}`, expected: raw ? 'pass' : 401 },
  ];
  // Rejections first, so requests that change state (DELETE, pushes) run after the ones that must not.
  const all = [...rejected, ...tokenCases, ...rawCases];
  return [...all.filter((c) => c.expected !== 'pass'), ...all.filter((c) => c.expected === 'pass')];
}

async function errorCodeOf(res: Response): Promise<{ code: string | null; text: string }> {
  const text = await res.text();
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return { code: typeof code === 'string' ? code : null, text };
  } catch {
    return { code: null, text };
  }
}

/**
 * Sends every route once per auth case and asserts, reporting all mismatches together: no header,
 * a malformed header or an unknown token → 401 UNAUTHORIZED with WWW-Authenticate; each token
 * without the scope (or, for per-database routes, without the database) → 403 FORBIDDEN; each
 * sufficient token → neither 401 nor 403. Error bodies must never contain a token value. Throws one
 * Error listing every mismatch.
 * Sufficient requests really run the route. Returns every outcome for further checks.
 */
export async function expectAuthMatrix(fetch: Fetch, routes: readonly MatrixRoute[]): Promise<MatrixResult[]> {
  const results: MatrixResult[] = [];
  const mismatches: string[] = [];
  const secrets = Object.values(TOKENS);
  for (const route of routes) {
    if (route.path.includes(OTHER_DATABASE)) throw new Error(`expectAuthMatrix: ${route.path} uses OTHER_DATABASE`);
    const label = `${route.method} ${route.path}`;
    for (const c of casesFor(route)) {
      const headers = new Headers(route.headers);
      if (c.authorization !== undefined) headers.set('authorization', c.authorization);
      const body = typeof route.body === 'function' ? route.body() : route.body;
      const url = route.path.startsWith('/') ? BASE + route.path : route.path;
      const res = await fetch(url, { method: route.method, headers, body });
      let code: string | null = null;
      const problems: string[] = [];
      if (res.status === 401 || res.status === 403) {
        const parsed = await errorCodeOf(res);
        code = parsed.code;
        if (secrets.some((s) => parsed.text.includes(s))) problems.push('body echoes a token');
        if (res.status === 401 && res.headers.get('www-authenticate') === null) problems.push('401 without WWW-Authenticate');
      } else {
        await res.body?.cancel();
      }
      const wantCode = c.expected === 401 ? 'UNAUTHORIZED' : c.expected === 403 ? 'FORBIDDEN' : null;
      if (c.expected === 'pass' ? res.status === 401 || res.status === 403 : res.status !== c.expected || code !== wantCode) {
        problems.push(
          `expected ${c.expected === 'pass' ? 'neither 401 nor 403' : `${c.expected} ${wantCode}`}, got ${res.status} ${code ?? ''}`.trim(),
        );
      }
      for (const p of problems) mismatches.push(`${label} [${c.name}]: ${p}`);
      results.push({ route: label, case: c.name, expected: c.expected, status: res.status, code });
    }
  }
  // One message listing every mismatch reads better than a diff of arrays.
  if (mismatches.length > 0) throw new Error(`auth matrix: ${mismatches.length} mismatch(es)\n${mismatches.join('\n')}`);
  return results;
}
