// The LiteFS Cloud wire conventions for /litefs: error shape and codes, raw-token auth, cluster names, positions.
//
// What the clients expect (superfly/litefs lfsc/backup_client.go; superfly/litevfs src/lfsc.rs):
// * every non-2xx body is JSON `{"code": "...", "error": "...", "pos"?: {...}}` — LiteVFS fails to
//   parse anything else, and both clients turn `EPOSMISMATCH` + `pos` into a position-mismatch error
//   (LiteFS then restores from GET /db/snapshot);
// * positions are `{"txid": "<16 hex>", "postApplyChecksum": "<16 hex>"}` with these exact lowercase
//   keys (LiteVFS reads them case-sensitively; Go's decoder matches them case-insensitively);
// * `Authorization` carries the configured value verbatim, with no scheme added.

import type { Context, MiddlewareHandler } from 'hono';
import { allowsDatabase, authenticate, hasScope } from '../auth.ts';
import { isValidDatabaseName } from '../api/database-name.ts';
import type { Scope } from '../config.ts';
import type { PosJSON } from '../durable/rpc-result.ts';
import type { AppEnv } from '../env.ts';
import { apiErrorOf, type ErrorCode } from '../errors.ts';
import type { LTXErrorCode } from '../ltx/index.ts';

/** An error answered in LiteFS's shape. */
export class LiteFSError extends Error {
  readonly status: number;
  readonly code: string;
  readonly pos: PosJSON | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, pos?: PosJSON, extra?: Record<string, unknown>) {
    super(message);
    this.name = 'LiteFSError';
    this.status = status;
    this.code = code;
    this.pos = pos;
    this.extra = extra;
  }
}

/**
 * 409 `{"code": "EPOSMISMATCH", "error": "position mismatch", "pos": <our head>}`: what both clients
 * recover from (LiteFS by restoring the snapshot, LiteVFS by failing the transaction for a retry).
 */
export function posMismatch(pos: PosJSON): LiteFSError {
  return new LiteFSError(409, 'EPOSMISMATCH', 'position mismatch', pos);
}

/**
 * Codec codes → LiteFS codes (all 422, with `ltxCode` alongside): header rules EBADHEADER; file,
 * pre- and post-apply checksums and trailer rules EBADCHECKSUM; page frames, order, range, lock page,
 * completeness EBADPAGE; the rest (truncated, trailing bytes, limits) EBADLTX.
 */
const LTX_CODES: Partial<Record<LTXErrorCode, string>> = {
  LTX_BAD_MAGIC: 'EBADHEADER',
  LTX_BAD_FLAGS: 'EBADHEADER',
  LTX_BAD_PAGE_SIZE: 'EBADHEADER',
  LTX_BAD_TXID: 'EBADHEADER',
  LTX_BAD_HEADER: 'EBADHEADER',
  LTX_RESERVED_SET: 'EBADHEADER',
  LTX_FILE_CHECKSUM_MISMATCH: 'EBADCHECKSUM',
  LTX_POST_APPLY_MISMATCH: 'EBADCHECKSUM',
  LTX_PRE_APPLY_MISMATCH: 'EBADCHECKSUM',
  LTX_BAD_TRAILER: 'EBADCHECKSUM',
  LTX_BAD_PAGE_HEADER: 'EBADPAGE',
  LTX_PAGE_ORDER: 'EBADPAGE',
  LTX_PAGE_OUT_OF_RANGE: 'EBADPAGE',
  LTX_LOCK_PAGE: 'EBADPAGE',
  LTX_SNAPSHOT_INCOMPLETE: 'EBADPAGE',
  LTX_BAD_PAGE_DATA: 'EBADPAGE',
  LTX_BAD_INDEX: 'EBADPAGE',
};

/** A codec rejection of the client's file as a LiteFS error. */
export function ltxRejection(code: string, message: string): LiteFSError {
  return new LiteFSError(422, LTX_CODES[code as LTXErrorCode] ?? 'EBADLTX', message, undefined, { ltxCode: code });
}

/** Our API codes → LiteFS status and code (POSITION_MISMATCH and INVALID_LTX are handled apart). */
const API_CODES: Partial<Record<ErrorCode, [number, string]>> = {
  BAD_REQUEST: [400, 'EINVAL'],
  INVALID_NAME: [400, 'EINVAL'],
  UNAUTHORIZED: [401, 'EUNAUTHORIZED'],
  FORBIDDEN: [403, 'EFORBIDDEN'],
  NOT_FOUND: [404, 'ENOTFOUND'],
  PAYLOAD_TOO_LARGE: [413, 'ETOOLARGE'],
  DATABASE_TOO_LARGE: [413, 'ETOOLARGE'],
  REQUEST_TIMEOUT: [408, 'ETIMEOUT'],
  TXID_EXHAUSTED: [409, 'ECONFLICT'],
  CONFLICT: [409, 'ECONFLICT'],
  NOT_YET_AVAILABLE: [409, 'ENOTYETAVAILABLE'],
  TXID_NOT_AVAILABLE: [410, 'ETXIDNOTAVAILABLE'],
  STORAGE_UNAVAILABLE: [503, 'EUNAVAILABLE'],
  NOT_CONFIGURED: [503, 'EUNAVAILABLE'],
};

/** An API error (thrown by shared route helpers or from a DO result) as a LiteFS error. */
export function fromApiError(code: ErrorCode, message: string, details?: Record<string, unknown>): LiteFSError {
  const pos = details?.pos as PosJSON | undefined;
  if (code === 'POSITION_MISMATCH' && pos) return posMismatch(pos);
  if (code === 'INVALID_LTX') return ltxRejection(String(details?.ltxCode ?? ''), message);
  const [status, lfsCode] = API_CODES[code] ?? [500, 'EINTERNAL'];
  return new LiteFSError(status, lfsCode, status === 500 ? 'internal error' : message, pos);
}

/** The JSON error response: `{code, error, pos?}` (+ `ltxCode` for codec rejections). */
export function litefsErrorResponse(e: LiteFSError): Response {
  const body: Record<string, unknown> = { code: e.code, error: e.message };
  if (e.pos) body.pos = e.pos;
  Object.assign(body, e.extra);
  return new Response(JSON.stringify(body), { status: e.status, headers: { 'content-type': 'application/json; charset=UTF-8' } });
}

/** hono onError for the /litefs sub-app: every failure leaves in LiteFS's shape. */
export function litefsOnError(err: Error, c: Context): Response {
  if (err instanceof LiteFSError) return litefsErrorResponse(err);
  const api = apiErrorOf(err);
  if (api) return litefsErrorResponse(fromApiError(api.code, api.message, api.details));
  console.error(`INTERNAL ${c.req.method} ${new URL(c.req.url).pathname}:`, err);
  return litefsErrorResponse(new LiteFSError(500, 'EINTERNAL', 'internal error'));
}

// ---------------------------------------------------------------------------------------------
// Names. LiteFS names a database by its file name (`?db=`) and may add `?cluster=` (LiteFS Cloud
// put the cluster on the token; LiteVFS sends LITEFS_CLOUD_CLUSTER). A cluster is a name prefix:
// `?cluster=prod&db=orders.db` is our database `prod--orders.db`. Without a cluster, names map 1:1
// and names holding `--` are not LiteFS databases (they belong to a cluster). Both parts must be
// valid database names (DESIGN §2) without `--`, and so must the result (63 characters at most).
// A token confined to a cluster lists `"<cluster>--*"` as its database pattern.
// ---------------------------------------------------------------------------------------------

/** Separator between a cluster and a LiteFS database name in our database names. */
export const CLUSTER_SEPARATOR = '--';

/** `?cluster=`, validated; undefined when absent or empty. */
export function clusterOf(c: Context): string | undefined {
  const cluster = c.req.query('cluster');
  if (cluster === undefined || cluster === '') return undefined;
  if (!isValidDatabaseName(cluster) || cluster.includes(CLUSTER_SEPARATOR)) {
    throw new LiteFSError(400, 'EINVAL', `invalid cluster name ${JSON.stringify(cluster.slice(0, 80))}`);
  }
  return cluster;
}

/** The database a request is about: the LiteFS name (`?db=`) and ours (with the cluster prefix). */
export interface LiteFSTarget {
  db: string;
  name: string;
}

export function targetOf(c: Context): LiteFSTarget {
  const db = c.req.query('db');
  if (db === undefined || db === '') throw new LiteFSError(400, 'EINVAL', 'db required');
  return { db, name: ourNameOf(db, clusterOf(c)) };
}

/** Our name for LiteFS database `db` in `cluster`; 400 EINVAL when either part or the result is invalid. */
export function ourNameOf(db: string, cluster: string | undefined): string {
  const name = cluster === undefined ? db : `${cluster}${CLUSTER_SEPARATOR}${db}`;
  if (!isValidDatabaseName(db) || db.includes(CLUSTER_SEPARATOR) || !isValidDatabaseName(name)) {
    throw new LiteFSError(400, 'EINVAL', `invalid database name ${JSON.stringify(db.slice(0, 80))}`);
  }
  return name;
}

/** The LiteFS name of our database `name` within `cluster`, or undefined when it is not in it. */
export function liteFSNameOf(name: string, cluster: string | undefined): string | undefined {
  const rest = cluster === undefined ? name : name.startsWith(cluster + CLUSTER_SEPARATOR) ? name.slice(cluster.length + 2) : undefined;
  return rest !== undefined && rest !== '' && !rest.includes(CLUSTER_SEPARATOR) ? rest : undefined;
}

// ---------------------------------------------------------------------------------------------
// Auth. The raw token, `FlyV1 <token>` (what LiteFS Cloud tokens looked like) and `Bearer <token>`
// are all accepted: LiteFS sends whatever LITEFS_CLOUD_TOKEN holds, so each of these is a value a
// user may have configured, and the token itself is what is checked. Any other scheme is a 401.
// ---------------------------------------------------------------------------------------------

/** Middleware: 401 EUNAUTHORIZED without a known token, 403 EFORBIDDEN without `scope` or the database. */
export function requireLiteFS(scope: Scope, opts: { database: boolean }): MiddlewareHandler<AppEnv> {
  return async function requireLiteFS(c, next) {
    const config = c.get('config');
    const header = c.req.header('authorization');
    const spec = await authenticate(header, config.tokens, { raw: true });
    if (spec === null) {
      throw new LiteFSError(401, 'EUNAUTHORIZED', header === undefined ? 'missing Authorization header' : 'unknown or malformed token');
    }
    if (!hasScope(spec, scope)) throw new LiteFSError(403, 'EFORBIDDEN', `token lacks the "${scope}" scope`);
    if (opts.database && !allowsDatabase(spec, targetOf(c).name))
      throw new LiteFSError(403, 'EFORBIDDEN', 'token does not cover this database');
    c.set('token', spec);
    await next();
  };
}

// ---------------------------------------------------------------------------------------------
// Positions on the query string: `pos=<txid>/<checksum>` (ltx.Pos.String, 16 hex digits each).
// ---------------------------------------------------------------------------------------------

export interface QueryPos {
  txid: bigint;
  checksum: bigint;
}

/** `?pos=`, or undefined when absent; 400 EINVAL when malformed. Hex in either case is accepted. */
export function posOf(c: Context): QueryPos | undefined {
  const text = c.req.query('pos');
  if (text === undefined || text === '') return undefined;
  const m = /^([0-9a-fA-F]{1,16})\/([0-9a-fA-F]{1,16})$/.exec(text);
  if (!m) throw new LiteFSError(400, 'EINVAL', 'pos must be <txid>/<checksum> in hex, e.g. 0000000000000003/8e3c0f0b1a2b3c4d');
  return { txid: BigInt('0x' + m[1]), checksum: BigInt('0x' + m[2]) };
}
