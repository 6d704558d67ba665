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
