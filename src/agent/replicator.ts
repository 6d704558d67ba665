// The replication agent: follows a live SQLite database's WAL and pushes every committed transaction to ltx-edge as LTX.
//
// Invariant that makes following the WAL safe: the agent always holds a read transaction, and it only
// starts a new one once it has taken every frame committed before it. SQLite cannot restart a WAL under
// a reader that uses it, and a reader of the main file alone (read mark 0) blocks every backfill, so a
// restart can only happen where the agent's reading stopped: the agent checkpoints under SQLite's write
// lock and then expects the next generation (salt1 + 1) to start exactly there. Anything else — a WAL
// gone, a generation nobody expected, a database replaced — is repaired by a whole-database diff, which
// the server checks against its own page checksums before it accepts it.

import { crcLinear } from '../ltx/crc64.ts';
import { ChecksumUpdate, DatabaseState, EMPTY_DB_CHECKSUM, type Header, lockPgno, makeHeader } from '../ltx/index.ts';
import { type ApiClient, ApiClientError } from '../cli/http-client.ts';
import { batchedByteStream, counted } from '../cli/byte-streams.ts';
import { AgentError, divergence } from './agent-error.ts';
import {
  type Pos,
  type PushedState,
  formatPos,
  parsePos,
  readPushedState,
  readSavedSums,
  samePos,
  writePushedState,
  writeSavedSums,
} from './agent-state.ts';
import { type Batch, type PageRef, encodeBatch } from './batch.ts';
import { type LocalScan, LocalPages, openIfExists, scanDatabase } from './local-pages.ts';
import { type CheckpointResult, SQLiteLocks } from './sqlite-locks.ts';
import { type WALCursor, type WALHeader, WAL_HEADER_SIZE, readWALHeader, readWALTransactions, sameGeneration, startCursor, walFrameSize } from './wal.ts';

/** WAL frames taken into one push at most (bytes); a longer backlog goes in several pushes. */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** WAL size (pages) past which the agent runs a PASSIVE checkpoint after a push (SQLite's own autocheckpoint default). */
export const DEFAULT_CHECKPOINT_PAGES = 1_000;
/** WAL size (pages) past which it runs a TRUNCATE checkpoint, which waits for readers (about 480 MiB of 4 KiB pages). */
export const DEFAULT_TRUNCATE_PAGES = 121_000;
/** How often page checksums are saved beside the database for a cheap restart (ms); also on close. */
export const DEFAULT_SAVE_SUMS_MS = 30_000;

export interface ReplicatorOptions {
  file: string;
  db: string;
  client: ApiClient;
  maxBatchBytes?: number;
  checkpointPages?: number;
  truncatePages?: number;
  saveSumsMs?: number;
  /** On a server that holds another history, replace the local database with the server's state instead of stopping. */
  resetFromServer?: boolean;
  onEvent?: (e: AgentEvent) => void;
  now?: () => number;
}

/** What the agent tells its caller (and `replicate --json` prints, one object per line). */
export type AgentEvent =
  | { event: 'start'; db: string; file: string; pageSize: number; commit: number; pos: Pos; action: 'snapshot' | 'in-sync' | 'diff' | 'empty' | 'reset' }
  | { event: 'push'; reason: Batch['reason']; txid: bigint; commits: number; pages: number; bytes: number; ms: number; status: number }
  | { event: 'checkpoint'; mode: 'PASSIVE' | 'TRUNCATE'; walFrames: number; backfilled: number; busy: boolean }
  | { event: 'rescan'; why: string };

/** What one `sync()` did. */
export interface SyncResult {
  pushes: number;
  commits: number;
  pos: Pos;
}

export class Replicator {
  readonly file: string;
  readonly db: string;
  private readonly client: ApiClient;
  private readonly opts: Required<Pick<ReplicatorOptions, 'maxBatchBytes' | 'checkpointPages' | 'truncatePages' | 'saveSumsMs'>>;
  private readonly onEvent: (e: AgentEvent) => void;
  private readonly now: () => number;
  private readonly resetFromServer: boolean;
  private locks: SQLiteLocks | undefined;
  /** The database as the agent has encoded it (equals the server's `pos` when nothing is pending). */
  private readonly state = new DatabaseState();
  private pos: Pos = { txid: 0n, checksum: EMPTY_DB_CHECKSUM };
  private walHeader: WALHeader | undefined;
  private cursor: WALCursor | undefined;
  /** After a full backfill the next writer restarts the WAL: a new generation with salt1 + 1 then continues from our cursor. */
  private restartExpected = false;
  private pending: Batch | undefined;
  private sumsSavedAt = 0;
  private sumsSavedTXID = -1n;

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
    this.locks = SQLiteLocks.open(this.file);
    this.locks.beginRead();
    let scan = await scanDatabase(this.file);
    const info = await this.client.databaseInfo(this.db);
    const server = info ? parsePos(info.pos) : undefined;
    const saved = await readPushedState(this.file);
    const ours = saved && saved.db === this.db && saved.url === this.client.config.url ? saved : undefined;

    if (!server || server.txid === 0n) {
      this.adopt(scan, { txid: 0n, checksum: EMPTY_DB_CHECKSUM });
      if (scan.commit > 0) this.queue(this.diffBatch(scan, 'snapshot', undefined));
      this.emitStart(scan, scan.commit > 0 ? 'snapshot' : 'empty');
      return;
    }
    if (scan.commit > 0 && info!.pageSize !== scan.pageSize) {
      throw new AgentError('PAGE_SIZE', `${this.db} on the server has ${info!.pageSize}-byte pages, ${this.file} ${scan.pageSize}-byte pages`);
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
      scan = await scanDatabase(this.file);
      action = 'reset';
    }
    // The server holds what this agent pushed: send the pages that differ from it.
    const base = await readSavedSums(this.file);
    const changed = base && base.pos.txid <= server.txid ? changedPages(await this.client.changes(this.db, base.pos.txid)) : undefined;
    this.adopt(scan, server);
    const baseState = base && changed ? { sums: base.sums, commit: base.commit, changed } : undefined;
    this.queue(this.diffBatch(scan, 'diff', baseState));
    this.emitStart(scan, action);
  }

  /**
   * Pushes everything committed since the last call, in as many pushes as the batch size needs, then
   * checkpoints when the WAL has grown past the threshold.
   */
  async sync(): Promise<SyncResult> {
    if (!this.locks) throw new Error('start() first');
    const result: SyncResult = { pushes: 0, commits: 0, pos: this.pos };
    // One push per sync — the interval is what batches commits — unless the WAL holds more than one
    // batch (a backlog), which goes out in back-to-back pushes of at most maxBatchBytes.
    if (this.pending) await this.pushAndCount(result);
    let backlog = true;
    while (backlog) {
      const from = this.cursor?.offset ?? 0;
      if (!(await this.collect())) break;
      backlog = this.pending!.reason === 'wal' && (this.cursor?.offset ?? 0) - from >= this.opts.maxBatchBytes;
      await this.pushAndCount(result);
    }
    await this.maybeCheckpoint(result);
    await this.maybeSaveSums(false);
    result.pos = this.position;
    return result;
  }

  /** Saves the page checksums and closes the connections (the caller flushes with sync() first). */
  async close(): Promise<void> {
    try {
      if (!this.pending) await this.maybeSaveSums(true);
    } finally {
      this.locks?.close();
      this.locks = undefined;
    }
  }

  /** Makes `batch` the next push; the encoded state is then at its TXID. */
  private queue(batch: Batch): void {
    this.pending = batch;
    this.state.txid = batch.header.maxTXID;
  }

  /** Takes the whole-database scan as the encoded state, at server position `pos`. */
  private adopt(scan: LocalScan, pos: Pos): void {
    this.state.pageSize = scan.pageSize;
    this.state.commit = scan.commit;
    this.state.txid = pos.txid;
    this.state.checksum = scan.checksum;
    this.state.sums.clearFrom(1);
    for (const [pgno, sum] of scan.sums.stored(1, scan.commit)) this.state.sums.set(pgno, sum);
    this.pos = pos;
    this.walHeader = scan.walHeader;
    this.cursor = scan.cursor;
    this.restartExpected = false;
  }

  /**
   * Reads the transactions committed after the cursor (bounded by maxBatchBytes) into `pending`.
   * Returns false when there was nothing new.
   */
  private async collect(): Promise<boolean> {
    const wal = await openIfExists(`${this.file}-wal`);
    try {
      const header = wal ? await readWALHeader(wal).catch(() => null) : null;
      if (!header) {
        // No WAL, or one just truncated: fine unless it held frames the agent had not taken.
        if (this.cursor && this.cursor.offset > WAL_HEADER_SIZE && !this.restartExpected) return this.rescan('the WAL was truncated');
        return false;
      }
      if (!this.walHeader || !this.cursor || !sameGeneration(header, this.cursor)) {
        const continues = !this.walHeader || (this.restartExpected && this.cursor !== undefined && header.salt1 === ((this.cursor.salt1 + 1) >>> 0));
        if (!continues) return this.rescan('the WAL was restarted by someone else');
        this.walHeader = header;
        this.cursor = startCursor(header);
        this.restartExpected = false;
      }
      if (this.pos.txid === 0n) return this.rescan('first snapshot');
      if (this.state.pageSize !== 0 && header.pageSize !== this.state.pageSize) return this.rescan('the page size changed');
      const { transactions, cursor } = await readWALTransactions(wal!, header, this.cursor, { maxBytes: this.opts.maxBatchBytes });
      if (transactions.length === 0) return false;
      const offsets = new Map<number, number>();
      for (const tx of transactions) for (const [pgno, off] of tx.pages) offsets.set(pgno, off);
      const commit = transactions[transactions.length - 1].commit;
      const pages: [number, PageRef][] = [];
      const sorted = [...offsets.keys()].filter((p) => p <= commit).sort((a, b) => a - b);
      const reader = new LocalPages(header.pageSize, wal!, wal!, offsets);
      for (const pgno of sorted) pages.push([pgno, await reader.read(pgno)]);
      this.pending = this.walBatch(header.pageSize, commit, pages, transactions.length);
      this.cursor = cursor;
      return true;
    } finally {
      await wal?.close();
    }
  }

  /** A batch of WAL pages on top of the encoded state; advances the state's checksums. */
  private walBatch(pageSize: number, commit: number, pages: [number, PageRef][], commits: number): Batch {
    const header = this.header(pageSize, commit, false);
    const update = new ChecksumUpdate(this.state, header);
    for (const [pgno, data] of pages) update.page(pgno, crcLinear(data!));
    const post = update.finish();
    this.state.commit = commit;
    this.state.txid = header.maxTXID;
    this.state.checksum = post;
    return { header, post, pages, commits, reason: 'wal' };
  }

  /** Reads the database whole and queues the pages that differ from the encoded state. */
  private async rescan(why: string): Promise<boolean> {
    if (why !== 'first snapshot') this.onEvent({ event: 'rescan', why });
    const scan = await scanDatabase(this.file);
    const before = { sums: this.state.sums, commit: this.state.commit, changed: new Set<number>() };
    const batch = this.pos.txid === 0n ? this.diffBatch(scan, 'snapshot', undefined) : this.diffBatch(scan, 'diff', before);
    const pos = this.pos;
    this.adopt(scan, pos);
    if (scan.commit === 0) return false;
    if (batch.reason === 'diff' && batch.pages.length === 0 && batch.header.commit === before.commit) return false;
    this.queue(batch);
    return true;
  }

  /**
   * The pages of `scan` that differ from `base` (every page when there is no base): WAL pages read
   * now (the WAL may restart before the push), main-file pages read when sent.
   */
  private diffBatch(scan: LocalScan, reason: 'snapshot' | 'diff', base: { sums: { get(p: number): bigint | undefined }; commit: number; changed: Set<number> | 'all' } | undefined): Batch {
    const lock = lockPgno(scan.pageSize);
    const snapshot = reason === 'snapshot';
    const pgnos: number[] = [];
    for (let pgno = 1; pgno <= scan.commit; pgno++) {
      if (pgno === lock) continue;
      const same =
        !snapshot && base !== undefined && base.changed !== 'all' && pgno <= base.commit && !base.changed.has(pgno) && base.sums.get(pgno) === scan.sums.get(pgno);
      if (!same) pgnos.push(pgno);
    }
    const header = this.header(scan.pageSize, scan.commit, snapshot);
    return { header, post: scan.checksum, pages: pgnos.map((p) => [p, undefined]), commits: 0, reason, walPages: scan.walPages };
  }

  private header(pageSize: number, commit: number, snapshot: boolean): Header {
    const txid = snapshot ? 1n : this.pos.txid + 1n;
    return makeHeader({ pageSize, commit, minTXID: txid, maxTXID: txid, preApplyChecksum: snapshot ? 0n : this.pos.checksum, timestamp: this.now() });
  }

  /** Sends `pending` (retried by the client on network errors and 5xx); settles the position or stops on a refusal. */
  private async pushPending(): Promise<void> {
    const batch = this.pending!;
    await this.materializeWALPages(batch);
    const target: Pos = { txid: batch.header.maxTXID, checksum: batch.post };
    const started = performance.now();
    await writePushedState(this.file, this.pushedState({ pending: target }));
    let status: number;
    let bytes = 0;
    try {
      const r = await this.client.pushLTX(this.db, () => {
        bytes = 0;
        return batchedByteStream(counted(encodeBatch(this.file, batch), (n) => (bytes += n)));
      });
      status = r.status;
      const pos = parsePos(r.pos);
      if (!pos || pos.txid !== target.txid || (batch.reason !== 'snapshot' && pos.checksum !== target.checksum)) {
        throw new AgentError('REJECTED', `the server answered TXID ${r.pos.txid} to a push of TXID ${formatPos(target).txid}`);
      }
      target.checksum = pos.checksum;
    } catch (e) {
      if (e instanceof ApiClientError && e.status === 409) {
        const pos = parsePos(e.details?.pos);
        if (samePos(pos, target)) status = 200; // it had landed; the answer was lost
        else throw new AgentError('SERVER_AHEAD', `${this.db} moved on the server while this agent pushed (${e.message})`, { pos: e.details?.pos }, { cause: e });
      } else if (e instanceof ApiClientError && e.status >= 400 && e.status < 500 && e.status !== 429) {
        throw new AgentError('REJECTED', `the server refused TXID ${formatPos(target).txid}: ${e.code}: ${e.message}`, e.details, { cause: e });
      } else throw e;
    }
    this.pos = target;
    this.pending = undefined;
    await writePushedState(this.file, this.pushedState({}));
    this.onEvent({ event: 'push', reason: batch.reason, txid: target.txid, commits: batch.commits, pages: batch.pages.length, bytes, ms: performance.now() - started, status });
  }

  /** A diff's WAL pages are read before anything else can restart the WAL. */
  private async materializeWALPages(batch: Batch): Promise<void> {
    const walPages = batch.walPages;
    if (!walPages || walPages.size === 0) return;
    const wal = await openIfExists(`${this.file}-wal`);
    if (!wal) return;
    try {
      const reader = new LocalPages(batch.header.pageSize, wal, wal, walPages);
      for (const entry of batch.pages) if (!entry[1] && walPages.has(entry[0])) entry[1] = await reader.read(entry[0]);
    } finally {
      await wal.close();
      batch.walPages = undefined;
    }
  }

  private pushedState(extra: Partial<PushedState>): PushedState {
    return { url: this.client.config.url, db: this.db, pageSize: this.state.pageSize, pos: this.pos, ...extra };
  }

  /**
   * PASSIVE past checkpointPages, under SQLite's write lock so that nothing commits between the last
   * frame taken and the checkpoint; TRUNCATE past truncatePages (it waits for readers itself), then a
   * rescan catches whatever committed in between.
   */
  private async maybeCheckpoint(result: SyncResult): Promise<void> {
    if (this.pending || !this.walHeader || !this.cursor || !this.locks) return;
    const walPages = (this.cursor.offset - WAL_HEADER_SIZE) / walFrameSize(this.walHeader);
    if (walPages < this.opts.checkpointPages) return;
    const locks = this.locks;
    if (walPages >= this.opts.truncatePages) {
      locks.endRead();
      let r: CheckpointResult;
      try {
        r = locks.checkpoint('TRUNCATE');
      } finally {
        locks.beginRead();
      }
      this.onEvent({ event: 'checkpoint', mode: 'TRUNCATE', ...r });
      this.walHeader = undefined;
      this.cursor = undefined;
      if (await this.rescan('after a TRUNCATE checkpoint')) await this.pushAndCount(result);
      return;
    }
    if (!locks.tryWriteLock()) return;
    let r: CheckpointResult;
    try {
      // Under the write lock nothing new can commit: take what came since the last read first.
      await this.collect();
      locks.endRead();
      try {
        r = locks.checkpoint('PASSIVE');
      } finally {
        locks.beginRead();
      }
      this.restartExpected = r.backfilled === r.walFrames;
    } finally {
      locks.releaseWriteLock();
    }
    this.onEvent({ event: 'checkpoint', mode: 'PASSIVE', ...r });
    if (this.pending) await this.pushAndCount(result);
  }

  private async pushAndCount(result: SyncResult): Promise<void> {
    result.commits += this.pending!.commits;
    await this.pushPending();
    result.pushes++;
  }

  private async maybeSaveSums(force: boolean): Promise<void> {
    if (this.pending || this.state.commit === 0 || this.pos.txid === this.sumsSavedTXID) return;
    if (!force && this.now() - this.sumsSavedAt < this.opts.saveSumsMs) return;
    await writeSavedSums(this.file, { pos: this.pos, pageSize: this.state.pageSize, commit: this.state.commit, sums: this.state.sums as never });
    this.sumsSavedAt = this.now();
    this.sumsSavedTXID = this.pos.txid;
  }

  /** --reset-from-server: the local database becomes the server's head (through SQLite's backup, safe beside live connections). */
  private async takeServerState(server: Pos): Promise<void> {
    const { resetToServer } = await import('./reset-from-server.ts');
    this.locks!.endRead();
    try {
      const sums = await resetToServer(this.client, this.db, this.file, server);
      await writeSavedSums(this.file, sums);
      await writePushedState(this.file, { url: this.client.config.url, db: this.db, pageSize: sums.pageSize, pos: server });
    } finally {
      this.locks!.beginRead();
    }
  }

  private emitStart(scan: LocalScan, action: Extract<AgentEvent, { event: 'start' }>['action']): void {
    this.onEvent({ event: 'start', db: this.db, file: this.file, pageSize: scan.pageSize, commit: scan.commit, pos: this.position, action });
  }
}

/** A `/changes` answer as the pages a restart's diff must send whatever their checksums. */
function changedPages(c: { pgnos: number[]; all: boolean }): Set<number> | 'all' {
  return c.all ? 'all' : new Set(c.pgnos);
}
