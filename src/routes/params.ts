// Parsing and validation of path, query and header values shared by the routes: names, TXIDs, levels,
// page numbers, ranges. Each rule is a constant here (a pattern or integer bounds); the OpenAPI document
// (src/openapi/param-schemas.ts) is generated from the same constants, so the two cannot drift.

import type { Context } from 'hono';
import { isValidDatabaseName } from '../api/database-name.ts';
import { LTX_FILENAME, SNAPSHOT_LEVEL, parseLTXFilename } from '../ltx/index.ts';
import { ApiError } from '../errors.ts';
import { TXID_HEX } from '../replication/point.ts';

/** Most pages one batch request (`GET …/pages?pgno=`) may ask for. */
export const MAX_BATCH_PAGES = 4096;

/** Largest page number SQLite can have (u32 on the wire). */
export const MAX_PGNO = 0xffffffff;

/** One `Range: bytes=first-last | first- | -suffix`; the unit is case-insensitive (RFC 9110 §14.1). */
export const BYTE_RANGE = /^[Bb][Yy][Tt][Ee][Ss]=(?:\d{1,15}-\d{0,15}|-\d{1,15})$/;

/** A page list: `5` or `9-12` items, comma-separated, spaces around allowed. */
export const PGNO_LIST = /^ *\d{1,10}(?:-\d{1,10})? *(?:, *\d{1,10}(?:-\d{1,10})? *)*$/;

/** A level as in the key layout (`0`, `0000`, `9`, `0009`): up to 4 hex digits worth ≤ 9. */
export const LEVEL = /^0{0,3}[0-9]$/;

/** The values of `format=` on GET …/snapshot; the first is the default. */
export const SNAPSHOT_FORMATS = ['sqlite', 'ltx'] as const;

/** Decimal digits of an integer query or path value, before its bounds are checked. */
const DECIMAL = /^[0-9]{1,10}$/;

/** An integer parameter's inclusive bounds and the value its absence means. */
export interface IntRule {
  min: number;
  max: number;
  default?: number;
}

/** `limit=` of listings. */
export const LIMIT: IntRule = { min: 1, max: 1000, default: 1000 };
/** A page number: 1..4294967295. */
export const PGNO: IntRule = { min: 1, max: MAX_PGNO };
/** `commit=` of POST …/tx: the database size in pages after the write. */
export const COMMIT_PAGES: IntRule = { min: 1, max: MAX_PGNO };
/** `page_size=` of POST …/tx (the first write to an empty database needs it); a power of two is checked by the DO. */
export const PAGE_SIZE: IntRule = { min: 512, max: 65536 };
/** `level=` of POST …/compact: the level to compact into (9 = take a snapshot). */
export const COMPACT_LEVEL: IntRule = { min: 1, max: SNAPSHOT_LEVEL };

function quote(value: string, max: number): string {
  return JSON.stringify(value.slice(0, max));
}

/** The `:db` path parameter, or 400 INVALID_NAME (DESIGN §2: `^[a-z0-9][a-z0-9._-]{0,62}$`, no `..`). */
export function dbName(c: Context): string {
  const name = c.req.param('db') ?? '';
  if (!isValidDatabaseName(name)) throw new ApiError('INVALID_NAME', `invalid database name ${quote(name, 80)}`);
  return name;
}

/** A TXID query value: 1–16 lowercase hex digits. */
export function parseTXIDParam(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!TXID_HEX.test(value)) throw new ApiError('BAD_REQUEST', `${name} must be a TXID in hex, got ${quote(value, 40)}`);
  return BigInt('0x' + value);
}

/**
 * A decimal integer query or path value within `rule`; absent → the rule's default, or undefined.
 * Only plain digits are read: no sign, exponent or spaces.
 */
export function parseIntQuery(name: string, value: string | undefined, rule: IntRule): number | undefined {
  if (value === undefined) return rule.default;
  const n = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!(n >= rule.min && n <= rule.max)) throw new ApiError('BAD_REQUEST', `${name} must be an integer from ${rule.min} to ${rule.max}`);
  return n;
}

/** The `:pgno` path value (PGNO). */
export function parsePgno(value: string | undefined): number {
  return parseIntQuery('pgno', value ?? '', PGNO) as number;
}

/** `1,5,9-12` → sorted unique page numbers (PGNO_LIST); 400 on anything else. */
export function parsePgnoList(text: string | undefined): number[] {
  if (!text) throw new ApiError('BAD_REQUEST', 'pgno is required, e.g. pgno=1,5,9-12');
  if (!PGNO_LIST.test(text)) throw new ApiError('BAD_REQUEST', `bad page list ${quote(text, 30)}`);
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b = a] = part.trim().split('-').map(Number);
    if (a < 1 || b < a || b > MAX_PGNO) throw new ApiError('BAD_REQUEST', `bad page range ${part}`);
    if (out.size + (b - a + 1) > MAX_BATCH_PAGES) throw new ApiError('BAD_REQUEST', `at most ${MAX_BATCH_PAGES} pages per request`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

/** `format=` of a snapshot (SNAPSHOT_FORMATS); absent → sqlite. */
export function parseSnapshotFormat(value: string | undefined): 'sqlite' | 'ltx' {
  if (value === undefined) return SNAPSHOT_FORMATS[0];
  const format = SNAPSHOT_FORMATS.find((f) => f === value);
  if (format === undefined) throw new ApiError('BAD_REQUEST', `format must be ${SNAPSHOT_FORMATS.join(' or ')}`);
  return format;
}

/** A level (LEVEL): 0..9, written like the key layout (`0000`, `9`, `0009`). */
export function parseLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!LEVEL.test(value)) throw new ApiError('BAD_REQUEST', `level must be 0..${SNAPSHOT_LEVEL}`);
  return parseInt(value, 16);
}

/** `<min 16 hex>-<max 16 hex>.ltx`, exactly (LTX_FILENAME, ltx.ParseFilename). */
export function parseLtxFilename(file: string): { minTXID: bigint; maxTXID: bigint } {
  if (!LTX_FILENAME.test(file)) throw new ApiError('BAD_REQUEST', 'file must be <min>-<max>.ltx with 16 lowercase hex digits each');
  const range = parseLTXFilename(file);
  if (range === undefined) throw new ApiError('BAD_REQUEST', 'invalid TXID range in file name');
  return range;
}

export type ParsedRange = { offset: number; length?: number } | { suffix: number };

/**
 * One `Range: bytes=…` range (BYTE_RANGE: first-last, first-, -suffix); undefined without the
 * header or with a unit other than bytes, which RFC 9110 §14.2 says to ignore (units are
 * case-insensitive). Multiple ranges: 416.
 */
export function parseRange(header: string | undefined): ParsedRange | undefined {
  if (header === undefined) return undefined;
  const eq = header.indexOf('=');
  if (eq > 0 && header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const text = header.trim();
  if (!BYTE_RANGE.test(text)) throw new ApiError('RANGE_NOT_SATISFIABLE', `unsupported Range ${quote(header, 60)}`);
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
