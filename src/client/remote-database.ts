// RemoteDatabase: a remote ltx-edge database opened from Node — local SQL over lazily fetched pages, following the head, time travel, atomic writes.

import type { PosJSON, ReadPoint } from '../api/wire.ts';
import { ApiClient, ApiClientError, type ClientOptions } from '../remote/http-client.ts';
import { formatHex64, formatTXID } from '../ltx/index.ts';
import type { PrefetchOptions } from '../query/btree-walk.ts';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../query/engine.ts';
import type { SharedPageCacheStats } from '../query/shared-page-cache.ts';
import type { Params, ResultValue } from '../query/values.ts';
import { ClientPages, type ClientPagesStats, DEFAULT_MAX_QUERY_BYTES, type PinnedState } from './client-pages.ts';
import { ClientError, ConflictError } from './errors.ts';
import { headerPageCount } from '../sqlite/header.ts';
import { DEFAULT_CACHE_BYTES, PageStore, type PageStoreStats } from './page-store.ts';
import { type PointInput, isTXIDInput, parsePoint } from './point-input.ts';
import { clientReadEngine } from './sqlite-runtime.ts';
import { type Transaction, runWrite } from './write-session.ts';

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
  intervalMs?: number;
  /** Told after each refresh that moved the view. */
  onChange?: (r: RefreshResult) => void;
  /** Told when a refresh fails (the loop goes on). */
  onError?: (e: unknown) => void;
}

/** A running follow() loop. */
export interface Follower {
  stop(): void;
}

interface Shared {
  api: ApiClient;
  name: string;
  cacheBytes: number;
  maxQueryBytes: number;
  limits: QueryLimits;
  prefetch: PrefetchOptions | undefined;
}

/**
 * A remote database read locally. SQL runs in this process on the same wa-sqlite engine and VFS as
 * the edge's query endpoint, over pages fetched lazily through `GET …/pages?pgno=` at one TXID and
 * kept in a byte-capped LRU. A view opened without `txid`/`at` follows the head on refresh() or
 * follow(), dropping only changed pages, and can write: transaction() runs SQL over a write-enabled
 * VFS that buffers dirty pages and commits them atomically with `POST …/tx?base=` (ConflictError
 * when another writer got there first). A view opened at a TXID or time, or made by at(), is pinned.
 */
export class RemoteDatabase {
  readonly name: string;
  /** True for a view pinned to a TXID (no refresh, no writes). */
  readonly pinned: boolean;
  private readonly shared: Shared;
  private readonly store: PageStore;
  private state: PinnedState;
  private position: PosJSON;
  private serial: Promise<unknown> = Promise.resolve();
  private readonly followers = new Set<Follower>();
  private closed = false;

  private constructor(shared: Shared, store: PageStore, state: PinnedState, pos: PosJSON, pinned: boolean) {
    this.shared = shared;
    this.name = shared.name;
    this.store = store;
    this.state = state;
    this.position = pos;
    this.pinned = pinned;
  }

  /** Opens `db` at the head (following it), or pinned at `txid` / `at`. Unknown database → ApiClientError NOT_FOUND (unless `create`). */
  static async open(opts: RemoteDatabaseOptions): Promise<RemoteDatabase> {
    if (typeof opts.url !== 'string' || !/^https?:\/\//i.test(opts.url))
      throw new ClientError('BAD_REQUEST', `url must be http(s), got ${String(opts.url)}`);
    if (typeof opts.db !== 'string' || opts.db === '') throw new ClientError('BAD_REQUEST', 'db (the database name) is required');
    if (opts.txid !== undefined && opts.at !== undefined) throw new ClientError('BAD_REQUEST', 'give txid or at, not both');
    const point = opts.txid !== undefined ? parsePoint(opts.txid, 'txid') : opts.at !== undefined ? parsePoint(opts.at, 'at') : {};
    const shared: Shared = {
      api: new ApiClient({ url: opts.url, token: opts.token }, opts.http),
      name: opts.db,
      cacheBytes: opts.cacheBytes ?? DEFAULT_CACHE_BYTES,
      maxQueryBytes: opts.maxQueryBytes ?? DEFAULT_MAX_QUERY_BYTES,
      limits: { ...CLIENT_QUERY_LIMITS, ...opts.limits },
      prefetch: opts.prefetch,
    };
    const create =
      opts.create === undefined || opts.create === false
        ? undefined
        : { pageSize: (opts.create === true ? undefined : opts.create.pageSize) ?? DEFAULT_CREATE_PAGE_SIZE };
    return RemoteDatabase.openAt(shared, point, create);
  }

  private static async openAt(shared: Shared, point: ReadPoint, create?: { pageSize: number }): Promise<RemoteDatabase> {
    const store = new PageStore(shared.api, shared.name, shared.cacheBytes);
    const pinned = point.txid !== undefined || point.at !== undefined;
    const info = await shared.api.databaseInfo(shared.name);
    if (info === undefined) {
      if (create === undefined || pinned) throw new ApiClientError(404, 'NOT_FOUND', `database ${shared.name} does not exist`);
      const state = { txid: 0n, pageSize: create.pageSize, commit: 0, epoch: store.epoch };
      return new RemoteDatabase(shared, store, state, { txid: formatTXID(0n), postApplyChecksum: formatHex64(0n) }, false);
    }
    if (!pinned) {
      const state = { txid: BigInt('0x' + info.pos.txid), pageSize: info.pageSize, commit: info.commit, epoch: store.epoch };
      return new RemoteDatabase(shared, store, state, info.pos, false);
    }
    // since=0 → the point's position (the server resolves `at`), whatever the history.
    const { pos } = await shared.api.changes(shared.name, 0n, point);
    const txid = BigInt('0x' + pos.txid);
    let commit = info.commit;
    if (pos.txid !== info.pos.txid) {
      const first = await store.firstPage({ txid }, info.pageSize);
      if (first.page === undefined) throw new ClientError('BAD_RESPONSE', `page 1 is missing at TXID ${pos.txid}`);
      store.put(1, first.page, store.epoch);
      commit = await store.findCommit(txid, info.pageSize, headerPageCount(first.page));
    }
    return new RemoteDatabase(shared, store, { txid, pageSize: info.pageSize, commit, epoch: store.epoch }, pos, true);
  }

  /** The TXID this view reads at (0 for a database not created yet). */
  get txid(): bigint {
    return this.state.txid;
  }

  /** Position at `txid`: TXID and post-apply checksum, 16 hex digits each. */
  get pos(): PosJSON {
    return this.position;
  }

  get pageSize(): number {
    return this.state.pageSize;
  }

  /** Database size in pages at `txid`. */
  get commit(): number {
    return this.state.commit;
  }

  /** Requests and pages fetched, cache hits and invalidations of this view. */
  get stats(): Readonly<PageStoreStats> {
    return this.store.stats;
  }

  /** The LRU's own counters: bytes charged (≤ cacheBytes), entries, evictions. */
  get cacheStats(): SharedPageCacheStats {
    return this.store.cache.stats;
  }

  /** True when page `pgno` is in the LRU now (does not touch its recency). */
  isCached(pgno: number): boolean {
    return this.store.has(pgno, this.state.epoch);
  }

  /**
   * Runs one read-only statement locally at the view's TXID. Errors: QueryError (SQL_ERROR,
   * QUERY_NOT_READ_ONLY, MULTIPLE_STATEMENTS, limits), ApiClientError for the server's (e.g. 410
   * TXID_NOT_AVAILABLE when retention removed the TXID of a pinned view).
   */
  async query(sql: string, params?: Params): Promise<QueryResult> {
    this.checkOpen();
    const state = this.state;
    const engine = await clientReadEngine();
    const pages = new ClientPages(this.store, state, { maxBytes: this.shared.maxQueryBytes, prefetch: this.shared.prefetch });
    const out = await engine.query(pages, { sql, params }, this.shared.limits);
    return { columns: out.columns, rows: out.rows, txid: state.txid, stats: { ...pages.stats, reruns: out.reruns } };
  }

  /** Page `pgno` (1..commit) at the view's TXID, as the server holds it. */
  async readPage(pgno: number): Promise<Uint8Array> {
    this.checkOpen();
    const state = this.state;
    if (!Number.isSafeInteger(pgno) || pgno < 1 || pgno > state.commit) {
      throw new ClientError('BAD_REQUEST', `page ${pgno} is not in 1..${state.commit}`);
    }
    const cached = this.store.get(pgno, state.epoch);
    if (cached !== undefined) return cached;
    const got = await this.store.fetch(state.txid, state.pageSize, [pgno]);
    const page = got.get(pgno);
    if (page === undefined) throw new ClientError('BAD_RESPONSE', `page ${pgno} is missing at TXID ${formatTXID(state.txid)}`);
    this.store.put(pgno, page, state.epoch);
    return page;
  }

  /**
   * Moves to the head: asks for the head (`GET …/:db`), then for the pages changed since our TXID
   * (`GET …/changes?since=&txid=<head>`), drops just those from the cache (all when the server
   * cannot list them), and reads at the head from now on. Statements already running finish at
   * their own TXID.
   */
  async refresh(): Promise<RefreshResult> {
    this.checkOpen();
    if (this.pinned) throw new ClientError('PINNED', `this view is pinned to TXID ${formatTXID(this.txid)}`);
    return this.exclusive(async () => {
      const previous = this.state.txid;
      const info = await this.shared.api.databaseInfo(this.name);
      if (info === undefined) throw new ApiClientError(404, 'NOT_FOUND', `database ${this.name} does not exist`);
      const head = BigInt('0x' + info.pos.txid);
      if (head === previous && info.pageSize === this.state.pageSize) return { previous, txid: head, changed: [] };
      let changed: number[] | 'all' = 'all';
      if (head > previous && previous > 0n && info.pageSize === this.state.pageSize) {
        try {
          const c = await this.shared.api.changes(this.name, previous, { txid: head });
          if (!c.all) changed = c.pgnos;
        } catch (e) {
          // The range is no longer held file by file (compacted, retention): start over.
          if (!(e instanceof ApiClientError && (e.code === 'TXID_NOT_AVAILABLE' || e.code === 'BAD_REQUEST'))) throw e;
        }
      }
      const epoch = this.store.advance(changed, info.commit);
      this.state = { txid: head, pageSize: info.pageSize, commit: info.commit, epoch };
      this.position = info.pos;
      return { previous, txid: head, changed };
    });
  }

  /** Refreshes every `intervalMs` until stop() or close(). */
  follow(opts: FollowOptions = {}): Follower {
    this.checkOpen();
    if (this.pinned) throw new ClientError('PINNED', `this view is pinned to TXID ${formatTXID(this.txid)}`);
    const intervalMs = opts.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const follower: Follower = {
      stop: () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        this.followers.delete(follower);
      },
    };
    const tick = async (): Promise<void> => {
      timer = undefined;
      try {
        const r = await this.refresh();
        if (r.txid !== r.previous && !stopped) opts.onChange?.(r);
      } catch (e) {
        if (!stopped) opts.onError?.(e);
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    this.followers.add(follower);
    timer = setTimeout(tick, 0);
    return follower;
  }

  /** A view pinned at `point` (a TXID or a time), with its own cache; this view is unchanged. */
  async at(point: PointInput): Promise<RemoteDatabase> {
    this.checkOpen();
    return RemoteDatabase.openAt(this.shared, parsePoint(point, isTXIDInput(point) ? 'txid' : 'at'));
  }

  /**
   * Runs `fn` as one write transaction at the view's TXID and commits what it wrote as the next
   * TXID (`POST …/tx?base=<txid>`). `fn` may run more than once (it reruns after fetching pages it
   * missed): keep side effects outside. On success the view moves to the new TXID with the written
   * pages cached. ConflictError when the head moved past our TXID meanwhile: nothing applied, here
   * or on the server; refresh() and try again. Transactions and refreshes of one view run one at a time.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<WriteResult<T>> {
    this.checkOpen();
    if (this.pinned) throw new ClientError('PINNED', `this view is pinned to TXID ${formatTXID(this.txid)}: it cannot write`);
    return this.exclusive(async () => {
      const state = this.state;
      const { value, dirty } = await runWrite(this.store, state, fn, {
        maxBytes: this.shared.maxQueryBytes,
        prefetch: this.shared.prefetch,
      });
      if (dirty === undefined) return { value, txid: state.txid, pos: this.position, pages: 0 };
      const first = dirty.pages[0];
      if (first.pgno === 1 && state.commit > 0) {
        // SQLite read page 1 patched to rollback-journal mode (patchHeader): give it back the base's mode bytes.
        const base = await this.readPage(1);
        first.data[18] = base[18];
        first.data[19] = base[19];
      }
      let pos: PosJSON;
      try {
        pos = await this.shared.api.writePages(this.name, state.txid, dirty.pages, {
          commit: dirty.commit,
          pageSize: state.commit === 0 ? state.pageSize : undefined,
        });
      } catch (e) {
        if (e instanceof ApiClientError && e.code === 'CONFLICT') throw new ConflictError(state.txid, e);
        throw e;
      }
      // The server applied exactly these pages on top of our base (base = head was checked): cache them as the new TXID's.
      const epoch = this.store.advance(
        dirty.pages.map((p) => p.pgno),
        dirty.commit,
      );
      for (const p of dirty.pages) this.store.put(p.pgno, p.data, epoch);
      const txid = BigInt('0x' + pos.txid);
      this.state = { txid, pageSize: state.pageSize, commit: dirty.commit, epoch };
      this.position = pos;
      return { value, txid, pos, pages: dirty.pages.length };
    });
  }

  /** Stops follow() loops and refuses further calls; statements already running finish. */
  close(): void {
    this.closed = true;
    for (const f of [...this.followers]) f.stop();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientError('CLOSED', `database ${this.name} is closed`);
  }

  /** Runs `fn` after every earlier refresh/transaction of this view has settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }
}
