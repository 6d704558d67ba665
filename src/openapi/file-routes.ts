// The OpenAPI table's routes of the database file (DESIGN §4a): the snapshot route with its ranges, minting read links, and the link itself.

import { z } from '@hono/zod-openapi';
import { type ApiRoute, binary, json, route } from './route.ts';
import { LinkRequestSchema, LinkSchema } from './schemas.ts';
import { DB_PARAM, LTX_TXID_HEADER, POINT_ERRORS, POINT_QUERY } from './shared.ts';
import { SnapshotFormatSchema } from './param-schemas.ts';

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

/** In the table's order: the snapshot, then minting a link, then the link. */
export const FILE_ROUTES: readonly ApiRoute[] = [
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
];
