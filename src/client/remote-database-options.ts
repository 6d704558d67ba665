// RemoteDatabase's options, default limits and result shapes (what a caller passes and gets back), apart from the class that acts on them.

import type { PosJSON } from '../api/wire.ts';
import type { PrefetchOptions } from '../query/btree-walk.ts';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../query/engine.ts';
import type { ResultValue } from '../query/values.ts';
import type { ClientOptions } from '../remote/http-client.ts';
import type { ClientPagesStats } from './client-pages.ts';
import type { HydrateOptions } from './hydration-options.ts';

/** Page size of a database this client creates, unless told otherwise. */
export const DEFAULT_CREATE_PAGE_SIZE = 4096;
/** Default polling interval of follow(), ms. */
export const DEFAULT_FOLLOW_INTERVAL_MS = 1_000;

/**
 * Limits of a local query. Looser than the Worker's (the CPU and memory are the caller's own), but
 * still bounded so that a runaway statement ends with a QueryError instead of exhausting the process.
 */
export const CLIENT_QUERY_LIMITS: QueryLimits = {
  ...DEFAULT_QUERY_LIMITS,
  maxRows: 10_000_000,
  maxResultBytes: 1024 * 1024 * 1024,
  timeoutMs: 10 * 60_000,
  maxVmSteps: 1e12,
  maxHeapBytes: 1024 * 1024 * 1024,
  maxFetchRounds: 100_000,
};

export interface RemoteDatabaseOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Bearer token (scope read; write for transactions). */
  token?: string;
  /** Database name. */
  db: string;
  /** Pin the view to this TXID (bigint, number, or hex). Not with `at`. */
  txid?: bigint | number | string;
  /** Pin the view to the state as of this time (Date, RFC3339 or relative, resolved by the server). Not with `txid`. */
  at?: string | Date;
  /** LRU budget for pages, bytes. Default DEFAULT_CACHE_BYTES (32 MiB). */
  cacheBytes?: number;
  /** Most page bytes one statement may hold while it runs. Default DEFAULT_MAX_QUERY_BYTES (256 MiB). */
  maxQueryBytes?: number;
  /** Query limits over CLIENT_QUERY_LIMITS. */
  limits?: Partial<QueryLimits>;
  /** Sibling prefetch; `{first: 0, max: 0}` turns it off. */
  prefetch?: PrefetchOptions;
  /** Open a database that does not exist yet as empty (TXID 0); the first transaction creates it. Page size default 4096. */
  create?: boolean | { pageSize?: number };
  /** HTTP options of the ApiClient (retries, a custom fetch…). */
  http?: ClientOptions;
  /**
   * Keep a local copy at `hydrate.path`: downloaded in the background (reads stay lazy until it is
   * complete and verified, then come from it), kept current by refresh()/follow()/transaction(),
   * reused by the next open. See whenHydrated() and `hydration`.
   */
  hydrate?: HydrateOptions;
}

export interface QueryResult {
  columns: string[];
  /** Values as the query API encodes them (src/query/values.ts): big integers as decimal strings, BLOBs as {base64}. */
  rows: ResultValue[][];
  /** The TXID the statement read at. */
  txid: bigint;
  stats: ClientPagesStats & { reruns: number };
}

export interface RefreshResult {
  previous: bigint;
  txid: bigint;
  /** Pages dropped from the cache because they changed; 'all' when the server could not list them. */
  changed: number[] | 'all';
}

export interface WriteResult<T> {
  /** What the callback returned. */
  value: T;
  /** The TXID after the write (unchanged when the transaction wrote nothing). */
  txid: bigint;
  pos: PosJSON;
  /** Pages sent to the server. */
  pages: number;
}

export interface FollowOptions {
  /**
   * Default true: follow the server's commit stream (`GET …/watch`), moving on each commit without
   * polling; false, or a server without the stream: refresh every `intervalMs`.
   */
  watch?: boolean;
  /** Polling interval (default DEFAULT_FOLLOW_INTERVAL_MS); with the stream, the first reconnection delay. */
  intervalMs?: number;
  /** Told after each move of the view. */
  onChange?: (r: RefreshResult) => void;
  /** Told when a refresh fails or the stream breaks (the loop goes on, reconnecting). */
  onError?: (e: unknown) => void;
}

/** A running follow() loop. */
export interface Follower {
  stop(): void;
}
