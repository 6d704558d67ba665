// The typed table of every /v1 route (DESIGN §4): method, path, scope, and the same zod schemas the routes validate with (params.ts); the OpenAPI document is generated from it.

import { z } from '@hono/zod-openapi';
import {
  ByteRangeSchema,
  CommitPagesSchema,
  CompactLevelSchema,
  LevelSchema,
  LimitSchema,
  LtxFilenameSchema,
  PageSizeSchema,
  PgnoListSchema,
  PgnoSchema,
  TXIDSchema,
} from './param-schemas.ts';
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
  RestoreBodySchema,
  RestoreResultSchema,
  StatsSchema,
  WatchEventSchema,
} from './schemas.ts';
import { DATABASE_PREFIX_PATTERN } from '../api/database-name.ts';
import { type ApiRoute, binary, json, route } from './route.ts';
import { FILE_ROUTES } from './file-routes.ts';
import { DB_PARAM, LTX_TXID_HEADER, POINT_ERRORS, POINT_QUERY, QUERY_ERRORS, READ_CACHE_HEADERS } from './shared.ts';

export { type ApiRoute, BEARER, honoPath } from './route.ts';

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
      prefix: z
        .string()
        .regex(DATABASE_PREFIX_PATTERN)
        .optional()
        .openapi({ description: 'Only names starting with this (the start of a valid name).', example: 'shop' }),
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
    path: '/v1/databases/{db}/watch',
    scope: 'read',
    tag: 'reads',
    summary: 'Live heads: one Server-Sent Event per commit',
    description:
      'A `text/event-stream` that stays open: one default (`message`) event per commit, its `id` the new TXID and its `data` a WatchEvent; ' +
      'a `deleted` event when the database is deleted, then the end of the stream; a comment line every 25 s. ' +
      'Resume with `Last-Event-ID` (or `?since=`): the commits after it one by one while the database still holds them in memory ' +
      '(the last 256), else one event summing up the changes since it. At most LTX_EDGE_WATCHERS_PER_DATABASE streams per database.',
    params: DB_PARAM,
    query: z.object({ since: TXIDSchema.optional().openapi({ param: { description: 'Send what changed after this TXID first.' } }) }),
    headers: z.object({
      'last-event-id': TXIDSchema.optional().openapi({ param: { description: 'The last event id seen; wins over `since`.' } }),
    }),
    errors: ['NOT_FOUND', 'TOO_MANY_WATCHERS'],
    responses: {
      200: {
        description: "The event stream; each event's data is a WatchEvent.",
        content: { 'text/event-stream': { schema: WatchEventSchema } },
      },
    },
  }),
  ...FILE_ROUTES,
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
    responses: {
      200: {
        ...json(QueryResultSchema, 'Columns, rows, the position read at and costs.'),
        headers: {
          ...LTX_TXID_HEADER,
          'Server-Timing': {
            description:
              'Where the time went, in ms: `plan` (the read plan), `indexes` (the page indexes), `engine` (waiting for SQLite to start in a fresh isolate), `sql` (the statement and its fetch rounds).',
            schema: { type: 'string' },
          },
        },
      },
    },
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
