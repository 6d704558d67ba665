// What a RemoteDatabase's caller gives and sees of hydration (options, progress), and what hydration needs of the RemoteDatabase.

import type { PosJSON } from '../api/wire.ts';
import type { ApiClient } from '../remote/http-client.ts';
import type { PinnedState } from './client-pages.ts';
import type { PageStore } from './page-store.ts';

export interface HydrateOptions {
  /** The local database file (a plain SQLite file); beside it `<path>-ltx-edge.json` and, while downloading, `<path>-ltx-edge.partial`. */
  path: string;
  /** Told after each downloaded round and each change of state. */
  onProgress?: (p: HydrationProgress) => void;
  /** Pages per batch request while downloading. Default: 4 MiB worth (DEFAULT_HYDRATE_BATCH_BYTES), at most 4,096. */
  batchPages?: number;
}

/** hydrating: reads are remote while the file is made; hydrated: reads come from the file; failed: remote for good (see `error`). */
export type HydrationState = 'hydrating' | 'hydrated' | 'failed' | 'closed';

export interface HydrationProgress {
  state: HydrationState;
  /** How the file was made: downloaded anew, a download resumed, or a file left by an earlier run reused. */
  start: 'new' | 'resumed' | 'reused' | undefined;
  /** The TXID the file holds, or is being downloaded at. */
  txid: bigint;
  /** Pages of the file in place (of `total`). */
  pages: number;
  /** The database's size in pages at `txid`. */
  total: number;
  /** Pages fetched from the server for the file in this process: download, catching up, following. */
  fetched: number;
  /** Batch requests sent for them. */
  requests: number;
  /** Times the file was started again from nothing in this process. */
  restarts: number;
  /** Why it failed (state 'failed'). */
  error: unknown;
}

/** What hydration needs of its RemoteDatabase. */
export interface HydrationHost {
  readonly api: ApiClient;
  readonly name: string;
  readonly store: PageStore;
  /** The view's state and position now. */
  current(): { state: PinnedState; pos: PosJSON };
  /** Runs `fn` alone: after the view's refreshes and transactions settle, and before the next. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}
