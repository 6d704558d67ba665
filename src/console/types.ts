// The /v1 answers the console reads, as the OpenAPI document (src/routes/openapi.json) describes them.

export interface Pos {
  txid: string;
  postApplyChecksum: string;
}

/** One entry of GET /v1/databases (DatabaseEntry). */
export interface DatabaseEntry {
  name: string;
  pos: Pos;
  pageSize: number;
  size: number;
  updatedAt: string;
  /** When maintenance is next due (ms since the epoch); null = idle. */
  nextDue?: number | null;
}

export interface DatabaseList {
  databases: DatabaseEntry[];
  next?: string;
}

/** GET /v1/databases/:db (DatabaseInfo). */
export interface DatabaseInfo {
  name: string;
  pos: Pos;
  pageSize: number;
  commit: number;
  size: number;
  createdAt: string;
  updatedAt: string;
  levels: { level: number; files: number; bytes: number }[];
  oldest: { txid: string; timestamp: string } | null;
  pendingWrites: number;
  maintenance: { failures: number; retryAt: string | null; lastFailure: { action: string; error: string; at: string } | null };
}

/** One catalog row of GET …/ltx (LtxFile). */
export interface LtxFile {
  level: number;
  minTXID: string;
  maxTXID: string;
  size: number;
  timestamp: string;
}

/** A result value: null, number, string, or a BLOB as base64 (src/query/values.ts ResultValue). */
export type Value = null | number | string | { base64: string };

export interface QueryResult {
  columns: string[];
  rows: Value[][];
  pos: Pos;
  stats: { pagesRead: number; ms: number };
}

/** GET …/changes. */
export interface Changes {
  pos: Pos;
  pgnos: number[];
  all: boolean;
}

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

/** The data of one commit event of GET …/watch. */
export interface CommitEvent {
  pos: Pos;
  since: string;
  commit: number;
  pageSize: number;
  timestamp: string;
  pgnos?: number[];
  all?: boolean;
}

/** Where a read happens: the head (null), or a TXID, optionally chosen by time. */
export type Point = null | { txid: bigint; at?: string };
