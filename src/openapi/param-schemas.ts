// The zod schemas of path, query and header values for the OpenAPI document, built from the rules routes/params.ts validates with.

import { z } from '@hono/zod-openapi';
import { DATABASE_NAME_PATTERN } from '../api/database-name.ts';
import { LTX_FILENAME, SNAPSHOT_LEVEL } from '../ltx/index.ts';
import { MAX_AT_LENGTH, TXID_HEX } from '../replication/point.ts';
import {
  BYTE_RANGE,
  COMMIT_PAGES,
  COMPACT_LEVEL,
  type IntRule,
  LEVEL,
  LIMIT,
  MAX_BATCH_PAGES,
  PAGE_SIZE,
  PGNO,
  PGNO_LIST,
  SNAPSHOT_FORMATS,
} from '../routes/params.ts';

/** An integer schema with `rule`'s bounds and default. */
function int(rule: IntRule) {
  const schema = z.int().min(rule.min).max(rule.max);
  return rule.default === undefined ? schema : schema.default(rule.default);
}

/** A database name (DESIGN §2): the pattern, and no `..` anywhere. */
export const DatabaseNameSchema = z.string().regex(DATABASE_NAME_PATTERN).openapi('DatabaseName', {
  description:
    'Database name (DESIGN §2): lowercase letters, digits, `.`, `_`, `-`, 1–63 characters, starting with a letter or digit, never containing `..`.',
  example: 'orders',
});

/** A TXID in a query value: 1–16 lowercase hex digits (responses always use 16). */
export const TXIDSchema = z
  .string()
  .regex(TXID_HEX)
  .openapi('TXID', { description: 'A TXID: 1–16 lowercase hex digits (responses always use 16).', example: '0000000000000001' });

/** `at=`: an RFC3339 timestamp or a relative time in English, parsed by replication/point.ts parseAt. */
export const AtSchema = z
  .string()
  .min(1)
  .max(MAX_AT_LENGTH)
  .openapi('PointInTime', {
    description:
      'RFC3339 (`2024-06-15T12:30:45Z`, `…45.123+02:00`, or a bare date = midnight UTC), at most 1 minute ahead of the server clock; ' +
      'or relative: `now`, `today`, `yesterday`, `<n> <unit> ago` (`5 minutes ago`, `2h ago`, `1 hour 5 minutes ago`). ' +
      `At most ${MAX_AT_LENGTH} characters after trimming.`,
    examples: ['5 minutes ago', '2024-06-15T12:30:45Z'],
  });

export const LevelSchema = z
  .string()
  .regex(LEVEL)
  .openapi('Level', {
    description: `Level 0–${SNAPSHOT_LEVEL} as in the R2 key layout: \`0\`, \`0000\`, \`0009\` (9 = snapshots).`,
    example: '0000',
  });

export const LtxFilenameSchema = z.string().regex(LTX_FILENAME).openapi('LtxFilename', {
  description: '`<minTXID>-<maxTXID>.ltx`, 16 lowercase hex digits each, 1 ≤ min ≤ max.',
  example: '0000000000000001-0000000000000001.ltx',
});

export const PgnoSchema = int(PGNO).openapi('Pgno', { description: 'A page number (1-based).', example: 1 });

export const PgnoListSchema = z
  .string()
  .regex(PGNO_LIST)
  .openapi('PgnoList', {
    description: `Comma-separated page numbers and inclusive ranges (\`first-last\`, first ≤ last), each 1–4294967295, at most ${MAX_BATCH_PAGES} distinct pages. Duplicates collapse; pages come back in ascending order.`,
    example: '1,5,9-12',
  });

export const SnapshotFormatSchema = z
  .enum(SNAPSHOT_FORMATS)
  .default(SNAPSHOT_FORMATS[0])
  .openapi('SnapshotFormat', { description: '`sqlite`: the database file; `ltx`: one LTX snapshot file (MinTXID 1).' });

export const ByteRangeSchema = z.string().regex(BYTE_RANGE).openapi('ByteRange', {
  description:
    'One byte range: `bytes=first-last`, `bytes=first-` or `bytes=-suffix` (RFC 9110 §14.1.2). Multiple ranges → 416; a unit other than bytes is ignored.',
  example: 'bytes=0-99',
});

export const LimitSchema = int(LIMIT).openapi({ description: 'Most entries to return.' });

export const CommitPagesSchema = int(COMMIT_PAGES).openapi({
  description: 'Database size in pages after the write (default: unchanged, or grown to the highest page written).',
});

export const PageSizeSchema = int(PAGE_SIZE).openapi({
  description: 'Page size in bytes, a power of two; needed by the first write to an empty database.',
});

export const CompactLevelSchema = int(COMPACT_LEVEL).openapi({
  description: 'Compact into this level (1–8), or take a snapshot (9). Default: whatever is due.',
});
