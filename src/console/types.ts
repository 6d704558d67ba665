// The /v1 answers the console reads: the wire types of src/api/wire.ts, and what the console adds to them.

import type { ChangesJSON, DatabaseEntryJSON, DatabaseInfoJSON, LtxFileJSON, PosJSON, WatchEventJSON } from '../api/wire.ts';

export type Pos = PosJSON;

/** One entry of GET /v1/databases. */
export type DatabaseEntry = DatabaseEntryJSON;

export interface DatabaseList {
  databases: DatabaseEntry[];
  next?: string;
}

/** GET /v1/databases/:db, with the maintenance state the console shows. */
export interface DatabaseInfo extends DatabaseInfoJSON {
  maintenance: { failures: number; retryAt: string | null; lastFailure: { action: string; error: string; at: string } | null };
}

/** One catalog row of GET …/ltx. */
export type LtxFile = LtxFileJSON;

/** A result value: null, number, string, or a BLOB as base64 (src/query/values.ts ResultValue). */
export type Value = null | number | string | { base64: string };

export interface QueryResult {
  columns: string[];
  rows: Value[][];
  pos: Pos;
  stats: { pagesRead: number; ms: number };
}

/** GET …/changes. */
export type Changes = ChangesJSON;

/** POST …/links. */
export interface ReadLink {
  url: string;
  txid: string;
  expiresAt: string;
}

/** POST …/restore. */
export interface Restored {
  pos: Pos;
  pages?: number;
}

/** The data of one commit event of GET …/watch (`all` left out by the polling fallback, which knows no pages). */
export type CommitEvent = Omit<WatchEventJSON, 'all'> & { all?: boolean };

/** Where a read happens: the head (null), or a TXID, optionally chosen by time. */
export type Point = null | { txid: bigint; at?: string };
