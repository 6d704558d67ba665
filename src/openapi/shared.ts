// What the OpenAPI table's routes share: the database parameter, the point of every read, its errors and the read headers.

import { z } from '@hono/zod-openapi';
import { ERROR_STATUS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { AtSchema, DatabaseNameSchema, TXIDSchema } from './param-schemas.ts';

export const DB_PARAM = z.object({ db: DatabaseNameSchema });

/** `txid=`/`at=`/`min_txid=`: the point of every read (DESIGN §4; replication/point.ts). */
export const POINT_QUERY = {
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
export const POINT_ERRORS: ErrorCode[] = ['NOT_FOUND', 'NOT_YET_AVAILABLE', 'TXID_NOT_AVAILABLE', 'STORAGE_UNAVAILABLE'];

/** The query engine's codes (query/query-error.ts), as errors.ts lists them. */
export const QUERY_ERRORS = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => /^(QUERY_|SQL_|MULTIPLE_STATEMENTS)/.test(c));

export const LTX_TXID_HEADER = {
  'LTX-TXID': { description: 'The TXID the read was answered at (16 hex digits).', schema: { type: 'string', pattern: '^[0-9a-f]{16}$' } },
} as const;

export const READ_CACHE_HEADERS = {
  ...LTX_TXID_HEADER,
  'Cache-Control': {
    description: '`private, max-age=31536000, immutable` at an explicit `txid`; `no-cache` otherwise.',
    schema: { type: 'string' },
  },
  ETag: { description: 'Strong validator of the bytes at that TXID.', schema: { type: 'string' } },
} as const;
