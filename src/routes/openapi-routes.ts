// The typed table of every /v1 route (DESIGN §4): method, path, scope, and the same zod schemas the routes validate with (params.ts); the OpenAPI document is generated from it.

import { z } from '@hono/zod-openapi';
import { ERROR_STATUS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import {
  AtSchema,
  ByteRangeSchema,
  CommitPagesSchema,
  CompactLevelSchema,
  DatabaseNameSchema,
  LevelSchema,
  LimitSchema,
  LtxFilenameSchema,
  PageSizeSchema,
  PgnoListSchema,
  PgnoSchema,
  SnapshotFormatSchema,
  TXIDSchema,
} from './params.ts';
import {
  AdoptedSchema,
  ChangesSchema,
  DatabaseInfoSchema,
  DatabaseListSchema,
  DeletedSchema,
  FileListSchema,
  HealthSchema,
  MaintenanceResultSchema,
  PosBodySchema,
  QueryBodySchema,
  QueryResultSchema,
  LinkRequestSchema,
  LinkSchema,
  RestoreBodySchema,
  RestoreResultSchema,
  StatsSchema,
} from './openapi-schemas.ts';
import { type ApiRoute, binary, json, route } from './openapi-route.ts';

export { type ApiRoute, BEARER, honoPath } from './openapi-route.ts';

const DB_PARAM = z.object({ db: DatabaseNameSchema });

/** `txid=`/`at=`/`min_txid=`: the point of every read (DESIGN §4; replication/point.ts). */
const POINT_QUERY = {
  txid: TXIDSchema.optional().openapi({
    param: { description: 'Read at this TXID (not 0). Excludes `at`. Responses at an explicit TXID are immutable.' },
  }),
  at: AtSchema.optional().openapi({ param: { description: 'Read at the last TXID committed at or before this time. Excludes `txid`.' } }),
  min_txid: TXIDSchema.optional().openapi({
    param: {
      description:
        'Read-your-writes: wait (bounded, ≤ 2 s) until the head reaches this TXID, else 409 NOT_YET_AVAILABLE. 0 is always satisfied.',
    },
  }),
};

/** Errors of every read at a point. */
const POINT_ERRORS: ErrorCode[] = ['NOT_FOUND', 'NOT_YET_AVAILABLE', 'TXID_NOT_AVAILABLE', 'STORAGE_UNAVAILABLE'];

/** The query engine's codes (query/query-error.ts), as errors.ts lists them. */
const QUERY_ERRORS = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => /^(QUERY_|SQL_|MULTIPLE_STATEMENTS)/.test(c));

const LTX_TXID_HEADER = {
  'LTX-TXID': { description: 'The TXID the read was answered at (16 hex digits).', schema: { type: 'string', pattern: '^[0-9a-f]{16}$' } },
} as const;

const READ_CACHE_HEADERS = {
  ...LTX_TXID_HEADER,
  'Cache-Control': {
    description: '`private, max-age=31536000, immutable` at an explicit `txid`; `no-cache` otherwise.',
    schema: { type: 'string' },
  },
  ETag: { description: 'Strong validator of the bytes at that TXID.', schema: { type: 'string' } },
} as const;

/** Headers of every answer of the database file (snapshot?format=sqlite, read links). */
const FILE_HEADERS = {
  ...LTX_TXID_HEADER,
  ETag: { description: 'Strong: `"<txid>-<postApplyChecksum>-<incarnation>"`.', schema: { type: 'string' } },
  'Accept-Ranges': { schema: { type: 'string', const: 'bytes' } },
  'Cache-Control': {
    description:
      'Token routes: `private, max-age=31536000, immutable` at an explicit TXID, `no-cache` at the head; links: `public, max-age=<seconds left>`.',
    schema: { type: 'string' },
  },
} as const;
const FILE_RANGE = z
  .string()
  .optional()
  .openapi({
    param: { description: 'One `bytes=first-last`, `first-` or `-suffix`; several → 200 with the whole file; another unit is ignored.' },
    example: 'bytes=0-99',
  });
const CONTENT_RANGE = { 'Content-Range': { description: '`bytes first-last/size`.', schema: { type: 'string' } } } as const;

/** Every /v1 route the app serves, in DESIGN §4's order. */
export const API_ROUTES: readonly ApiRoute[] = [
  route({
    method: 'get',
    path: '/v1/health',
    scope: null,
    gated: false,
    contract: false,
    tag: 'meta',
    summary: 'Liveness, name and version',
    responses: { 200: json(HealthSchema, 'Alive.') },
  }),
  route({
    method: 'get',
    path: '/v1/openapi.json',
    scope: null,
    gated: false,
    contract: false,
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'The document.', content: { 'application/json': { schema: { type: 'object' } } } } },
  }),
  route({
    method: 'get',
    path: '/v1/docs',
    scope: null,
    gated: false,
    contract: false,
    tag: 'meta',
    summary: 'This document as an HTML page',
    responses: {
      200: { description: 'A self-contained HTML page (no scripts).', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  }),
  route({
    method: 'get',
    path: '/v1/databases',
    scope: 'read',
    tag: 'databases',
    summary: 'List databases',
    description: 'Names with position, page size, size and updated time, in name order; only the databases the token covers.',
    query: z.object({
      after: z.string().optional().openapi({ description: 'Start after this name (the `next` of the previous page).', example: 'orders' }),
      limit: LimitSchema,
    }),
    responses: { 200: json(DatabaseListSchema, 'One page of databases.') },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}',
    scope: 'read',
    tag: 'databases',
    summary: 'Database info',
    description: 'Position, page size, commit (pages), timestamps, files per level, lag.',
    params: DB_PARAM,
    errors: ['NOT_FOUND'],
    responses: { 200: json(DatabaseInfoSchema, 'The database at its head.') },
  }),
  route({
    method: 'delete',
    path: '/v1/databases/{db}',
    scope: 'admin',
    tag: 'databases',
    summary: 'Delete a database and its files',
    params: DB_PARAM,
    errors: ['NOT_FOUND', 'STORAGE_UNAVAILABLE'],
    responses: { 200: json(DeletedSchema, 'Deleted.') },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/ltx',
    scope: 'write',
    tag: 'writes',
    summary: 'Push one LTX file',
    description:
      'Contiguity: `MinTXID == pos.txid + 1` (or a snapshot onto an empty database); the checksum chain when the file tracks checksums. ' +
      'A gap or chain break is 409 `POSITION_MISMATCH` with `details.pos`.',
    params: DB_PARAM,
    body: { required: true, content: binary('One LTX file (v3 block or legacy frames), any size.', 'application/octet-stream') },
    errors: [
      'POSITION_MISMATCH',
      'PAGE_SIZE_MISMATCH',
      'INVALID_LTX',
      'PAYLOAD_TOO_LARGE',
      'DATABASE_TOO_LARGE',
      'REQUEST_TIMEOUT',
      'STORAGE_UNAVAILABLE',
    ],
    responses: {
      201: json(PosBodySchema, 'Committed: the new head.'),
      200: json(PosBodySchema, 'Re-push of an already committed file: the head.'),
    },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/tx',
    scope: 'write',
    tag: 'writes',
    summary: 'Page-set write (the server assigns the TXID)',
    description: '409 `CONFLICT` with `details.pos` when `base` is not the head.',
    params: DB_PARAM,
    query: z.object({
      base: TXIDSchema.openapi({ param: { description: 'The TXID the pages were read at (the head this write builds on).' } }),
      commit: CommitPagesSchema.optional(),
      page_size: PageSizeSchema.optional(),
    }),
    body: {
      required: true,
      content: binary(
        'Batch page format: per page `u32 pgno, u32 length, bytes` (big-endian), ascending pgno; each page exactly page size bytes.',
      ),
    },
    errors: [
      'CONFLICT',
      'PAGE_SIZE_MISMATCH',
      'PAYLOAD_TOO_LARGE',
      'DATABASE_TOO_LARGE',
      'TXID_EXHAUSTED',
      'REQUEST_TIMEOUT',
      'STORAGE_UNAVAILABLE',
    ],
    responses: { 201: json(PosBodySchema, 'Committed as the next TXID.') },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/pages/{pgno}',
    scope: 'read',
    tag: 'reads',
    summary: "One page's bytes",
    params: DB_PARAM.extend({ pgno: PgnoSchema }),
    query: z.object(POINT_QUERY),
    errors: POINT_ERRORS,
    responses: {
      200: {
        description: 'The page (page size bytes). 404 beyond the database size.',
        headers: READ_CACHE_HEADERS,
        content: binary('Page bytes.'),
      },
    },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/pages',
    scope: 'read',
    tag: 'reads',
    summary: 'A batch of pages',
    params: DB_PARAM,
    query: z.object({ pgno: PgnoListSchema, ...POINT_QUERY }),
    errors: POINT_ERRORS,
    responses: {
      200: {
        description:
          'Batch page format: one frame per page, `u32 pgno, u32 length, bytes` (big-endian), ascending pgno; pages beyond commit are omitted.',
        headers: READ_CACHE_HEADERS,
        content: binary('Page frames.'),
      },
    },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/changes',
    scope: 'read',
    tag: 'reads',
    summary: 'Pages changed after a TXID',
    params: DB_PARAM,
    query: z.object({ since: TXIDSchema.openapi({ param: { description: 'List pages changed after this TXID.' } }), ...POINT_QUERY }),
    errors: POINT_ERRORS,
    responses: { 200: json(ChangesSchema, 'Changed pages up to the point asked.') },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/snapshot',
    scope: 'read',
    tag: 'reads',
    summary: 'The database file at a point (ranges honoured), or one LTX snapshot',
    description:
      'HEAD answers the same headers without a body. `format=sqlite` honours one `Range` (206 with only the pages it touches read; several ranges → 200 with the whole file), ' +
      '`If-None-Match` (304), `If-Range` and `If-Match` (412); its strong ETag names the TXID, the post-apply checksum and the incarnation. ' +
      'At the head the answer carries `LTX-TXID`: a range reader should pin that TXID (`txid=`) for its next reads.',
    params: DB_PARAM,
    query: z.object({ format: SnapshotFormatSchema, ...POINT_QUERY }),
    headers: z.object({ range: FILE_RANGE }),
    errors: [...POINT_ERRORS, 'PRECONDITION_FAILED', 'RANGE_NOT_SATISFIABLE'],
    responses: {
      200: {
        description:
          'The database (`format=sqlite`: `Content-Length` = pages × page size, `Accept-Ranges: bytes`) or one LTX snapshot file (`format=ltx`, streamed, no ranges).',
        headers: {
          ...FILE_HEADERS,
          'Content-Disposition': { description: '`attachment; filename="<db>-<txid>.db|ltx"`.', schema: { type: 'string' } },
        },
        content: { ...binary('SQLite database file.', 'application/vnd.sqlite3'), ...binary('LTX snapshot file.') },
      },
      206: {
        description: 'The one range asked (`format=sqlite`).',
        headers: { ...FILE_HEADERS, ...CONTENT_RANGE },
        content: binary('Bytes of the database file.', 'application/vnd.sqlite3'),
      },
      304: { description: '`If-None-Match` names this file.', headers: FILE_HEADERS },
    },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/links',
    scope: 'read',
    tag: 'reads',
    summary: 'Mint a read link: the file at one TXID, readable without a token until it expires',
    description: 'The point is resolved now, so the link always means one TXID. Needs `LTX_EDGE_LINK_SECRET` (else 503 NOT_CONFIGURED).',
    params: DB_PARAM,
    body: { required: false, content: { 'application/json': { schema: LinkRequestSchema } } },
    errors: ['PAYLOAD_TOO_LARGE', ...POINT_ERRORS],
    responses: { 201: json(LinkSchema, 'The link, the TXID it reads at and when it expires.') },
  }),
  route({
    method: 'get',
    path: '/v1/links/{db}/{link}',
    scope: null,
    tag: 'reads',
    summary: 'The file behind a read link (no token: the URL is the capability)',
    description:
      'Serves GET, HEAD and OPTIONS exactly as `GET /v1/databases/{db}/snapshot?format=sqlite&txid=` does (ranges, ETag, 304), with CORS for any origin. ' +
      '`Cache-Control: public, max-age=` the seconds the link has left.',
    params: DB_PARAM.extend({
      link: z.string().openapi({
        param: { description: 'What POST …/links returned after the name: `<txid>.<expires>.<incarnation>.<mac>`.' },
        example: `0000000000000003.1767225600.0123456789abcdef0123456789abcdef.${'A'.repeat(43)}`,
      }),
    }),
    headers: z.object({ range: FILE_RANGE }),
    errors: [
      'LINK_INVALID',
      'LINK_EXPIRED',
      'NOT_FOUND',
      'TXID_NOT_AVAILABLE',
      'PRECONDITION_FAILED',
      'RANGE_NOT_SATISFIABLE',
      'STORAGE_UNAVAILABLE',
    ],
    responses: {
      200: {
        description: 'The whole database file.',
        headers: FILE_HEADERS,
        content: binary('SQLite database file.', 'application/vnd.sqlite3'),
      },
      206: {
        description: 'The one range asked.',
        headers: { ...FILE_HEADERS, ...CONTENT_RANGE },
        content: binary('Bytes of the database file.', 'application/vnd.sqlite3'),
      },
      304: { description: '`If-None-Match` names this file.', headers: FILE_HEADERS },
    },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/ltx',
    scope: 'read',
    tag: 'files',
    summary: 'Catalog listing',
    params: DB_PARAM,
    query: z.object({
      level: LevelSchema.optional().openapi({ param: { description: 'Only this level (default: all).' } }),
      after: TXIDSchema.optional().openapi({ param: { description: 'Only files with MinTXID after this TXID (paging).' } }),
      limit: LimitSchema,
    }),
    responses: { 200: json(FileListSchema, 'Files in (level, MinTXID) order.') },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/ltx/{level}/{file}',
    scope: 'read',
    tag: 'files',
    summary: 'Raw LTX bytes, Range honoured',
    params: DB_PARAM.extend({ level: LevelSchema, file: LtxFilenameSchema }),
    headers: z.object({ range: ByteRangeSchema.optional() }),
    errors: ['NOT_FOUND', 'RANGE_NOT_SATISFIABLE', 'STORAGE_UNAVAILABLE'],
    responses: {
      200: {
        description: 'The whole file (immutable).',
        headers: { ETag: { schema: { type: 'string' } }, 'Accept-Ranges': { schema: { type: 'string', const: 'bytes' } } },
        content: binary('LTX file bytes.'),
      },
      206: {
        description: 'The range asked.',
        headers: { 'Content-Range': { description: '`bytes first-last/size`.', schema: { type: 'string' } } },
        content: binary('LTX file bytes.'),
      },
    },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/query',
    scope: 'read',
    tag: 'reads',
    summary: 'One read-only SQL statement at a point',
    description: 'WASM SQLite over the page source at the point asked; read-only. The point may also come in the body.',
    params: DB_PARAM,
    query: z.object(POINT_QUERY),
    body: { required: true, content: { 'application/json': { schema: QueryBodySchema } } },
    errors: ['PAYLOAD_TOO_LARGE', ...POINT_ERRORS, ...QUERY_ERRORS],
    responses: { 200: { ...json(QueryResultSchema, 'Columns, rows, the position read at and costs.'), headers: LTX_TXID_HEADER } },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/restore',
    scope: 'admin',
    tag: 'admin',
    summary: 'Write a past state as the next transaction (undoable)',
    params: DB_PARAM,
    body: { required: true, content: { 'application/json': { schema: RestoreBodySchema } } },
    errors: ['NOT_FOUND', 'TXID_NOT_AVAILABLE', 'DATABASE_TOO_LARGE', 'TXID_EXHAUSTED', 'PAYLOAD_TOO_LARGE', 'STORAGE_UNAVAILABLE'],
    responses: {
      201: json(RestoreResultSchema, 'The past state committed as the next TXID.'),
      200: json(RestoreResultSchema, 'The head already is that state: nothing written.'),
    },
  }),
  route({
    method: 'get',
    path: '/v1/databases/{db}/stats',
    scope: 'read',
    tag: 'databases',
    summary: 'Counters and the last error',
    params: DB_PARAM,
    errors: ['NOT_FOUND'],
    responses: { 200: json(StatsSchema, 'Counters of the database and the answering isolate.') },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/adopt',
    scope: 'admin',
    tag: 'admin',
    contract: false,
    summary: 'Adopt files already in R2 (e.g. a Litestream replica)',
    params: DB_PARAM,
    errors: ['STORAGE_UNAVAILABLE'],
    responses: { 200: json(AdoptedSchema, 'Files adopted and the head.') },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/compact',
    scope: 'admin',
    tag: 'admin',
    contract: false,
    summary: 'Run compaction now',
    params: DB_PARAM,
    query: z.object({ level: CompactLevelSchema.optional() }),
    errors: ['NOT_FOUND', 'STORAGE_UNAVAILABLE'],
    responses: { 200: json(MaintenanceResultSchema, 'What the pass did.') },
  }),
  route({
    method: 'post',
    path: '/v1/databases/{db}/retention',
    scope: 'admin',
    tag: 'admin',
    contract: false,
    summary: 'Run retention now',
    params: DB_PARAM,
    errors: ['NOT_FOUND', 'STORAGE_UNAVAILABLE'],
    responses: { 200: json(MaintenanceResultSchema, 'What the pass did.') },
  }),
];
