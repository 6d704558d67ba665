// Parsing and validation of path, query and header values shared by the routes: names, TXIDs, levels,
// page numbers, ranges. Each value has one zod schema; the parse functions validate through it and the
// OpenAPI document (routes/openapi-routes.ts) is generated from the same schemas, so they cannot drift.

import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import { DATABASE_NAME_PATTERN, isValidDatabaseName } from '../api/database-name.ts';
import { LTX_FILENAME, SNAPSHOT_LEVEL, parseLTXFilename } from '../ltx/index.ts';
import { ApiError } from '../errors.ts';
import { MAX_AT_LENGTH, TXID_HEX } from '../replication/point.ts';

/** Most pages one batch request (`GET …/pages?pgno=`) may ask for. */
export const MAX_BATCH_PAGES = 4096;

/** Largest page number SQLite can have (u32 on the wire). */
const MAX_PGNO = 0xffffffff;

/** One `Range: bytes=first-last | first- | -suffix`; the unit is case-insensitive (RFC 9110 §14.1). */
const BYTE_RANGE = /^[Bb][Yy][Tt][Ee][Ss]=(?:\d{1,15}-\d{0,15}|-\d{1,15})$/;

/** One item of a page list: `5` or `9-12`, spaces around allowed. */
const PGNO_LIST = /^ *\d{1,10}(?:-\d{1,10})? *(?:, *\d{1,10}(?:-\d{1,10})? *)*$/;

/** Decimal digits of an integer query or path value, before its schema's bounds are checked. */
const DECIMAL = /^[0-9]{1,10}$/;

/** A database name (DESIGN §2): the pattern, and no `..` anywhere. */
export const DatabaseNameSchema = z
  .string()
  .regex(DATABASE_NAME_PATTERN)
  .refine((s) => isValidDatabaseName(s))
  .openapi('DatabaseName', {
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

/** A level: 0..9, written like the key layout (`0`, `0000`, `9`, `0009`): up to 4 hex digits worth ≤ 9. */
export const LevelSchema = z
  .string()
  .regex(/^0{0,3}[0-9]$/)
  .openapi('Level', {
    description: `Level 0–${SNAPSHOT_LEVEL} as in the R2 key layout: \`0\`, \`0000\`, \`0009\` (9 = snapshots).`,
    example: '0000',
  });

/** An LTX file name: `<min>-<max>.ltx`, 16 lowercase hex digits each, 1 ≤ min ≤ max. */
export const LtxFilenameSchema = z
  .string()
  .regex(LTX_FILENAME)
  .refine((s) => parseLTXFilename(s) !== undefined)
  .openapi('LtxFilename', {
    description: '`<minTXID>-<maxTXID>.ltx`, 16 lowercase hex digits each, 1 ≤ min ≤ max.',
    example: '0000000000000001-0000000000000001.ltx',
  });

/** A page number: 1..4294967295. */
export const PgnoSchema = z.int().min(1).max(MAX_PGNO).openapi('Pgno', { description: 'A page number (1-based).', example: 1 });

/** `pgno=1,5,9-12`: page numbers and inclusive ranges, at most MAX_BATCH_PAGES pages in all. */
export const PgnoListSchema = z
  .string()
  .regex(PGNO_LIST)
  .openapi('PgnoList', {
    description: `Comma-separated page numbers and inclusive ranges (\`first-last\`, first ≤ last), each 1–4294967295, at most ${MAX_BATCH_PAGES} distinct pages. Duplicates collapse; pages come back in ascending order.`,
    example: '1,5,9-12',
  });

/** `format=` of GET …/snapshot. */
export const SnapshotFormatSchema = z
  .enum(['sqlite', 'ltx'])
  .default('sqlite')
  .openapi('SnapshotFormat', { description: '`sqlite`: the database file; `ltx`: one LTX snapshot file (MinTXID 1).' });

/** The `Range` request header on raw LTX bytes: one byte range; other units are ignored (RFC 9110 §14.2). */
export const ByteRangeSchema = z.string().regex(BYTE_RANGE).openapi('ByteRange', {
  description:
    'One byte range: `bytes=first-last`, `bytes=first-` or `bytes=-suffix` (RFC 9110 §14.1.2). Multiple ranges → 416; a unit other than bytes is ignored.',
  example: 'bytes=0-99',
});

/** `limit=` of listings. */
export const LimitSchema = z.int().min(1).max(1000).default(1000).openapi({ description: 'Most entries to return.' });

/** `commit=` of POST …/tx: the database size in pages after the write. */
export const CommitPagesSchema = z
  .int()
  .min(1)
  .max(MAX_PGNO)
  .openapi({ description: 'Database size in pages after the write (default: unchanged, or grown to the highest page written).' });

/** `page_size=` of POST …/tx (the first write to an empty database needs it). */
export const PageSizeSchema = z
  .int()
  .min(512)
  .max(65536)
  .openapi({ description: 'Page size in bytes, a power of two; needed by the first write to an empty database.' });

/** `level=` of POST …/compact: the level to compact into (9 = take a snapshot). */
export const CompactLevelSchema = z
  .int()
  .min(1)
  .max(SNAPSHOT_LEVEL)
  .openapi({ description: 'Compact into this level (1–8), or take a snapshot (9). Default: whatever is due.' });

function quote(value: string, max: number): string {
  return JSON.stringify(value.slice(0, max));
}

/** The `:db` path parameter, or 400 INVALID_NAME (DESIGN §2: `^[a-z0-9][a-z0-9._-]{0,62}$`, no `..`). */
export function dbName(c: Context): string {
  const name = c.req.param('db') ?? '';
  if (!DatabaseNameSchema.safeParse(name).success) throw new ApiError('INVALID_NAME', `invalid database name ${quote(name, 80)}`);
  return name;
}

/** A TXID query value (TXIDSchema). */
export function parseTXIDParam(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!TXIDSchema.safeParse(value).success) throw new ApiError('BAD_REQUEST', `${name} must be a TXID in hex, got ${quote(value, 40)}`);
  return BigInt('0x' + value);
}

/** The bounds a zod integer schema declares, for error messages. */
function boundsOf(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { minimum?: number; maximum?: number };
  return `from ${json.minimum ?? 0} to ${json.maximum ?? Number.MAX_SAFE_INTEGER}`;
}

/**
 * A decimal integer query or path value checked by `schema` (e.g. LimitSchema); absent → the
 * schema's default, or undefined. Only plain digits are read: no sign, exponent or spaces.
 */
export function parseIntQuery<T extends number | undefined>(name: string, value: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (value === undefined) {
    const absent = schema.safeParse(undefined);
    return absent.success ? absent.data : undefined;
  }
  const parsed = DECIMAL.test(value) ? schema.safeParse(Number(value)) : undefined;
  if (!parsed?.success) throw new ApiError('BAD_REQUEST', `${name} must be an integer ${boundsOf(schema)}`);
  return parsed.data;
}

/** A non-negative decimal integer query value within [min, max] (for values without a named schema). */
export function parseIntParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  return parseIntQuery(name, value, z.int().min(min).max(max));
}

/** The `:pgno` path value (PgnoSchema). */
export function parsePgno(value: string | undefined): number {
  const pgno = parseIntQuery('pgno', value ?? '', PgnoSchema);
  return pgno as number;
}

/** `1,5,9-12` → sorted unique page numbers (PgnoListSchema); 400 on anything else. */
export function parsePgnoList(text: string | undefined): number[] {
  if (!text) throw new ApiError('BAD_REQUEST', 'pgno is required, e.g. pgno=1,5,9-12');
  if (!PgnoListSchema.safeParse(text).success) throw new ApiError('BAD_REQUEST', `bad page list ${quote(text, 30)}`);
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b = a] = part.trim().split('-').map(Number);
    if (a < 1 || b < a || b > MAX_PGNO) throw new ApiError('BAD_REQUEST', `bad page range ${part}`);
    if (out.size + (b - a + 1) > MAX_BATCH_PAGES) throw new ApiError('BAD_REQUEST', `at most ${MAX_BATCH_PAGES} pages per request`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

/** `format=` of a snapshot (SnapshotFormatSchema); absent → sqlite. */
export function parseSnapshotFormat(value: string | undefined): 'sqlite' | 'ltx' {
  const parsed = SnapshotFormatSchema.safeParse(value);
  if (!parsed.success) throw new ApiError('BAD_REQUEST', 'format must be sqlite or ltx');
  return parsed.data;
}

/** A level (LevelSchema): 0..9, written like the key layout (`0000`, `9`, `0009`). */
export function parseLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!LevelSchema.safeParse(value).success) throw new ApiError('BAD_REQUEST', `level must be 0..${SNAPSHOT_LEVEL}`);
  return parseInt(value, 16);
}

/** `<min 16 hex>-<max 16 hex>.ltx`, exactly (LtxFilenameSchema, ltx.ParseFilename). */
export function parseLtxFilename(file: string): { minTXID: bigint; maxTXID: bigint } {
  if (!LTX_FILENAME.test(file)) throw new ApiError('BAD_REQUEST', 'file must be <min>-<max>.ltx with 16 lowercase hex digits each');
  const range = LtxFilenameSchema.safeParse(file).success ? parseLTXFilename(file) : undefined;
  if (range === undefined) throw new ApiError('BAD_REQUEST', 'invalid TXID range in file name');
  return range;
}

export type ParsedRange = { offset: number; length?: number } | { suffix: number };

/**
 * One `Range: bytes=…` range (ByteRangeSchema: first-last, first-, -suffix); undefined without the
 * header or with a unit other than bytes, which RFC 9110 §14.2 says to ignore (units are
 * case-insensitive). Multiple ranges: 416.
 */
export function parseRange(header: string | undefined): ParsedRange | undefined {
  if (header === undefined) return undefined;
  const eq = header.indexOf('=');
  if (eq > 0 && header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const text = header.trim();
  if (!ByteRangeSchema.safeParse(text).success) throw new ApiError('RANGE_NOT_SATISFIABLE', `unsupported Range ${quote(header, 60)}`);
  const [first, last] = text.slice(text.indexOf('=') + 1).split('-');
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw new ApiError('RANGE_NOT_SATISFIABLE', 'empty suffix range');
    return { suffix };
  }
  const offset = Number(first);
  if (last === '') return { offset };
  const end = Number(last);
  if (end < offset) throw new ApiError('RANGE_NOT_SATISFIABLE', 'range ends before it starts');
  return { offset, length: end - offset + 1 };
}
