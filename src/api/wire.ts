// The JSON shapes of the HTTP API (DESIGN §4) in one place: the routes and the DO answer with them, the Node side (CLI, agent, client) reads them. Types and limits only, no code.

/** A position on the wire: 16 lowercase hex digits each (DESIGN §4). */
export interface PosJSON {
  txid: string;
  postApplyChecksum: string;
}

/** `GET /v1/databases/:db` as the Node side reads it (durable/info.ts DatabaseInfo; its `maintenance` left out). */
export interface DatabaseInfoJSON {
  name: string;
  pos: PosJSON;
  pageSize: number;
  commit: number;
  size: number;
  createdAt: string;
  updatedAt: string;
  levels: { level: number; files: number; bytes: number }[];
  oldest: { txid: string; timestamp: string } | null;
  pendingWrites: number;
}

/** One entry of `GET /v1/databases` (durable/registry.ts RegistryEntry). */
export interface DatabaseEntryJSON {
  name: string;
  pos: PosJSON;
  pageSize: number;
  size: number;
  updatedAt: string;
  /** When maintenance is next due (ms since the epoch); null/absent: nothing due. */
  nextDue?: number | null;
}

/** One LTX file of `GET /v1/databases/:db/ltx` (durable/info.ts FileJSON). */
export interface LtxFileJSON {
  level: number;
  minTXID: string;
  maxTXID: string;
  size: number;
  timestamp: string;
  postApplyChecksum: string;
}

/** `GET /v1/databases/:db/changes`: pages changed after `since` up to `pos` (all = every page may have). */
export interface ChangesJSON {
  pos: PosJSON;
  pgnos: number[];
  all: boolean;
}

/** The data of one `GET /v1/databases/:db/watch` commit event (its SSE id is `pos.txid`). */
export interface WatchEventJSON {
  pos: PosJSON;
  /** The TXID the changes are relative to: the head before the commit (or the Last-Event-ID resumed from). */
  since: string;
  pageSize: number;
  /** Database size in pages afterwards. */
  commit: number;
  /** The commit's time (the LTX header's), RFC3339. */
  timestamp: string;
  /** Pages changed since `since`, ascending; absent when `all`. */
  pgnos?: number[];
  /** Every page may have changed (too many to list, a shrink, or a range no longer held commit by commit). */
  all: boolean;
}

/** The point of a read (DESIGN §4): an explicit TXID, a time (`at=`: RFC3339 or relative), or neither = the head. */
export interface ReadPoint {
  txid?: bigint;
  at?: string;
}

/** Most pages per `GET …/pages?pgno=` (the server's MAX_BATCH_PAGES). */
export const MAX_BATCH_PAGES = 4096;
