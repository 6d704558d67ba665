// How one /v1 route is described for the OpenAPI document: its spec, the error responses the spec implies, its operationId and hono path.

import { createRoute, type z } from '@hono/zod-openapi';
import type { RouteConfig } from '@hono/zod-openapi';
import type { Scope } from '../config.ts';
import { ERROR_STATUS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

/** Name of the bearer security scheme in the document. */
export const BEARER = 'bearer';

/** One operation of the table. */
export interface ApiRoute {
  /** The scope a token needs (auth.ts hasScope: admin implies read and write); null = no token. */
  scope: Scope | null;
  /** False for routes beyond DESIGN §4's table (health, the document itself, admin maintenance). */
  contract: boolean;
  /** Every error code the operation may answer with, the common ones included. */
  errors: ErrorCode[];
  /** The zod-openapi route config the document is generated from. */
  config: RouteConfig;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: `/v1/databases/{db}/ltx`. */
  path: string;
  scope: Scope | null;
  tag: string;
  summary: string;
  description?: string;
  contract?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: NonNullable<RouteConfig['request']>['body'];
  responses: RouteConfig['responses'];
  /** Codes particular to this route; auth, name, config and INTERNAL are added from the spec. */
  errors?: ErrorCode[];
  /** False for routes served even when the Worker is not configured. Default true. */
  gated?: boolean;
}

/** A binary request body of `mediaType`. */
export function binary(description: string, mediaType = 'application/octet-stream') {
  return { [mediaType]: { schema: { type: 'string', contentMediaType: mediaType, description } } } as const;
}

/** A JSON response of `schema`. */
export function json(schema: z.ZodType, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** The operation `spec` describes, with every error response it implies (auth, name, config, INTERNAL added). */
export function route(spec: RouteSpec): ApiRoute {
  const gated = spec.gated ?? true;
  const errors = new Set<ErrorCode>();
  if (spec.path.includes('{db}')) errors.add('INVALID_NAME');
  if (spec.query || spec.body || (spec.params && Object.keys(spec.params.shape).some((k) => k !== 'db'))) errors.add('BAD_REQUEST');
  for (const code of spec.errors ?? []) errors.add(code);
  if (spec.scope !== null) {
    errors.add('UNAUTHORIZED');
    errors.add('FORBIDDEN');
  }
  errors.add('INTERNAL');
  if (gated) errors.add('NOT_CONFIGURED');
  const codes = [...errors].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b));
  const responses: RouteConfig['responses'] = { ...spec.responses };
  for (const code of codes) {
    const status = String(ERROR_STATUS[code]);
    const same = codes.filter((c) => String(ERROR_STATUS[c]) === status);
    // The shared Error shape, its code narrowed to the codes of this status.
    const schema = { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: same } } } } }] };
    responses[status] = { description: same.map((c) => `\`${c}\``).join(', '), content: { 'application/json': { schema } } };
  }
  const scopeText = spec.scope === null ? 'No token needed.' : `Scope: \`${spec.scope}\`${spec.scope === 'admin' ? '' : ' (or `admin`)'}.`;
  const config = createRoute({
    method: spec.method,
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    description: [spec.description, scopeText].filter(Boolean).join('\n\n'),
    operationId: operationId(spec.method, spec.path),
    security: spec.scope === null ? [] : [{ [BEARER]: [spec.scope] }],
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(spec.body ? { body: spec.body } : {}),
    },
    responses,
    'x-scope': spec.scope ?? 'none',
    'x-error-codes': codes,
  });
  return { scope: spec.scope, contract: spec.contract ?? true, errors: codes, config };
}

/** `get /v1/databases/{db}/ltx/{level}/{file}` → `getDatabaseLtxLevelFile`. */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => s.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase()));
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** `/v1/databases/{db}` → `/v1/databases/:db` (hono's pattern syntax). */
export function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}
