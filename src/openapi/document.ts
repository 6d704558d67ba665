// The OpenAPI 3.1 document built from the route table (build time, Node): scripts/build-openapi.ts writes it to src/routes/openapi.json.

import { OpenAPIHono } from '@hono/zod-openapi';
import { ERROR_STATUS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { NAME, VERSION } from '../version.ts';
import { API_ROUTES, BEARER } from './routes.ts';
import { ErrorSchema } from './schemas.ts';

/** The generated document: a plain JSON object (OpenAPI 3.1.0). */
export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

const ERROR_TABLE = [
  '| code | HTTP status |',
  '|---|---|',
  ...(Object.entries(ERROR_STATUS) as [ErrorCode, number][]).map(([code, status]) => `| \`${code}\` | ${status} |`),
].join('\n');

const DESCRIPTION = `SQLite replication at the edge: LTX files in R2, one Durable Object per database, page reads from Workers.

**Auth**: \`Authorization: Bearer <token>\`. Tokens carry scopes \`read\`, \`write\`, \`admin\` (admin implies the other two) and a
database pattern. 401 \`UNAUTHORIZED\` without a valid token, 403 \`FORBIDDEN\` with the wrong scope or database. Each
operation names its scope in \`x-scope\` and in its security requirement.

**Errors**: every /v1 route answers errors as \`{"error": {"code", "message", "details"?}}\`; the code decides the status:

${ERROR_TABLE}

**Positions**: \`{"txid": "<16 hex>", "postApplyChecksum": "<16 hex>"}\`. **Point selectors** on reads: \`txid\` or \`at\`, and \`min_txid\`.`;

/** Builds the document from API_ROUTES. Pure; the route below caches it per isolate. */
export function buildOpenApiDocument(): OpenApiDocument {
  const gen = new OpenAPIHono();
  gen.openAPIRegistry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token from LTX_EDGE_TOKENS. Scopes: read, write, admin (admin implies read and write).',
  });
  gen.openAPIRegistry.register('Error', ErrorSchema);
  for (const r of API_ROUTES) gen.openAPIRegistry.registerPath(r.config);
  const doc = gen.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: NAME, version: VERSION, description: DESCRIPTION, license: { name: 'MIT' } },
    servers: [{ url: '/' }],
    security: [{ [BEARER]: [] }],
    tags: [
      { name: 'databases', description: 'Listing, info, stats, deletion.' },
      { name: 'writes', description: 'LTX pushes and page-set writes.' },
      { name: 'reads', description: 'Pages, changes and snapshots at a point.' },
      { name: 'files', description: 'The LTX catalog and raw files (Litestream layout).' },
      { name: 'admin', description: 'Restore and on-demand maintenance.' },
      { name: 'meta', description: 'Health and this document.' },
    ],
  });
  return { ...doc, 'x-error-status': { ...ERROR_STATUS } } as OpenApiDocument;
}

/** Where the Worker's copy of the document lives, from the repository root. */
export const OPENAPI_JSON_PATH = 'src/routes/openapi.json';

/** The document as committed there: two-space JSON and a final newline. */
export function openApiJSON(): string {
  return JSON.stringify(buildOpenApiDocument(), null, 2) + '\n';
}
