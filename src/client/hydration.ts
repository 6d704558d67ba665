// Hydration (issue 17): a RemoteDatabase's local file — downloaded in the background at the view's TXID (resumable, checked against the position's checksum), read locally once complete, kept current page by page, reused after a restart.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PosJSON } from '../api/wire.ts';
import { EMPTY_DB_CHECKSUM, formatHex64, formatTXID, lockPgno } from '../ltx/index.ts';
import { ApiClientError } from '../remote/http-client.ts';
import type { PinnedState } from './client-pages.ts';
import { ClientError } from './errors.ts';
import { batchPagesFor, changedRounds, downloadPages } from './hydration-download.ts';
import { type FileState, type HydrationPaths, hydrationPaths, txidOf } from './hydration-record.ts';
import type { HydrateOptions, HydrationHost, HydrationProgress } from './hydration-options.ts';
import { LocalCopy, type PreparedMove, StartOver, claimPath, releasePath } from './local-copy.ts';
import { chunkPgnos, fetchPagesAt } from './page-store.ts';

/**
 * The background work of one hydrated view and the file it keeps. One cycle makes the file (reuse,
 * resume or download; verify; catch up with the view) and attaches it to the view's PageStore; the
 * view's own moves (refresh, transaction) then go through prepareMove/commitMove, which write only the
 * changed pages. A move the file cannot follow (history gone, page size changed) starts a new cycle.
 */
export class Hydration {
  /** Times one hydration starts again from nothing (a file that no longer fits, a TXID retention removed) before it gives up. */
  static readonly MAX_RESTARTS = 3;

  private readonly host: HydrationHost;
  private readonly paths: HydrationPaths;
  private readonly opts: HydrateOptions;
  private readonly createdAt: string | undefined;
  private readonly abort = new AbortController();
  private readonly status: HydrationProgress = {
    state: 'hydrating',
    start: undefined,
    txid: 0n,
    pages: 0,
    total: 0,
    fetched: 0,
    requests: 0,
    restarts: 0,
    error: undefined,
  };
  /** The copy of the current cycle. */
  private copy: LocalCopy | undefined;
  private attached = false;
  private cycle: Promise<HydrationProgress> = Promise.resolve(this.status);
  private closing: Promise<void> | undefined;

  private constructor(host: HydrationHost, opts: HydrateOptions, createdAt: string | undefined) {
    this.host = host;
    this.opts = opts;
    this.paths = hydrationPaths(path.resolve(opts.path));
    this.createdAt = createdAt;
  }

  /** Checks `opts` and claims its path for `db` (BAD_REQUEST when it is taken or holds something else); release() gives it back. */
  static claim(opts: HydrateOptions, db: string): void {
    if (typeof opts.path !== 'string' || opts.path === '') throw new ClientError('BAD_REQUEST', 'hydrate.path (a file) is required');
    const n = opts.batchPages;
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 1)) {
      throw new ClientError('BAD_REQUEST', `hydrate.batchPages must be a positive integer, got ${n}`);
    }
    if (!existsSync(path.dirname(path.resolve(opts.path))))
      throw new ClientError('BAD_REQUEST', `the directory of ${opts.path} does not exist`);
    claimPath(hydrationPaths(path.resolve(opts.path)), db);
  }

  /** Gives back a path claimed for an open that failed. */
  static release(opts: HydrateOptions): void {
    releasePath(hydrationPaths(path.resolve(opts.path)).file);
  }

  /** Starts hydrating for `host` (its path claimed first); `createdAt` is the database's creation time, if it exists. */
  static start(host: HydrationHost, opts: HydrateOptions, createdAt: string | undefined): Hydration {
    const h = new Hydration(host, opts, createdAt);
    h.begin();
    return h;
  }

  get progress(): HydrationProgress {
    return { ...this.status };
  }

  /** True while the view's reads come from the file. */
  get hydrated(): boolean {
    return this.attached && this.host.store.servesLocally;
  }

  /** Settles with the current cycle: the progress once hydrated, or why it failed (CLOSED after close()). */
  whenHydrated(): Promise<HydrationProgress> {
    return this.cycle;
  }

  /**
   * Before the view moves to `next` with `changed` pages (written by it: `written`; else fetched
   * here at `next`'s TXID): checks that the file would hold `next`'s checksum and records the move as
   * under way. Undefined when the file is not attached, or cannot follow this move (a new cycle then
   * starts). Throws only the server's errors while fetching, and then nothing changed.
   */
  async prepareMove(
    next: { pos: PosJSON; commit: number; pageSize: number },
    changed: readonly number[] | 'all',
    written?: ReadonlyMap<number, Uint8Array>,
  ): Promise<PreparedMove | undefined> {
    const copy = this.copy;
    if (!this.attached || this.closing !== undefined || copy === undefined) return undefined;
    if (changed === 'all' || next.pageSize !== copy.pageSize) {
      this.restart();
      return undefined;
    }
    const txid = BigInt(`0x${next.pos.txid}`);
    const pages =
      written !== undefined
        ? new Map(written)
        : await this.fetchChanged(this.wanted(changed, next.commit, next.pageSize), txid, next.pageSize);
    try {
      return await copy.prepare({ pos: next.pos, commit: next.commit }, pages);
    } catch (e) {
      if (e instanceof StartOver) this.restart();
      else this.fail(e);
      return undefined;
    }
  }

  /**
   * Writes a prepared move and serves the file at `epoch` — both before this returns, so no read
   * sees the file half moved — then makes it durable (the promise). Call it right after the view moved.
   */
  commitMove(move: PreparedMove, epoch: number): Promise<void> {
    const copy = this.copy;
    if (!this.attached || this.closing !== undefined || copy === undefined) return Promise.resolve();
    try {
      copy.write(move);
    } catch (e) {
      this.fail(e);
      return Promise.resolve();
    }
    this.moved(move.target);
    this.attach(copy, epoch);
    return copy.persist().catch((e: unknown) => this.fail(e));
  }

  /** Stops the background work (aborting its requests), waits for it and for the view's move under way, closes the files. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort(new ClientError('CLOSED', `database ${this.host.name} is closed`));
      await this.cycle.catch(() => undefined);
      await this.host.exclusive(async () => undefined);
      this.detach();
      this.copy?.closeFiles();
      releasePath(this.paths.file);
      this.status.state = 'closed';
      this.emit();
    })();
    return this.closing;
  }

  private begin(): void {
    this.status.state = 'hydrating';
    this.status.error = undefined;
    this.cycle = this.runCycle();
    this.cycle.catch(() => undefined); // whenHydrated() hands it out; nobody need listen
    this.emit();
  }

  /** A move the file cannot follow: reads go remote, and a new cycle verifies the file and catches up, or starts over. */
  private restart(): void {
    this.detach();
    this.copy?.closeFiles();
    this.begin();
  }

  private async runCycle(): Promise<HydrationProgress> {
    try {
      for (let restarts = 0; ; restarts++) {
        const copy = (this.copy = new LocalCopy(this.paths, {
          db: this.host.name,
          createdAt: this.createdAt,
          pageSize: this.host.current().state.pageSize,
        }));
        try {
          if (copy.foreign) throw new StartOver(`${this.paths.record} is for another database or page size`);
          await this.hydrateOnce(copy);
          return this.progress;
        } catch (e) {
          if (!(e instanceof StartOver) || this.closing !== undefined) throw e;
          if (restarts >= Hydration.MAX_RESTARTS)
            throw new ClientError('BAD_RESPONSE', `gave up after starting over ${restarts} times: ${e.message}`);
          this.status.restarts++;
          await copy.discard();
        }
      }
    } catch (e) {
      if (this.closing !== undefined) throw this.abort.signal.reason;
      this.fail(e);
      throw e;
    }
  }

  /** Reuses the file or downloads it, then (alone) brings it to the view's TXID and attaches it. */
  private async hydrateOnce(copy: LocalCopy): Promise<void> {
    const { state, pos } = this.host.current();
    if (copy.hasFile) await this.reuse(copy, state.txid);
    else await this.download(copy, state, pos);
    await this.host.exclusive(() => this.catchUpAndAttach(copy));
  }

  /** Verifies the file against its sidecar, and the server's position at its TXID against the file. */
  private async reuse(copy: LocalCopy, viewTXID: bigint): Promise<void> {
    const held = await copy.verify();
    const txid = txidOf(held);
    if (txid === 0n || txid > viewTXID) throw new StartOver(`the file is at TXID ${formatTXID(txid)}, the view at ${formatTXID(viewTXID)}`);
    const there = await this.serverCall(() => this.host.api.changes(this.host.name, 0n, { txid }, this.abort.signal));
    if (there.pos.postApplyChecksum !== held.pos.postApplyChecksum)
      throw new StartOver(`TXID ${formatTXID(txid)} is another state on the server now`);
    await copy.keep(held);
    Object.assign(this.status, { start: 'reused', txid, pages: held.commit, total: held.commit });
    this.emit();
  }

  /** Downloads the view's state into the partial file (or resumes a download), verifies it and renames it into place. */
  private async download(copy: LocalCopy, state: PinnedState, pos: PosJSON): Promise<void> {
    // At TXID 0 (a database not created yet) the file is empty, with an empty database's checksum.
    const target = state.txid === 0n ? { txid: pos.txid, postApplyChecksum: formatHex64(EMPTY_DB_CHECKSUM) } : pos;
    const d = await copy.startDownload({ pos: target, commit: state.commit }, state.txid);
    const txid = txidOf(d.state);
    Object.assign(this.status, { start: d.resumed ? 'resumed' : 'new', txid, pages: d.state.pages, total: d.state.commit });
    this.emit();
    await this.serverCall(() =>
      downloadPages({
        api: this.host.api,
        db: this.host.name,
        txid,
        commit: d.state.commit,
        file: d.file,
        from: d.state.pages + 1,
        batchPages: batchPagesFor(copy.pageSize, this.opts.batchPages),
        signal: this.abort.signal,
        onBatch: (pages) => this.count(pages.length),
        onRound: async (pages) => {
          await copy.downloaded(pages);
          this.status.pages = pages;
          this.emit();
        },
      }),
    );
    await copy.finishDownload(d);
    this.status.pages = d.state.commit;
  }

  /** Moves the file from its TXID to the view's (changed pages only), then serves reads from it. Runs alone. */
  private async catchUpAndAttach(copy: LocalCopy): Promise<void> {
    this.abort.signal.throwIfAborted();
    const { state, pos } = this.host.current();
    const held = copy.held!;
    const from = txidOf(held);
    if (state.pageSize !== copy.pageSize) throw new StartOver('the page size changed');
    if (from > state.txid) throw new StartOver(`the file is at TXID ${formatTXID(from)}, past the view's ${formatTXID(state.txid)}`);
    const catchUp = from < state.txid;
    if (catchUp) {
      const changes = await this.serverCall(() => this.host.api.changes(this.host.name, from, { txid: state.txid }, this.abort.signal));
      if (changes.all) throw new StartOver(`the server no longer lists the pages changed since TXID ${formatTXID(from)}`);
      const target = { pos, commit: state.commit };
      const want = this.wanted(changes.pgnos, state.commit, state.pageSize);
      const rounds = changedRounds(want, batchPagesFor(state.pageSize, this.opts.batchPages));
      await copy.catchUp(target, this.fetchRounds(rounds, state.txid, state.pageSize));
      this.moved(target);
    } else if (from !== 0n && held.pos.postApplyChecksum !== pos.postApplyChecksum) {
      throw new StartOver(`the file and the view disagree at TXID ${formatTXID(from)}`);
    }
    this.attach(copy, state.epoch);
    if (catchUp) await copy.persist();
    this.emit();
  }

  private moved(target: FileState): void {
    Object.assign(this.status, { txid: txidOf(target), pages: target.commit, total: target.commit });
  }

  private attach(copy: LocalCopy, epoch: number): void {
    this.host.store.attachLocal(copy.file!, epoch);
    this.attached = true;
    this.status.state = 'hydrated';
  }

  private detach(): void {
    if (this.attached) this.host.store.detachLocal();
    this.attached = false;
  }

  /** Reads stay remote for good; the error is kept in the progress. */
  private fail(e: unknown): void {
    this.detach();
    this.status.state = 'failed';
    this.status.error = e;
    this.emit();
  }

  /** The pages of `pgnos` a database of `commit` pages stores (the lock page aside). */
  private wanted(pgnos: readonly number[], commit: number, pageSize: number): number[] {
    const lock = lockPgno(pageSize);
    return pgnos.filter((p) => p <= commit && p !== lock);
  }

  /** Pages `pgnos` at `txid`, all in one map; BAD_RESPONSE when one is missing. */
  private async fetchChanged(pgnos: readonly number[], txid: bigint, pageSize: number): Promise<Map<number, Uint8Array>> {
    return this.fetchRound(chunkPgnos(pgnos), txid, pageSize);
  }

  /** Each round's pages at `txid`, fetched when the consumer asks for them. */
  private async *fetchRounds(rounds: Iterable<number[][]>, txid: bigint, pageSize: number): AsyncGenerator<Map<number, Uint8Array>> {
    for (const round of rounds) yield await this.fetchRound(round, txid, pageSize);
  }

  private async fetchRound(chunks: readonly number[][], txid: bigint, pageSize: number): Promise<Map<number, Uint8Array>> {
    const pages = await fetchPagesAt(this.host.api, this.host.name, txid, pageSize, chunks, {
      signal: this.abort.signal,
      onBatch: (got) => this.count(got.length),
    });
    for (const chunk of chunks) {
      const missing = chunk.find((p) => !pages.has(p));
      if (missing !== undefined) throw new ClientError('BAD_RESPONSE', `page ${missing} is missing at TXID ${formatTXID(txid)}`);
    }
    return pages;
  }

  /** Runs a server call; the server saying a TXID is no longer (or not yet) held means starting over. */
  private async serverCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof ApiClientError && ['TXID_NOT_AVAILABLE', 'NOT_YET_AVAILABLE', 'BAD_REQUEST'].includes(e.code)) {
        throw new StartOver(`the server: ${e.code} ${e.message}`);
      }
      throw e;
    }
  }

  private count(pages: number): void {
    this.status.fetched += pages;
    this.status.requests++;
  }

  private emit(): void {
    try {
      this.opts.onProgress?.(this.progress);
    } catch {
      // A listener's failure is its own; the work goes on.
    }
  }
}
