// The replication agent: follows a live SQLite database's WAL and pushes every committed transaction to ltx-edge as LTX.
//
// The agent holds the database (database-hold.ts: a read transaction that pins the WAL, and the SHARED
// lock that keeps the application's last close from deleting it) and keeps a view of it (wal-view.ts:
// the WAL generation, the cursor, the files' identities). Each sync pushes what is pending, checks the
// view against the file system, pushes the frames committed since, and checkpoints under SQLite's write
// lock once the WAL is long. Any break in the view — a WAL gone, replaced or restarted without the read
// held, a database replaced or out of WAL mode, a page that changed under a read — is repaired by a
// whole-database diff, which the server checks against its own page checksums before it accepts it.

import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseState, EMPTY_DB_CHECKSUM } from '../ltx/index.ts';
import type { ApiClient } from '../remote/http-client.ts';
import { AgentError, ViewChangedError, divergence } from './agent-error.ts';
import {
  type Pos,
  type PushedState,
  parsePos,
  readPushedState,
  readSavedSums,
  samePos,
  writePushedState,
  writeSavedSums,
} from './agent-state.ts';
import { type Batch, diffBatch, materializeWALPages, walBatch } from './batch.ts';
import { pushBatch } from './push.ts';
import { type CheckpointResult, DatabaseHold } from './database-hold.ts';
import { type LocalScan, scanDatabase } from './local-pages.ts';
import { type ViewBreak, WALView } from './wal-view.ts';
import {
  type AgentEvent,
  DEFAULT_CHECKPOINT_PAGES,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_SAVE_SUMS_MS,
  DEFAULT_TRUNCATE_PAGES,
  type ReplicatorOptions,
  type SyncResult,
} from './replicator-options.ts';

/** How often settleRead looks at the WAL header while it waits for a restart (ms). */
const RESTART_POLL_MS = 2;
/** Scans or pushes in a row that may meet a changing database before a sync gives up until the next one. */
const MAX_VIEW_RETRIES = 5;

export class Replicator {
  readonly file: string;
  readonly db: string;
  private readonly client: ApiClient;
  private readonly opts: Required<Pick<ReplicatorOptions, 'maxBatchBytes' | 'checkpointPages' | 'truncatePages' | 'saveSumsMs'>>;
  private readonly onEvent: (e: AgentEvent) => void;
  private readonly now: () => number;
  private readonly resetFromServer: boolean;
  /** Undefined before start(), after close(), and while a replaced database waits to be reopened. */
  private hold: DatabaseHold | undefined;
  /** Set when the hold must be reopened before anything else is read (see ViewBreak.reopen). */
  private reopenWhy: string | undefined;
  private readonly view: WALView;
  /** The database as the agent has encoded it (equals the server's `pos` when nothing is pending). */
  private state = new DatabaseState();
  private pos: Pos = { txid: 0n, checksum: EMPTY_DB_CHECKSUM };
  private pending: Batch | undefined;
  private sumsSavedAt = 0;
  private sumsSavedTXID = -1n;
  /** The WAL generation (WALView.generation) just before the held read began; undefined: not known. */
  private readGeneration: string | undefined;

  constructor(o: ReplicatorOptions) {
    this.file = o.file;
    this.db = o.db;
    this.client = o.client;
    this.opts = {
      maxBatchBytes: o.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
      checkpointPages: o.checkpointPages ?? DEFAULT_CHECKPOINT_PAGES,
      truncatePages: o.truncatePages ?? DEFAULT_TRUNCATE_PAGES,
      saveSumsMs: o.saveSumsMs ?? DEFAULT_SAVE_SUMS_MS,
    };
    this.onEvent = o.onEvent ?? (() => undefined);
    this.now = o.now ?? Date.now;
    this.resetFromServer = o.resetFromServer === true;
    this.view = new WALView(o.file);
  }

  /** The position the server acknowledged last. */
  get position(): Pos {
    return { ...this.pos };
  }

  /**
   * Opens the database, reads it whole, and settles with the server: a snapshot onto an empty
   * database, nothing when both agree, the pages that differ when the server holds what this agent
   * pushed last; AgentError DIVERGED / SERVER_AHEAD / SERVER_BEHIND otherwise (or a reset, if asked).
   */
  async start(): Promise<void> {
    this.hold = await DatabaseHold.open(this.file);
    let scan = await this.scan();
    const info = await this.client.databaseInfo(this.db);
    const server = info ? parsePos(info.pos) : undefined;
    const saved = await readPushedState(this.file);
    const ours = saved && saved.db === this.db && saved.url === this.client.config.url ? saved : undefined;

    if (!server || server.txid === 0n) {
      const base = this.state;
      this.adopt(scan, { txid: 0n, checksum: EMPTY_DB_CHECKSUM });
      if (scan.commit > 0) this.queue(diffBatch(scan, this.pos, 'snapshot', undefined, base, this.now()));
      this.emitStart(scan, scan.commit > 0 ? 'snapshot' : 'empty');
      return;
    }
    if (scan.commit > 0 && info!.pageSize !== scan.pageSize) {
      throw new AgentError(
        'PAGE_SIZE',
        `${this.db} on the server has ${info!.pageSize}-byte pages, ${this.file} ${scan.pageSize}-byte pages`,
      );
    }
    if (scan.checksum === server.checksum && scan.commit > 0) {
      // The same bytes: from now on the server's history is this agent's.
      this.adopt(scan, server);
      await writePushedState(this.file, this.pushedState({}));
      await this.maybeSaveSums(true);
      this.emitStart(scan, 'in-sync');
      return;
    }
    let action: 'diff' | 'reset' = 'diff';
    if (!ours || !(samePos(ours.pos, server) || samePos(ours.pending, server))) {
      if (!this.resetFromServer) throw divergence(this.db, this.file, server, ours);
      await this.takeServerState(server);
      scan = await this.scan();
      action = 'reset';
    }
    // The server holds what this agent pushed: send the pages that differ from it.
    const base = await readSavedSums(this.file);
    const changed = base && base.pos.txid <= server.txid ? changedPages(await this.client.changes(this.db, base.pos.txid)) : undefined;
    const before = this.state;
    this.adopt(scan, server);
    const baseState = base && changed ? { sums: base.sums, commit: base.commit, changed } : undefined;
    this.queue(diffBatch(scan, this.pos, 'diff', baseState, before, this.now()));
    this.emitStart(scan, action);
  }

  /**
   * Pushes everything committed since the last call — in as many pushes as the batch size needs, after
   * repairing the view if the files parted from it — then checkpoints when the WAL has grown past the
   * threshold. What is committed when it is called is on the server when it returns.
   */
  async sync(): Promise<SyncResult> {
    if (!this.hold && !this.reopenWhy) throw new Error('start() first');
    const result: SyncResult = { pushes: 0, commits: 0, pos: this.pos };
    if (this.pending) await this.pushAndCount(result);
    await this.checkView(result);
    await this.retakeRead(result);
    // One push per sync — the interval is what batches commits — unless the WAL holds more than one
    // batch (a backlog), which goes out in back-to-back pushes of at most maxBatchBytes.
    for (let more = true; more; ) {
      const frames = await this.collect();
      if (!frames) break;
      more = frames.limited;
      await this.pushAndCount(result);
    }
    if (this.reopenWhy) await this.checkView(result);
    await this.maybeCheckpoint(result);
    await this.maybeSaveSums(false);
    result.pos = this.position;
    return result;
  }

  /** Saves the page checksums and closes the hold (the caller flushes with sync() first). */
  async close(): Promise<void> {
    try {
      if (!this.pending) await this.maybeSaveSums(true);
    } finally {
      const hold = this.hold;
      this.hold = undefined;
      await hold?.close();
    }
  }

  /** The hold; only ever absent between a failed reopen and the next sync's. */
  private held(): DatabaseHold {
    if (!this.hold) throw new Error(`${this.file} is not open`);
    return this.hold;
  }

  /** Repairs a broken view (reopen when asked, then rescan and push) until the files agree with it. */
  private async checkView(result: SyncResult): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const why = this.reopenWhy;
      const broken: ViewBreak | undefined = why !== undefined ? { why, reopen: true } : await this.view.check(this.held());
      if (!broken) return;
      if (attempt >= MAX_VIEW_RETRIES) throw new ViewChangedError(`${this.file} keeps changing under the agent: ${broken.why}`);
      await this.repair(broken, result);
    }
  }

  /** Reopens the hold if the break asks for it, reads the database whole and pushes what differs. */
  private async repair(broken: ViewBreak, result: SyncResult): Promise<void> {
    if (broken.reopen) await this.reopen(broken.why);
    if (await this.rescan(broken.why)) await this.pushAndCount(result);
  }

  /**
   * Closes the hold and opens a new one on what the path names now. A database renamed over while its
   * old WAL (non-empty, still the generation the agent followed) lies beside it is not opened: SQLite
   * would read that WAL as the new database's. The agent waits (an ordinary error, retried) until the
   * WAL is removed or restarted.
   */
  private async reopen(why: string): Promise<void> {
    this.reopenWhy = why;
    this.view.reset();
    const old = this.hold;
    this.hold = undefined;
    await old?.close();
    if (why === 'the database file was replaced' && (await this.view.oldWALBeside())) {
      throw new Error(
        `${this.file} was replaced but ${this.file}-wal still holds the old database's frames; waiting for it to be removed (remove the -wal and -shm files with the database)`,
      );
    }
    this.hold = await DatabaseHold.open(this.file);
    this.reopenWhy = undefined;
  }

  /** Makes `batch` the next push; the encoded state is then at its TXID. */
  private queue(batch: Batch): void {
    this.pending = batch;
    this.state.txid = batch.header.maxTXID;
  }

  /** Reads the database whole under a held read transaction, again while a WAL frame is overwritten under the read. */
  private async scan(): Promise<LocalScan> {
    for (let attempt = 0; ; attempt++) {
      await this.beginRead();
      try {
        return await scanDatabase(this.held());
      } catch (e) {
        if (!(e instanceof ViewChangedError) || attempt >= MAX_VIEW_RETRIES) throw e;
      }
    }
  }

  /** Takes a whole-database scan as the encoded state, at server position `pos`; the view becomes the scan's. */
  private adopt(scan: LocalScan, pos: Pos): void {
    const state = new DatabaseState(scan.sums);
    state.pageSize = scan.pageSize;
    state.commit = scan.commit;
    state.txid = pos.txid;
    state.checksum = scan.checksum;
    this.state = state;
    this.pos = pos;
    this.view.adopt(scan);
  }

  /**
   * Reads the transactions committed after the cursor (bounded by maxBatchBytes) into `pending`; a
   * break in the WAL is repaired by a rescan. Undefined when there was nothing new.
   */
  private async collect(): Promise<{ limited: boolean } | undefined> {
    if (this.pos.txid === 0n) return (await this.rescan('first snapshot')) ? { limited: false } : undefined;
    const got = await this.view.read(this.held(), this.state.pageSize, this.opts.maxBatchBytes);
    if (!got) return undefined;
    if ('why' in got) {
      if (got.reopen) {
        this.reopenWhy = got.why; // repaired by checkView, which needs no write lock held
        return undefined;
      }
      return (await this.rescan(got.why)) ? { limited: false } : undefined;
    }
    this.pending = walBatch(this.state, this.pos, got, this.now());
    return { limited: got.limited };
  }

  /** Reads the database whole and queues the pages that differ from the encoded state; false when none do. */
  private async rescan(why: string): Promise<boolean> {
    if (why !== 'first snapshot') this.onEvent({ event: 'rescan', why });
    const scan = await this.scan();
    const before = this.state;
    const snapshot = this.pos.txid === 0n;
    const base = snapshot ? undefined : { sums: before.sums, commit: before.commit, changed: new Set<number>() };
    const batch = diffBatch(scan, this.pos, snapshot ? 'snapshot' : 'diff', base, before, this.now());
    this.adopt(scan, this.pos);
    if (scan.commit === 0) return false;
    if (!snapshot && batch.pages.length === 0 && batch.header.commit === before.commit) return false;
    this.queue(batch);
    return true;
  }

  /**
   * Pushes `pending`. A diff whose pages changed under it (ViewChangedError, aborted before its
   * trailer so the server commits nothing) is dropped and the database read again.
   */
  private async pushAndCount(result: SyncResult): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const batch = this.pending!;
      try {
        await this.pushPending();
        result.commits += batch.commits;
        result.pushes++;
        return;
      } catch (e) {
        if (!(e instanceof ViewChangedError) || attempt >= MAX_VIEW_RETRIES) throw e;
        this.pending = undefined;
        if (batch.base) this.state = batch.base;
        this.state.txid = this.pos.txid;
        if (!(await this.rescan(e.message))) return;
      }
    }
  }

  /** Sends `pending` (retried by the client on network errors and 5xx); settles the position or stops on a refusal. */
  private async pushPending(): Promise<void> {
    const batch = this.pending!;
    const hold = this.held();
    await materializeWALPages(hold, batch);
    const target: Pos = { txid: batch.header.maxTXID, checksum: batch.post };
    const started = performance.now();
    await writePushedState(this.file, this.pushedState({ pending: target }));
    const { status, bytes } = await pushBatch(this.client, this.db, hold, batch, target);
    this.pos = target;
    this.pending = undefined;
    await writePushedState(this.file, this.pushedState({}));
    this.onEvent({
      event: 'push',
      reason: batch.reason,
      txid: target.txid,
      commits: batch.commits,
      pages: batch.pages.length,
      bytes,
      ms: performance.now() - started,
      status,
    });
  }

  private pushedState(extra: Partial<PushedState>): PushedState {
    return { url: this.client.config.url, db: this.db, pageSize: this.state.pageSize, pos: this.pos, ...extra };
  }

  /**
   * PASSIVE past checkpointPages, under SQLite's write lock so that nothing commits between the last
   * frame taken and the read transaction taken again (the view stays continuous); TRUNCATE past
   * truncatePages (it waits for readers itself, so the read is let go and a rescan follows).
   */
  private async maybeCheckpoint(result: SyncResult): Promise<void> {
    const hold = this.hold;
    if (this.pending || !hold || this.reopenWhy || this.view.backfilled) return;
    const walPages = this.view.frames;
    if (walPages < this.opts.checkpointPages) return;
    if (walPages >= this.opts.truncatePages) {
      hold.endRead();
      this.view.continuous = false;
      let r: CheckpointResult;
      try {
        r = hold.checkpoint('TRUNCATE');
      } finally {
        await this.beginRead();
      }
      this.onEvent({ event: 'checkpoint', mode: 'TRUNCATE', ...r });
      if (await this.rescan('after a TRUNCATE checkpoint')) await this.pushAndCount(result);
      return;
    }
    if (!hold.tryWriteLock()) return;
    let r: CheckpointResult | undefined;
    try {
      // Under the write lock nothing new can commit: take what came since the last read first, and
      // checkpoint only when that reached the end of the WAL and is plain WAL frames.
      const frames = await this.collect();
      const pending = this.pending as Batch | undefined;
      if (!frames?.limited && !this.reopenWhy && (!pending || pending.reason === 'wal')) {
        hold.endRead();
        try {
          r = hold.checkpoint('PASSIVE');
        } finally {
          await this.beginRead();
        }
        if (!r.busy && r.walFrames >= 0 && r.backfilled === r.walFrames) this.view.backfilledAt = this.view.cursor;
      }
    } finally {
      hold.releaseWriteLock();
    }
    if (r) this.onEvent({ event: 'checkpoint', mode: 'PASSIVE', ...r });
    if (this.pending) await this.pushAndCount(result);
  }

  /** Begins the held read, noting the WAL generation just before (retakeRead compares it). */
  private async beginRead(): Promise<void> {
    const hold = this.held();
    if (hold.reading) return;
    this.readGeneration = await this.view.generation();
    hold.beginRead();
  }

  /**
   * Re-takes the read transaction when the WAL restarted under it. SQLite restarts a WAL only while no
   * reader holds a read mark above 0, so the agent's read sat at mark 0 (it began on a wholly copied
   * WAL), and a mark-0 reader blocks every copy of the new WAL into the database: each application
   * COMMIT's autocheckpoint would walk the whole WAL and give up (BENCHMARKS.md, "What holds the agent
   * back"). Under SQLite's write lock, after taking everything committed (the view stays continuous), a
   * new read gets a mark > 0, which lets the application's checkpoints copy up to it. False when it
   * could not (the application held the write lock, or a backlog or a rescan is still to be pushed).
   */
  private async retakeRead(result: SyncResult): Promise<boolean> {
    const hold = this.hold;
    if (!hold?.reading || this.reopenWhy) return true;
    if ((await this.view.generation()) === this.readGeneration) return true;
    if (this.pending || !hold.tryWriteLock()) return false;
    let retaken = false;
    try {
      const frames = await this.collect();
      const pending = this.pending as Batch | undefined;
      if (!frames?.limited && !this.reopenWhy && (!pending || pending.reason === 'wal')) {
        hold.endRead();
        await this.beginRead();
        retaken = true;
      }
    } finally {
      hold.releaseWriteLock();
    }
    if (this.pending) await this.pushAndCount(result);
    return retaken;
  }

  /**
   * After a sync whose checkpoint copied the whole WAL (the read now sits at mark 0): waits up to
   * `maxMs` for the application's next commit to restart the WAL and re-takes the read then, before
   * the new WAL grows under a mark-0 read; what it takes is pushed. Does nothing otherwise. The follow
   * loop calls it first thing in its wait between syncs, so sync() itself never waits.
   */
  async settleRead(maxMs: number, signal?: AbortSignal): Promise<SyncResult> {
    const result: SyncResult = { pushes: 0, commits: 0, pos: this.pos };
    const deadline = performance.now() + maxMs;
    while (this.view.backfilled && !this.pending && this.hold?.reading && !signal?.aborted && performance.now() < deadline) {
      if ((await this.view.generation()) !== this.readGeneration && (await this.retakeRead(result))) break;
      await sleep(RESTART_POLL_MS);
    }
    result.pos = this.position;
    return result;
  }

  private async maybeSaveSums(force: boolean): Promise<void> {
    if (this.pending || this.state.commit === 0 || this.pos.txid === this.sumsSavedTXID) return;
    if (!force && this.now() - this.sumsSavedAt < this.opts.saveSumsMs) return;
    await writeSavedSums(this.file, {
      pos: this.pos,
      pageSize: this.state.pageSize,
      commit: this.state.commit,
      sums: this.state.sums as never,
    });
    this.sumsSavedAt = this.now();
    this.sumsSavedTXID = this.pos.txid;
  }

  /** --reset-from-server: the local database becomes the server's head (through SQLite's backup, safe beside live connections). */
  private async takeServerState(server: Pos): Promise<void> {
    const { resetToServer } = await import('./reset-from-server.ts');
    const hold = this.held();
    hold.endRead();
    try {
      const sums = await resetToServer(this.client, this.db, this.file, server);
      await writeSavedSums(this.file, sums);
      await writePushedState(this.file, { url: this.client.config.url, db: this.db, pageSize: sums.pageSize, pos: server });
    } finally {
      await this.beginRead();
    }
  }

  private emitStart(scan: LocalScan, action: Extract<AgentEvent, { event: 'start' }>['action']): void {
    this.onEvent({
      event: 'start',
      db: this.db,
      file: this.file,
      pageSize: scan.pageSize,
      commit: scan.commit,
      pos: this.position,
      action,
    });
  }
}

/** A `/changes` answer as the pages a restart's diff must send whatever their checksums. */
function changedPages(c: { pgnos: number[]; all: boolean }): Set<number> | 'all' {
  return c.all ? 'all' : new Set(c.pgnos);
}
