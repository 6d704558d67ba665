// DatabaseDO: one SQLite-backed Durable Object per database, the authority for its position and catalog.
import { DurableObject } from 'cloudflare:workers';
import { type Config, resolveConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { Catalog } from './catalog.ts';
import { type Committed, type IngestContext, headJSON, ingestLTX } from './ingest.ts';
import { applyMigrations } from './migrate.ts';
import { DATABASE_MIGRATIONS } from './migrations.ts';
import { MutationQueue } from './mutation-queue.ts';
import { type RestoreResult, restoreAsNewTransaction } from './restore.ts';
import { type StatKey, Stats, type StatsJSON } from './stats.ts';
import { type ChangesAnswer, type PlanAnswer, type PlanRequest, ReadPlanner } from './read-plan.ts';
import { reconcile } from './reconcile.ts';
import { type DatabaseInfo, type FileJSON, databaseInfo, fileJSON } from './info.ts';
import { type PosJSON, type RpcResult, err, ok } from './rpc-result.ts';
import { deleteDatabase } from './delete.ts';
import { type CompactRequest, compactFiles } from './compact.ts';
import { type MaintenanceResult, runMaintenance } from './maintain.ts';
import { MaintenanceState } from './maintenance-state.ts';
import type { MaintenanceAction, MaintenanceConfig } from '../replication/maintenance.ts';

import { DEFAULT_MAX_TX_BYTES, writePages, type WritePagesOptions } from './write-pages.ts';
import { type UploadDeadlines, readBoundedBody } from './body-reader.ts';
import { WatchHub } from './watch-hub.ts';
import { RegistryLink } from './registry-link.ts';
import { HeadWaiters } from './head-waiters.ts';
import { StoredName } from './stored-name.ts';
import { type StepLimits, abortSnapshotJob, snapshotJob } from './snapshot-job.ts';
import { continueSnapshot } from './snapshot-chunked.ts';
import { parseTXID } from '../ltx/index.ts';

/** Bounds on what one client can make a database's DO do (Config, DESIGN §4; issue 14). */
export interface WriteLimits {
  maxDatabaseBytes: number;
  /** Deadlines of push and /tx bodies. */
  upload: UploadDeadlines;
  /** Largest /tx batch body. */
  maxTxBytes: number;
  /** Wall time of one maintenance pass. */
  maintenanceBudgetMs: number;
}

/**
 * Thin shell (DESIGN §1): owns concurrency (one MutationQueue for every write), the storage handles
 * and the RPC surface; the decisions live in ingest.ts, reconcile.ts and the pure modules they call.
 * Every RPC takes the database name, checked by the Worker and remembered here for recovery.
 */
export class DatabaseDO extends DurableObject<Env> {
  /** Swappable so tests can inject faults (FaultyObjectStore). */
  store: ObjectStore;
  readonly catalog: Catalog;
  /** The database's name, stored at its first write. */
  private readonly storedName: StoredName;
  private readonly planner: ReadPlanner;
  private readonly stats: Stats;
  private readonly maintenanceState: MaintenanceState;
  private readonly queue = new MutationQueue();
  private readonly config: Config;
  /** Backoff base for storage retries; tests set 0. */
  retryDelayMs = 50;
  /** Multipart part size of uploads (default DEFAULT_PART_SIZE); tests make it small. */
  partSize: number | undefined;
  /** Chunked snapshots: the size from which a database gets one, the bounds of a step, the pause between steps (tests change them). */
  chunkedSnapshotBytes: number | undefined;
  snapshotLimits: StepLimits = {};
  snapshotPauseMs = 100;
  /** What one client may make this DO do (from Config; tests shrink them). */
  readonly limits: WriteLimits;
  /** GET …/watch: the watcher sockets, told of every commit. */
  readonly watchers: WatchHub;
  private readonly registry: RegistryLink;
  private readonly headWaiters = new HeadWaiters(() => this.catalog.position()?.txid ?? 0n);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = resolveConfig(env);
    this.limits = {
      maxDatabaseBytes: this.config.maxDatabaseBytes,
      upload: { idleMs: this.config.uploadIdleMs, totalMs: this.config.uploadTotalMs },
      maxTxBytes: DEFAULT_MAX_TX_BYTES,
      maintenanceBudgetMs: this.config.maintenanceBudgetMs,
    };
    this.store = new R2ObjectStore(env.LTX_BUCKET);
    this.catalog = new Catalog(ctx.storage.sql);
    this.storedName = new StoredName(ctx.storage.sql);
    this.planner = new ReadPlanner(this.catalog);
    this.stats = new Stats(ctx.storage.sql);
    this.maintenanceState = new MaintenanceState(ctx.storage.sql);
    this.watchers = new WatchHub(ctx, this.catalog, this.planner, this.config.watchersPerDatabase);
    const step = this.config.levelIntervalsMs[0] ?? this.config.snapshotIntervalMs;
    this.registry = new RegistryLink(env, this.catalog, this.maintenanceState, step, this.config.registryShards);
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage.sql, DATABASE_MIGRATIONS, (fn) => ctx.storage.transactionSync(fn));
      ctx.storage.sql.exec('DELETE FROM pages_staging');
      const name = this.storedName.get();
      // A crash between an R2 put and its catalog commit leaves the next file one step ahead: adopt it.
      if (name) await reconcile(this.ingestContext(name)).catch((e) => console.error(`reconcile ${name}: ${String(e)}`));
    });
  }

  /** Liveness check over RPC. */
  async ping(): Promise<'pong'> {
    return 'pong';
  }

  /** The Worker's watcher socket (GET …/watch → `GET /watch?name=&since=`, Upgrade: websocket): 101, or the JSON error to answer. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get('name') ?? '';
    if (url.pathname !== '/watch' || request.headers.get('Upgrade') !== 'websocket' || name === '') {
      return Response.json({ error: { code: 'BAD_REQUEST', message: 'expected a watcher upgrade' } }, { status: 400 });
    }
    const since = url.searchParams.has('since') ? parseTXID(url.searchParams.get('since')!) : undefined;
    const accepted = this.watchers.accept(name, since);
    if (accepted instanceof Response) return accepted;
    return Response.json({ error: accepted }, { status: accepted.code === 'NOT_FOUND' ? 404 : 429 });
  }

  /** The next step of a chunked snapshot (snapshot-job.ts), queued like every write; a step that throws leaves the alarm set, so it is retried. */
  override async alarm(): Promise<void> {
    const name = this.storedName.get();
    if (!name) return;
    await this.queue.run(async () => {
      const ctx = this.ingestContext(name);
      if (!snapshotJob(ctx)) return;
      // Set before the step: a step that throws (a crash) leaves the alarm, and the runtime retries it.
      await this.ctx.storage.setAlarm(Date.now() + this.snapshotPauseMs);
      const report = await continueSnapshot(ctx, this.snapshotLimits);
      if (report.progress === undefined) this.planner.invalidate();
      if (!report.ok) this.stats.recordError('MAINTENANCE', `snapshot: ${report.error ?? ''}`, Date.now());
      if (!snapshotJob(ctx)) await this.ctx.storage.deleteAlarm();
    });
  }

  /** Watchers only listen. */
  override webSocketMessage(): void {}

  override webSocketClose(ws: WebSocket, code: number): void {
    this.watchers.closed(ws, code);
  }

  override webSocketError(ws: WebSocket): void {
    this.watchers.closed(ws, 1011);
  }

  /** Pushes one LTX file (DESIGN §4 POST /v1/databases/:db/ltx): streamed, or small and read whole by the Worker. */
  ingest(name: string, body: ReadableStream<Uint8Array> | Uint8Array): Promise<RpcResult<PosJSON>> {
    return this.queue.run(async () => {
      this.storedName.remember(name);
      let bytes = 0;
      const ctx = this.ingestContext(name, (committed) => (bytes = committed.size));
      const result = await ingestLTX(ctx, body, { deadlines: this.limits.upload });
      this.count(result, result.ok && result.status === 200 ? 'repushes' : 'pushes', bytes);
      return this.announce(name, result);
    });
  }

  /**
   * Page-set write with a server-assigned TXID (DESIGN §4 POST .../tx). The body is read whole, under
   * the upload deadlines, before the write queue: a slow or stalled client never holds other writers.
   */
  async writePages(name: string, body: ReadableStream<Uint8Array>, opts: WritePagesOptions): Promise<RpcResult<PosJSON>> {
    const batch = await readBoundedBody(body, this.limits.maxTxBytes, this.limits.upload);
    if (!batch.ok) {
      const refused = err<PosJSON>(batch.code, batch.message);
      if (this.catalog.position()) this.count(refused, 'txWrites');
      return refused;
    }
    return this.queue.run(async () => {
      this.storedName.remember(name);
      const result = await writePages(this.ingestContext(name), batch.bytes, opts);
      this.count(result, 'txWrites');
      return this.announce(name, result);
    });
  }

  /**
   * A read plan (DESIGN §1): the files that rebuild the database at the head, a TXID or a time, with
   * page hints at the head. With `minTXID` (read-your-writes) waits up to `waitMs` for the head to
   * reach it, then answers 409 NOT_YET_AVAILABLE.
   */
  async plan(name: string, req: PlanRequest & { minTXID?: string; waitMs?: number }): Promise<RpcResult<PlanAnswer>> {
    this.planner.setName(name);
    if (req.minTXID !== undefined) {
      const min = BigInt('0x' + req.minTXID);
      if (!(await this.headWaiters.wait(min, Math.min(req.waitMs ?? 2000, 10_000)))) {
        return err('NOT_YET_AVAILABLE', `the head has not reached TXID ${req.minTXID} yet`, { pos: headJSON(this.catalog.position()) });
      }
    }
    return this.planner.plan(req);
  }

  /** Pages changed after `since` (DESIGN §4 GET …/changes); honours `minTXID` like `plan`. */
  async changes(name: string, since: string, req: PlanRequest & { minTXID?: string; waitMs?: number }): Promise<RpcResult<ChangesAnswer>> {
    this.planner.setName(name);
    if (req.minTXID !== undefined && !(await this.headWaiters.wait(BigInt('0x' + req.minTXID), Math.min(req.waitMs ?? 2000, 10_000)))) {
      return err('NOT_YET_AVAILABLE', `the head has not reached TXID ${req.minTXID} yet`, { pos: headJSON(this.catalog.position()) });
    }
    return this.planner.changes(BigInt('0x' + since), req);
  }

  /** Counters and the last error (DESIGN §4 GET …/stats). */
  readStats(name: string): RpcResult<StatsJSON & { watchers: number }> {
    if (!this.catalog.position()) return err('NOT_FOUND', `database ${name} does not exist`);
    return ok({ ...this.stats.read(this.maintenanceState.toJSON()), watchers: this.watchers.count });
  }

  /** Counts a write's outcome (a new push also its bytes). */
  private count(result: RpcResult<unknown>, success: StatKey, bytes = 0): void {
    if (result.ok) {
      this.stats.bumpAll(
        success === 'pushes'
          ? [
              ['pushes', 1],
              ['pushBytes', bytes],
            ]
          : [[success, 1]],
      );
      return;
    }
    this.stats.bump(result.error.code === 'STORAGE_UNAVAILABLE' ? 'storageErrors' : 'rejected');
    this.stats.recordError(result.error.code, result.error.message, Date.now());
  }

  /** Position, page size, files per level; NOT_FOUND for a database never written. */
  info(name: string): RpcResult<DatabaseInfo> {
    const pos = this.catalog.position();
    if (!pos) return err('NOT_FOUND', `database ${name} does not exist`);
    return ok(
      databaseInfo(name, pos, this.catalog.levels(), this.catalog.oldestRestorable(), this.queue.depth, this.maintenanceState.toJSON()),
    );
  }

  /** The head position (zero position when empty). */
  position(): PosJSON {
    return headJSON(this.catalog.position());
  }

  /**
   * The database's incarnation (migrations/0005) and retention generation (catalog.ts), or undefined
   * when it does not exist: the Workers' cheap check that what they cached for it still holds.
   */
  readIdentity(): { incarnation: string; generation: number } | undefined {
    const pos = this.catalog.position();
    return pos ? { incarnation: pos.incarnation, generation: this.catalog.generation() } : undefined;
  }

  /** Catalog listing (DESIGN §4 GET .../ltx?level=&after=). */
  files(level: number | undefined, after: bigint, limit: number): FileJSON[] {
    return this.catalog.files(level, after, limit).map(fileJSON);
  }

  /** Deletes the database's files and catalog (DESIGN §4 DELETE). */
  destroy(name: string): Promise<RpcResult<{ deleted: number }>> {
    return this.queue.run(async () => {
      if (!this.catalog.position() && !this.storedName.get()) return err('NOT_FOUND', `database ${name} does not exist`);
      // A snapshot in progress: its upload's parts go first (nothing else would ever abort them).
      await abortSnapshotJob(this.ingestContext(name));
      const deleted = await deleteDatabase(this.ingestContext(name));
      this.ctx.storage.transactionSync(() => {
        this.catalog.clear();
        this.stats.clear();
        this.ctx.storage.sql.exec('DELETE FROM meta');
      });
      this.maintenanceState.forget();
      this.storedName.forget();
      this.planner.invalidate();
      this.watchers.deleted();
      await this.registry.remove(name);
      return ok({ deleted });
    });
  }

  /** Merges a contiguous run of files into one at `level` and swaps them in the catalog (admin, cron). */
  compact(name: string, req: CompactRequest): Promise<RpcResult<{ file: FileJSON; inputs: number }>> {
    return this.queue.run(async () => {
      this.storedName.remember(name);
      const result = await compactFiles(this.ingestContext(name), req);
      if (result.ok) this.planner.invalidate();
      return result;
    });
  }

  /**
   * Runs the maintenance due at `now` (cron, DESIGN §2 levels): compactions aligned to each level's
   * interval, a snapshot every snapshot interval, retention. `only` limits it to compactions (of one
   * level) or to retention, for the admin routes. Tells the registry when to come back.
   */
  maintain(name: string, now: number, only?: { kind: 'compact'; level?: number } | { kind: 'retention' } | { kind: 'snapshot' }) {
    // The budget counts from the call, so time spent queued behind a long write is part of it.
    const deadline = Date.now() + this.limits.maintenanceBudgetMs;
    return this.queue.run(async (): Promise<RpcResult<MaintenanceResult>> => {
      if (!this.catalog.position()) return err('NOT_FOUND', `database ${name} does not exist`);
      this.storedName.remember(name);
      const filter = (a: MaintenanceAction): boolean => {
        if (!only) return true;
        if (only.kind === 'retention') return a.kind === 'delete';
        if (only.kind === 'snapshot') return a.kind === 'snapshot';
        return a.kind === 'compact' && (only.level === undefined || a.level === only.level);
      };
      const ctx = { ...this.ingestContext(name), deadline };
      const result = await runMaintenance(ctx, this.maintenanceConfig(), now, () => this.planner.invalidate(), filter, this.snapshotLimits);
      if (result.snapshotRunning) await this.ctx.storage.setAlarm(Date.now() + this.snapshotPauseMs);
      for (const a of result.actions) {
        if (!a.ok) this.stats.recordError('MAINTENANCE', `${a.kind}: ${a.error ?? ''}`, Date.now());
        else if (a.kind === 'compact') this.stats.bump('compactions');
        else if (a.kind === 'snapshot') this.stats.bump('snapshots');
        else this.stats.bump('filesDeleted', a.files ?? 0);
      }
      this.stats.bump('consistencyErrors', result.inconsistencies);
      if (result.budgetExhausted) this.stats.bump('maintenanceBudgetExhausted');
      const failed = result.actions.find((a) => !a.ok);
      if (failed) this.stats.bump('maintenanceFailures');
      // A failed pass backs off (1 min, doubling, at most 1 h) instead of being first in line every tick.
      const retryAt = this.maintenanceState.recordPass(Date.now(), {
        failure: failed && {
          action: failed.level === undefined ? failed.kind : `${failed.kind} level ${failed.level}`,
          error: failed.error ?? '',
        },
        budgetExhausted: result.budgetExhausted,
      });
      const nextDue = retryAt === undefined ? result.nextDue : Math.max(result.nextDue ?? retryAt, retryAt);
      await this.registry.setDue(name, nextDue);
      return ok({ ...result, nextDue });
    });
  }

  private maintenanceConfig(): MaintenanceConfig {
    const c = this.config;
    return {
      levelIntervalsMs: c.levelIntervalsMs,
      snapshotIntervalMs: c.snapshotIntervalMs,
      snapshotRetentionMs: c.snapshotRetentionMs,
      l0RetentionMs: c.l0RetentionMs,
      readGraceMs: c.readGraceMs,
    };
  }

  /**
   * Non-destructive restore (DESIGN §4 POST …/restore): the state at `req`'s point becomes the next
   * transaction (only the pages that differ), so it can be undone by restoring to the TXID before it.
   */
  restore(name: string, req: PlanRequest): Promise<RpcResult<RestoreResult>> {
    return this.queue.run(async () => {
      this.storedName.remember(name);
      this.planner.setName(name);
      const planned = this.planner.plan(req);
      if (!planned.ok) return planned;
      const result = await restoreAsNewTransaction(this.ingestContext(name), planned.value.plan);
      this.count(result, 'txWrites');
      return this.announce(name, result);
    });
  }

  /** Builds or extends the catalog from files already in R2 (DESIGN §4 POST .../adopt). */
  adopt(name: string): Promise<RpcResult<{ adopted: number; pos: PosJSON }>> {
    return this.queue.run(async () => {
      this.storedName.remember(name);
      const adopted = await reconcile(this.ingestContext(name), { fullReplica: true });
      return this.announce(name, ok({ adopted, pos: headJSON(this.catalog.position()) }));
    });
  }

  /** After a successful write: plans are stale, head waiters may go, the registry hears the new head. */
  private announce<T>(name: string, result: RpcResult<T>): RpcResult<T> {
    if (result.ok) {
      this.planner.invalidate();
      this.headWaiters.moved();
      this.registry.announce(name);
    }
    return result;
  }

  /** What the write paths need; `onCommit` also hears each file committed (the watchers always do). */
  private ingestContext(name: string, onCommit?: (committed: Committed) => void): IngestContext {
    return {
      store: this.store,
      catalog: this.catalog,
      sql: this.ctx.storage.sql,
      transaction: (fn) => this.ctx.storage.transactionSync(fn),
      prefix: this.config.prefix,
      name,
      now: () => Date.now(),
      retryDelayMs: this.retryDelayMs,
      partSize: this.partSize,
      maxDatabaseBytes: this.limits.maxDatabaseBytes,
      chunkedSnapshotBytes: this.chunkedSnapshotBytes,
      onCommit: (committed) => {
        this.watchers.publish(committed);
        onCommit?.(committed);
      },
    };
  }
}
