// The JSON shapes the Node side (CLI, agent, client) reads from the ltx-edge HTTP API (DESIGN §4), and the API's limits it must respect.

/** A position on the wire: 16 lowercase hex digits each (DESIGN §4). */
export interface PosJSON {
  txid: string;
  postApplyChecksum: string;
}

/** The fields of `GET /v1/databases/:db` the CLI relies on (the server sends more). */
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
