// The hydration sidecar (<path>-ltx-edge.json): which database and position a local file holds, a move under way, a download's progress — parsed strictly, pure.

import type { PosJSON } from '../api/wire.ts';
import { isValidPageSize, parseHex64, parseTXID } from '../ltx/index.ts';

/** The sidecar's format version. */
export const HYDRATION_RECORD_VERSION = 1;

/** The files of a hydrated database at `path`. */
export interface HydrationPaths {
  /** The SQLite database file: complete and verified whenever it exists. */
  file: string;
  /** The sidecar: this module's record, as JSON. */
  record: string;
  /** A download under way (becomes `file` once verified). */
  partial: string;
}

export function hydrationPaths(path: string): HydrationPaths {
  return { file: path, record: `${path}-ltx-edge.json`, partial: `${path}-ltx-edge.partial` };
}

/** A database state: its position (TXID and post-apply checksum) and its size in pages. */
export interface FileState {
  pos: PosJSON;
  commit: number;
}

/** What the sidecar says. Every position it names was the server's. */
export interface HydrationRecord {
  version: typeof HYDRATION_RECORD_VERSION;
  /** Database name. */
  db: string;
  /**
   * When the database was created, as `GET /v1/databases/:db` says: a database deleted and created
   * again under the same name has another (the API does not expose its incarnation id).
   */
  createdAt: string | undefined;
  pageSize: number;
  /** What the database file holds. */
  file?: FileState;
  /**
   * A move of the database file under way (changed pages being written, or a finished download
   * being renamed into place): after a crash the file holds `file` or `next`, whichever its checksum matches.
   */
  next?: FileState;
  /** A download into the partial file: pages 1..`pages` are written and synced. */
  download?: FileState & { pages: number };
}

/** The database a record must describe to be of use. */
export interface RecordIdentity {
  db: string;
  createdAt: string | undefined;
  pageSize: number;
}

export function formatHydrationRecord(r: HydrationRecord): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The record in `text`, or undefined when it is not one this version wrote (then nothing it says is trusted). */
export function parseHydrationRecord(text: string): HydrationRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json) || json.version !== HYDRATION_RECORD_VERSION) return undefined;
  const { db, createdAt, pageSize } = json;
  if (typeof db !== 'string' || db === '') return undefined;
  if (createdAt !== undefined && typeof createdAt !== 'string') return undefined;
  if (typeof pageSize !== 'number' || !isValidPageSize(pageSize)) return undefined;
  const record: HydrationRecord = { version: HYDRATION_RECORD_VERSION, db, createdAt, pageSize };
  for (const key of ['file', 'next'] as const) {
    if (json[key] === undefined) continue;
    const state = parseFileState(json[key]);
    if (state === undefined) return undefined;
    record[key] = state;
  }
  if (json.download !== undefined) {
    const state = parseFileState(json.download);
    const pages = isObject(json.download) ? json.download.pages : undefined;
    if (state === undefined || !isCount(pages) || pages > state.commit) return undefined;
    record.download = { ...state, pages };
  }
  return record;
}

/** True when `r` describes the database `id` (same name, creation time and page size). */
export function recordMatches(r: HydrationRecord, id: RecordIdentity): boolean {
  return r.db === id.db && r.createdAt === id.createdAt && r.pageSize === id.pageSize;
}

/**
 * Which state the database file holds, from its size in bytes and its checksum: the record's `file`
 * or its `next`, whichever matches both; undefined when neither does (the file cannot be trusted).
 */
export function stateOfFile(r: HydrationRecord, size: number, checksum: bigint): FileState | undefined {
  for (const s of [r.file, r.next]) {
    if (s !== undefined && s.commit * r.pageSize === size && parseHex64(s.pos.postApplyChecksum) === checksum) return s;
  }
  return undefined;
}

/** The TXID of a state, as a bigint. */
export function txidOf(s: FileState): bigint {
  return BigInt(`0x${s.pos.txid}`);
}

function parseFileState(v: unknown): FileState | undefined {
  if (!isObject(v) || !isObject(v.pos) || !isCount(v.commit)) return undefined;
  const { txid, postApplyChecksum } = v.pos;
  if (typeof txid !== 'string' || parseTXID(txid) === undefined) return undefined;
  if (typeof postApplyChecksum !== 'string' || parseHex64(postApplyChecksum) === undefined) return undefined;
  return { pos: { txid, postApplyChecksum }, commit: v.commit };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
}
