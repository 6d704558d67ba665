// The JSON shapes of the HTTP API (DESIGN §4) in one place: the routes and the DO answer with them, the Node side (CLI, agent, client) reads them. Types and limits only, no code.

/** A position on the wire: 16 lowercase hex digits each (DESIGN §4). */
export interface PosJSON {
  txid: string;
  postApplyChecksum: string;
}

/** The fields of `GET /v1/databases/:db` the Node side relies on (the server sends more: durable/info.ts). */
export interface DatabaseInfoJSON {
  name: string;
  pos: PosJSON;
  pageSize: number;
  commit: number;
  size: number;
}

/** `GET /v1/databases/:db/changes`: pages changed after `since` up to `pos` (all = every page may have). */
export interface ChangesJSON {
  pos: PosJSON;
  pgnos: number[];
  all: boolean;
}

/** The point of a read (DESIGN §4): an explicit TXID, a time (`at=`: RFC3339 or relative), or neither = the head. */
export interface ReadPoint {
  txid?: bigint;
  at?: string;
}

/** Most pages per `GET …/pages?pgno=` (the server's MAX_BATCH_PAGES). */
export const MAX_BATCH_PAGES = 4096;
