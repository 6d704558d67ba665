// The Node client library (issue 7): open a remote ltx-edge database, query it locally, follow it, travel in time, write atomically, hydrate a local copy (issue 17).

export type { ChangesJSON, PosJSON, ReadPoint } from '../api/wire.ts';
export { type ClientPagesStats, DEFAULT_MAX_QUERY_BYTES } from './client-pages.ts';
export { ClientError, type ClientErrorCode, ConflictError } from './errors.ts';
export type { HydrateOptions, HydrationProgress, HydrationState } from './hydration-options.ts';
export { DEFAULT_HYDRATE_BATCH_BYTES } from './hydration-download.ts';
export { DEFAULT_CACHE_BYTES, type PageStoreStats } from './page-store.ts';
export {
  CLIENT_QUERY_LIMITS,
  DEFAULT_CREATE_PAGE_SIZE,
  DEFAULT_FOLLOW_INTERVAL_MS,
  type FollowOptions,
  type Follower,
  type QueryResult,
  type RefreshResult,
  type RemoteDatabaseOptions,
  type WriteResult,
} from './remote-database-options.ts';
export { RemoteDatabase } from './remote-database.ts';
export type { PointInput } from './point-input.ts';
export { DEFAULT_MAX_WRITE_ROUNDS, type StatementResult, type Transaction } from './write-session.ts';
export { ApiClientError } from '../remote/http-client.ts';
export { QueryError } from '../query/query-error.ts';
