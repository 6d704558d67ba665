// RemoteDatabase: a remote ltx-edge database opened from Node — local SQL over lazily fetched pages, following the head, time travel, atomic writes, a hydrated local copy.

import type { PosJSON, ReadPoint, WatchEventJSON } from '../api/wire.ts';
import { startFollowing } from './follower.ts';
import { ApiClient, ApiClientError } from '../remote/http-client.ts';
import { formatHex64, formatTXID } from '../ltx/index.ts';
import type { PrefetchOptions } from '../query/btree-walk.ts';
import type { QueryLimits } from '../query/engine.ts';
import type { SharedPageCacheStats } from '../query/shared-page-cache.ts';
import type { Params } from '../query/values.ts';
import { ClientPages, DEFAULT_MAX_QUERY_BYTES, type PinnedState } from './client-pages.ts';
import { ClientError, ConflictError } from './errors.ts';
import type { HydrationHost, HydrationProgress } from './hydration-options.ts';
import { Hydration } from './hydration.ts';
import { headerPageCount } from '../sqlite/header.ts';
import { DEFAULT_CACHE_BYTES, PageStore, type PageStoreStats } from './page-store.ts';
import { type PointInput, isTXIDInput, parsePoint } from './point-input.ts';
import {
  CLIENT_QUERY_LIMITS,
  DEFAULT_CREATE_PAGE_SIZE,
  type FollowOptions,
  type Follower,
  type QueryResult,
  type RefreshResult,
  type RemoteDatabaseOptions,
  type WriteResult,
} from './remote-database-options.ts';
import { clientReadEngine } from './sqlite-runtime.ts';
import { type Transaction, runWrite } from './write-session.ts';

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
 * Opened with `hydrate`, it also keeps a local copy of the database (hydration.ts) and reads from it
 * once that is complete.
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
  /** The database's creation time (GET …/:db), for hydration's record; undefined before it exists. */
  private readonly createdAt: string | undefined;
  private hydrator: Hydration | undefined;
  private closing: Promise<void> | undefined;

  private constructor(shared: Shared, store: PageStore, state: PinnedState, pos: PosJSON, pinned: boolean, createdAt?: string) {
    this.shared = shared;
    this.name = shared.name;
    this.store = store;
    this.state = state;
    this.position = pos;
    this.pinned = pinned;
    this.createdAt = createdAt;
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
    if (opts.hydrate === undefined) return RemoteDatabase.openAt(shared, point, create);
    Hydration.claim(opts.hydrate, opts.db);
    let db: RemoteDatabase;
    try {
      db = await RemoteDatabase.openAt(shared, point, create);
    } catch (e) {
      Hydration.release(opts.hydrate);
      throw e;
    }
    db.hydrator = Hydration.start(db.hydrationHost(), opts.hydrate, db.createdAt);
    return db;
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
    const createdAt = (info as { createdAt?: unknown }).createdAt;
    const created = typeof createdAt === 'string' ? createdAt : undefined;
    if (!pinned) {
      const state = { txid: BigInt('0x' + info.pos.txid), pageSize: info.pageSize, commit: info.commit, epoch: store.epoch };
      return new RemoteDatabase(shared, store, state, info.pos, false, created);
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
    return new RemoteDatabase(shared, store, { txid, pageSize: info.pageSize, commit, epoch: store.epoch }, pos, true, created);
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

  /** True while reads come from the hydrated local file (opened with `hydrate`, downloaded, verified and current). */
  get hydrated(): boolean {
    return this.hydrator?.hydrated ?? false;
  }

  /** Where hydration stands: state, pages in place of total, pages fetched… (undefined when opened without `hydrate`). */
  get hydration(): HydrationProgress | undefined {
    return this.hydrator?.progress;
  }

  /**
   * Resolves once reads come from the local file (at once when they already do); rejects with why
   * hydration failed — the server's ApiClientError, a ClientError (CLOSED after close()) or a file
   * error — while the database keeps working remotely. BAD_REQUEST when opened without `hydrate`.
   * After a move the file could not follow (history no longer listed), a new download starts and
   * this waits for it.
   */
  whenHydrated(): Promise<HydrationProgress> {
    if (this.hydrator === undefined)
      return Promise.reject(new ClientError('BAD_REQUEST', `database ${this.name} was opened without hydrate`));
    return this.hydrator.whenHydrated();
  }

  /** True when page `pgno` is local now: in the LRU or the hydrated file (does not touch its recency). */
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
      return this.moveTo(info, changed);
    });
  }

  /**
   * follow()'s step on one commit event of `GET …/watch`: moves to its head with the pages it lists
   * (a superset of what changed since our TXID when it starts before it), without asking the server.
   */
  private applyCommit(event: WatchEventJSON): Promise<RefreshResult | 'gap' | undefined> {
    return this.exclusive(async () => {
      this.checkOpen();
      if (BigInt('0x' + event.pos.txid) <= this.state.txid) return undefined; // our own write, or a repeat
      if (BigInt('0x' + event.since) > this.state.txid) return 'gap';
      const changed = event.all || event.pageSize !== this.state.pageSize ? 'all' : (event.pgnos ?? 'all');
      return this.moveTo(event, changed);
    });
  }

  /** Reads at `head` from now on, dropping `changed` from the cache (and the hydrated file's moves). Inside exclusive(). */
  private async moveTo(head: { pos: PosJSON; commit: number; pageSize: number }, changed: number[] | 'all'): Promise<RefreshResult> {
    const previous = this.state.txid;
    const txid = BigInt('0x' + head.pos.txid);
    const move = await this.hydrator?.prepareMove(head, changed);
    const epoch = this.store.advance(changed, head.commit);
    this.state = { txid, pageSize: head.pageSize, commit: head.commit, epoch };
    this.position = head.pos;
    if (move !== undefined) await this.hydrator!.commitMove(move, epoch);
    return { previous, txid, changed };
  }

  /**
   * Moves with the head until stop() or close(): on each commit the server's stream (`GET …/watch`)
   * announces, or every `intervalMs` with `watch: false` or a server without the stream.
   */
  follow(opts: FollowOptions = {}): Follower {
    this.checkOpen();
    if (this.pinned) throw new ClientError('PINNED', `this view is pinned to TXID ${formatTXID(this.txid)}`);
    const host = {
      name: this.name,
      api: this.shared.api,
      txid: () => this.state.txid,
      refresh: () => this.refresh(),
      applyCommit: (e: WatchEventJSON) => this.applyCommit(e),
    };
    const follower = startFollowing(host, opts, (f) => this.followers.delete(f));
    this.followers.add(follower);
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
      const changed = dirty.pages.map((p) => p.pgno);
      const written = new Map(dirty.pages.map((p) => [p.pgno, p.data]));
      const move = await this.hydrator?.prepareMove({ pos, commit: dirty.commit, pageSize: state.pageSize }, changed, written);
      const epoch = this.store.advance(changed, dirty.commit);
      for (const p of dirty.pages) this.store.put(p.pgno, p.data, epoch);
      const txid = BigInt('0x' + pos.txid);
      this.state = { txid, pageSize: state.pageSize, commit: dirty.commit, epoch };
      this.position = pos;
      if (move !== undefined) await this.hydrator!.commitMove(move, epoch);
      return { value, txid, pos, pages: dirty.pages.length };
    });
  }

  /**
   * Stops follow() loops and refuses further calls; statements already running finish. Resolves once
   * hydration's background work has stopped and its file is closed (await it before opening the same
   * `hydrate.path` again).
   */
  close(): Promise<void> {
    this.closed = true;
    for (const f of [...this.followers]) f.stop();
    this.closing ??= this.hydrator?.close() ?? Promise.resolve();
    return this.closing;
  }

  private hydrationHost(): HydrationHost {
    return {
      api: this.shared.api,
      name: this.name,
      store: this.store,
      current: () => ({ state: this.state, pos: this.position }),
      exclusive: (fn) => this.exclusive(fn),
    };
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
