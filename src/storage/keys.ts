// The Litestream storage layout [contract] (DESIGN §2): LTX object keys, level/db prefixes, timestamp metadata.
import { isValidDatabaseName } from '../api/database-name.ts';
import { formatLTXFilename, parseLTXFilename, SNAPSHOT_LEVEL } from '../ltx/index.ts';
import { StorageError } from './object-store.ts';

/** An LTX object key, parsed. TXIDs are bigint (DESIGN §3). */
export interface LtxKey {
  db: string;
  /** 0 = per transaction, 1..8 = compactions, 9 = snapshots. */
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
}

/** Custom metadata name Litestream reads for timestamp restores (DESIGN §2). */
export const TIMESTAMP_METADATA = 'litestream-timestamp';

const MAX_TXID = (1n << 64n) - 1n;
const PREFIX_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const LEVEL_DIR = /^[0-9a-f]{4}$/;

function bad(message: string): StorageError {
  return new StorageError('STORAGE_INVALID_ARGUMENT', message, { op: 'key' });
}

/** A prefix is "/"-separated segments: no empty, "." or ".." segments, no leading or trailing "/". */
function isValidPrefix(prefix: string): boolean {
  return prefix !== '' && prefix.split('/').every((s) => s !== '.' && s !== '..' && PREFIX_SEGMENT.test(s));
}

function checkPrefixAndDb(prefix: string, db: string): void {
  if (!isValidPrefix(prefix)) throw bad(`invalid storage prefix ${JSON.stringify(prefix)}`);
  if (!isValidDatabaseName(db)) throw bad(`invalid database name ${JSON.stringify(db)}`);
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > SNAPSHOT_LEVEL) throw bad(`level must be 0..${SNAPSHOT_LEVEL}, got ${level}`);
}

/** `<prefix>/<db>/`: every object of one database (the trailing "/" keeps "orders" from matching "orders2"). */
export function dbPrefix(prefix: string, db: string): string {
  checkPrefixAndDb(prefix, db);
  return `${prefix}/${db}/`;
}

/** `<prefix>/<db>/<level as 4 lowercase hex>/`: one level's files, e.g. `db/orders/0009/`. */
export function levelPrefix(prefix: string, db: string, level: number): string {
  checkLevel(level);
  return `${dbPrefix(prefix, db)}${level.toString(16).padStart(4, '0')}/`;
}

/** `<prefix>/<db>/<level>/<min 16 hex>-<max 16 hex>.ltx` (DESIGN §2), e.g. `db/orders/0000/0000000000000007-0000000000000007.ltx`. */
export function ltxKey(prefix: string, db: string, level: number, minTXID: bigint, maxTXID: bigint): string {
  if (minTXID < 1n || maxTXID < minTXID || maxTXID > MAX_TXID) throw bad(`invalid TXID range ${minTXID}-${maxTXID}`);
  return `${levelPrefix(prefix, db, level)}${formatLTXFilename(minTXID, maxTXID)}`;
}

/**
 * Parses a key made by `ltxKey` under `prefix`; null for anything else (other prefixes, extra or
 * missing segments, uppercase hex, levels other than 4 hex digits 0..9, TXID 0 or min > max,
 * invalid database names such as ".." segments).
 */
export function parseLtxKey(key: string, prefix: string): LtxKey | null {
  if (!isValidPrefix(prefix) || !key.startsWith(prefix + '/')) return null;
  const parts = key.slice(prefix.length + 1).split('/');
  if (parts.length !== 3) return null;
  const [db, levelDir, file] = parts;
  if (!isValidDatabaseName(db) || !LEVEL_DIR.test(levelDir)) return null;
  const level = parseInt(levelDir, 16);
  if (level > SNAPSHOT_LEVEL) return null;
  const range = parseLTXFilename(file);
  return range === undefined ? null : { db, level, ...range };
}

const MIN_TIMESTAMP = new Date(0).setUTCFullYear(0, 0, 1); // 0000-01-01T00:00:00.000Z
const MAX_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * RFC3339 in UTC with exactly 3 fraction digits, e.g. `2024-01-02T03:04:05.006Z`: Litestream's
 * FormatTimestamp (ltx-format.md §8), the `litestream-timestamp` metadata value. `ms` is an integer
 * number of milliseconds since the epoch within years 0000..9999.
 */
export function formatTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < MIN_TIMESTAMP || ms > MAX_TIMESTAMP) throw bad(`timestamp out of range: ${ms}`);
  // toISOString is exactly this for years 0000..9999.
  return new Date(ms).toISOString();
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses RFC3339 with any number (1..9) of fraction digits or none, `Z` or a ±hh:mm offset
 * (Litestream falls back to RFC3339Nano), to milliseconds since the epoch; digits below a
 * millisecond are dropped (Go's UnixMilli). Null when it is not a valid timestamp.
 */
export function parseTimestamp(s: string): number | null {
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  if (day > daysInMonth) return null;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)));
  return d.getTime() - offsetMin * 60_000;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
