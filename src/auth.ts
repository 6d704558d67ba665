// API tokens: parse Authorization, match tokens in constant time, check scope and database, requireScope middleware (DESIGN §4).
import type { Context, MiddlewareHandler } from 'hono';
import type { Scope, TokenSpec } from './config.ts';
import type { AppEnv } from './env.ts';
import { errorResponse } from './errors.ts';

/** The challenge sent with every 401 (RFC 6750 §3). */
export const WWW_AUTHENTICATE = 'Bearer realm="ltx-edge"';

/** How the Authorization header may carry the token. */
export interface AuthenticateOptions {
  /**
   * Also accept the bare token and `FlyV1 <token>`: LiteFS sends its configured value verbatim
   * (DESIGN §4, `/litefs`). Default false: only `Bearer <token>`.
   */
  raw?: boolean;
}

/**
 * The token an Authorization header presents, or null when it is absent or malformed.
 * `Bearer <token>` with the scheme in any case and any whitespace around and between; with `raw`
 * also `FlyV1 <token>` and the bare token. Tokens never contain whitespace (config.ts).
 */
export function parseAuthorization(header: string | undefined, opts: AuthenticateOptions = {}): string | null {
  if (header === undefined) return null;
  const parts = header.trim().split(/\s+/);
  if (parts.length === 2) {
    const scheme = parts[0].toLowerCase();
    if (scheme === 'bearer' || (opts.raw === true && scheme === 'flyv1')) return parts[1];
    return null;
  }
  if (parts.length === 1 && opts.raw === true) {
    const token = parts[0];
    // A lone scheme name is an empty credential, not a bare token.
    const lower = token.toLowerCase();
    if (token === '' || lower === 'bearer' || lower === 'flyv1') return null;
    return token;
  }
  return null;
}

/**
 * The TokenSpec whose token the header presents, or null (absent, malformed or unknown token).
 * Compares SHA-256 digests byte by byte in constant time against every configured token, so
 * neither the position of a mismatch nor which token matched shows in the timing.
 */
export async function authenticate(
  header: string | undefined,
  tokens: readonly TokenSpec[],
  opts: AuthenticateOptions = {},
): Promise<TokenSpec | null> {
  const token = parseAuthorization(header, opts);
  return token === null ? null : matchToken(token, tokens);
}

// Digests of configured tokens, per TokenSpec: specs are created once per Config by resolveConfig,
// so this is a per-Config cache that dies with it. Promises, so concurrent first requests share one digest.
const tokenDigests = new WeakMap<TokenSpec, Promise<Uint8Array>>();

function digestOf(spec: TokenSpec): Promise<Uint8Array> {
  let digest = tokenDigests.get(spec);
  if (digest === undefined) {
    digest = sha256(spec.token);
    tokenDigests.set(spec, digest);
  }
  return digest;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Constant-time equality of two digests (always 32 bytes). */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function matchToken(token: string, tokens: readonly TokenSpec[]): Promise<TokenSpec | null> {
  if (token === '' || tokens.length === 0) return null;
  const [presented, configured] = await Promise.all([sha256(token), Promise.all(tokens.map(digestOf))]);
  let match: TokenSpec | null = null;
  // No early exit: every configured token is compared. Duplicates are rejected by config.ts.
  for (let i = 0; i < tokens.length; i++) {
    if (digestsEqual(presented, configured[i])) match = tokens[i];
  }
  return match;
}

/**
 * Scope semantics (DESIGN §4 names the scopes, not their relation): `read`, `write` and `admin` are
 * independent, except that `admin` implies the other two. So a push-only producer can hold
 * ["write"] and not read data back, a reader ["read"], a LiteFS node ["read", "write"]; an admin
 * token that could delete or restore a database but not read it would make no sense.
 */
export function hasScope(spec: TokenSpec, scope: Scope): boolean {
  return spec.scopes.includes(scope) || spec.scopes.includes('admin');
}

/**
 * True when `name` matches a database pattern: an exact name, or a glob where `*` matches any run
 * of characters (including none), e.g. "app-*" or "*-staging". No other character is special.
 */
export function matchDatabasePattern(pattern: string, name: string): boolean {
  // Iterative wildcard match: on a mismatch, let the last `*` swallow one more character. O(len²) at worst.
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.length && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (star !== -1) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** True when the token covers database `name`: `databases` is "*" or one of its patterns matches. */
export function allowsDatabase(spec: TokenSpec, name: string): boolean {
  return spec.databases === '*' || spec.databases.some((pattern) => matchDatabasePattern(pattern, name));
}

/**
 * True when the token grants `scope` (see hasScope) on database `db`. Without `db` only the scope is
 * checked: routes that span databases (GET /v1/databases) must filter their answer with allowsDatabase.
 */
export function allows(spec: TokenSpec, scope: Scope, db?: string): boolean {
  return hasScope(spec, scope) && (db === undefined || allowsDatabase(spec, db));
}

/** Options of requireScope. */
export interface RequireScopeOptions extends AuthenticateOptions {
  /**
   * The database the request is about; default the route param `:db`. Returning undefined skips the
   * database check (the route then filters with allowsDatabase). For `/litefs`: `(c) => c.req.query('db')`.
   */
  db?: (c: Context<AppEnv>) => string | undefined;
}

/**
 * Middleware: 401 UNAUTHORIZED (with WWW-Authenticate) without a known token, 403 FORBIDDEN when it
 * lacks `scope` or the database; otherwise sets `c.var.token` and continues. Attach it to each route
 * (not `use('*')`), so that `:db` is a param of the matched route. Needs the config gate before it.
 * Token values are never logged nor echoed.
 */
export function requireScope(scope: Scope, opts: RequireScopeOptions = {}): MiddlewareHandler<AppEnv> {
  const dbOf = opts.db ?? ((c: Context<AppEnv>) => c.req.param('db'));
  return async function requireScope(c, next) {
    const config = c.get('config');
    if (config === undefined) throw new Error('requireScope: no config on the context (mount configGate first)');
    const header = c.req.header('authorization');
    const token = parseAuthorization(header, opts);
    if (token === null) {
      const why = header === undefined ? 'missing Authorization header' : 'malformed Authorization header: expected "Bearer <token>"';
      return unauthorized(why);
    }
    const spec = await matchToken(token, config.tokens);
    if (spec === null) return unauthorized('unknown token');
    if (!hasScope(spec, scope)) {
      return errorResponse('FORBIDDEN', `token lacks the "${scope}" scope`, { scope });
    }
    const db = dbOf(c);
    if (db !== undefined && !allowsDatabase(spec, db)) {
      return errorResponse('FORBIDDEN', 'token does not cover this database', { database: db });
    }
    c.set('token', spec);
    await next();
  };
}

function unauthorized(message: string): Response {
  return errorResponse('UNAUTHORIZED', message, undefined, { 'www-authenticate': WWW_AUTHENTICATE });
}
