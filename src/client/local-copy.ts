// The files of one hydrated database and what its sidecar says: a verified file reused, a download resumed and renamed into place, checked moves, starting over.

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { formatTXID, parseHex64 } from '../ltx/index.ts';
import { syncDirectory } from '../remote/atomic-file.ts';
import { ClientError } from './errors.ts';
import {
  type FileState,
  HYDRATION_RECORD_VERSION,
  type HydrationPaths,
  type HydrationRecord,
  type RecordIdentity,
  formatHydrationRecord,
  parseHydrationRecord,
  recordMatches,
  stateOfFile,
  txidOf,
} from './hydration-record.ts';
import { LocalDatabaseFile, writeFileAtomically } from './local-database-file.ts';
import { MovingChecksum, checksumAfterMove } from './moving-checksum.ts';

/** The local copy must be made again from nothing; the message says why. */
export class StartOver extends Error {}

/** A move of the file to `target`: checked against its checksum and recorded as under way, ready to write. */
export interface PreparedMove {
  target: FileState;
  pages: Map<number, Uint8Array>;
}

/** A download under way: where it writes and how far it got (pages 1..`pages` are durable). */
export interface PartialDownload {
  file: LocalDatabaseFile;
  state: FileState & { pages: number };
  resumed: boolean;
}

/**
 * The database file, the partial file of a download and the sidecar of one hydrated database. The
 * sidecar is written before what it promises can be lost: a download's progress after its pages are
 * synced, a move as `next` before the file changes, the new state once the file is synced.
 */
export class LocalCopy {
  readonly paths: HydrationPaths;
  /** True when the sidecar found was another database's, or another page size's: discard() the files. */
  readonly foreign: boolean;
  private readonly id: RecordIdentity;
  private record: HydrationRecord;
  private database: LocalDatabaseFile | undefined;
  private partial: LocalDatabaseFile | undefined;
  private state: FileState | undefined;

  /** The copy at `paths` for the database `id`, as its sidecar describes it. */
  constructor(paths: HydrationPaths, id: RecordIdentity) {
    this.paths = paths;
    this.id = id;
    const found = readHydrationRecord(paths.record);
    this.foreign = found !== undefined && !recordMatches(found, id);
    this.record = found !== undefined && !this.foreign ? found : { version: HYDRATION_RECORD_VERSION, ...id };
  }

  get pageSize(): number {
    return this.record.pageSize;
  }

  /** The complete database file, once verified or downloaded. */
  get file(): LocalDatabaseFile | undefined {
    return this.state === undefined ? undefined : this.database;
  }

  /** The state the database file holds, once verified or downloaded. */
  get held(): FileState | undefined {
    return this.state;
  }

  /** True when the sidecar says the database file is complete and it exists: verify() it. */
  get hasFile(): boolean {
    return this.record.file !== undefined && existsSync(this.paths.file);
  }

  /** Reads the whole database file: the state among those the sidecar names that it matches, else StartOver. */
  async verify(): Promise<FileState> {
    const file = this.openDatabase();
    const size = file.size;
    const held = stateOfFile(this.record, size, await file.checksum(Math.floor(size / this.pageSize)));
    if (held === undefined) throw new StartOver(`${this.paths.file} matches neither state its sidecar names`);
    return held;
  }

  /** Takes `held` (verified) as the file's state: a partial download is dropped. */
  async keep(held: FileState): Promise<void> {
    rmSync(this.paths.partial, { force: true });
    this.state = held;
    this.record = { ...this.record, file: held, next: undefined, download: undefined };
    await this.save();
  }

  /** The download to resume (a partial file at a TXID in 1..`upTo`), else a new one of `target`. */
  async startDownload(target: FileState, upTo: bigint): Promise<PartialDownload> {
    const old = this.record.download;
    if (old !== undefined && existsSync(this.paths.partial) && txidOf(old) > 0n && txidOf(old) <= upTo) {
      this.partial = LocalDatabaseFile.open(this.paths.partial, this.pageSize, 'r+');
      return { file: this.partial, state: { ...old }, resumed: true };
    }
    this.partial = LocalDatabaseFile.open(this.paths.partial, this.pageSize, 'w+');
    this.record = { ...this.record, download: { ...target, pages: 0 } };
    await this.save();
    return { file: this.partial, state: { ...target, pages: 0 }, resumed: false };
  }

  /** Records that pages 1..`pages` of the download are synced. */
  async downloaded(pages: number): Promise<void> {
    this.record = { ...this.record, download: { ...this.record.download!, pages } };
    await this.save();
  }

  /** Verifies the complete download against its checksum (StartOver when it differs) and renames it into place. */
  async finishDownload(d: PartialDownload): Promise<FileState> {
    const { file, state } = d;
    file.resize(state.commit);
    await file.sync();
    if ((await file.checksum(state.commit)) !== parseHex64(state.pos.postApplyChecksum)) {
      throw new StartOver(`the download does not match TXID ${state.pos.txid}'s checksum`);
    }
    // The rename is recorded as a move first: after a crash the sidecar still names what the file holds.
    const done: FileState = { pos: state.pos, commit: state.commit };
    this.record = { ...this.record, next: done };
    await this.save();
    this.closeFiles();
    renameSync(this.paths.partial, this.paths.file);
    syncDirectory(path.dirname(this.paths.file));
    this.openDatabase();
    this.state = done;
    this.record = { ...this.record, file: done, next: undefined, download: undefined };
    await this.save();
    return done;
  }

  /** Checks that `pages` take the file to `target`'s checksum (StartOver when not), and records the move as under way. */
  async prepare(target: FileState, pages: Map<number, Uint8Array>): Promise<PreparedMove> {
    const held = this.state!;
    const file = this.database!;
    for (const pgno of pages.keys()) if (pgno > target.commit) pages.delete(pgno);
    const from = parseHex64(held.pos.postApplyChecksum)!;
    const after = checksumAfterMove(from, this.pageSize, held.commit, target.commit, pages, (p) => file.readPage(p));
    if (after !== parseHex64(target.pos.postApplyChecksum)) {
      throw new StartOver(`the changed pages do not give TXID ${formatTXID(txidOf(target))}'s checksum`);
    }
    this.record = { ...this.record, next: target };
    await this.save();
    return { target, pages };
  }

  /**
   * Moves the file to `target` round by round as `rounds` bring the changed pages (at most one
   * round in memory), for a file nobody reads meanwhile. The move is recorded as under way first;
   * StartOver when the result does not have `target`'s checksum. persist() makes it durable.
   */
  async catchUp(target: FileState, rounds: AsyncIterable<Map<number, Uint8Array>>): Promise<void> {
    const held = this.state!;
    const file = this.database!;
    this.record = { ...this.record, next: target };
    await this.save();
    const read = (p: number): Uint8Array => file.readPage(p);
    const moving = new MovingChecksum(parseHex64(held.pos.postApplyChecksum)!, this.pageSize, held.commit, target.commit);
    for await (const pages of rounds) {
      for (const [pgno, data] of pages) moving.write(pgno, data, read);
      file.writePages(pages);
    }
    const after = moving.finish(read);
    file.resize(target.commit);
    // Whatever the outcome, the file is no longer `held`.
    this.state = target;
    if (after !== parseHex64(target.pos.postApplyChecksum)) {
      throw new StartOver(`the changed pages do not give TXID ${formatTXID(txidOf(target))}'s checksum`);
    }
  }

  /** Writes a prepared move into the file, synchronously (no read sees half of it). */
  write(move: PreparedMove): void {
    this.database!.writePages(move.pages);
    this.database!.resize(move.target.commit);
    this.state = move.target;
  }

  /** Syncs the file, then records the state it holds. */
  async persist(): Promise<void> {
    await this.database!.sync();
    this.record = { ...this.record, file: this.state, next: undefined };
    await this.save();
  }

  /** Removes the database and partial files, and what the sidecar says of them. */
  async discard(): Promise<void> {
    this.closeFiles();
    rmSync(this.paths.partial, { force: true });
    rmSync(this.paths.file, { force: true });
    this.record = { version: HYDRATION_RECORD_VERSION, ...this.id };
    await this.save();
  }

  /** Closes the open files (their state is forgotten, the files stay). */
  closeFiles(): void {
    this.database?.close();
    this.partial?.close();
    this.database = undefined;
    this.partial = undefined;
    this.state = undefined;
  }

  private openDatabase(): LocalDatabaseFile {
    this.database?.close();
    this.database = LocalDatabaseFile.open(this.paths.file, this.pageSize, 'r+');
    return this.database;
  }

  private async save(): Promise<void> {
    await writeFileAtomically(this.paths.record, formatHydrationRecord(this.record));
  }
}

/** Database files hydrating in this process: two views writing one file would ruin it. */
const claimed = new Set<string>();

/**
 * Claims the database file of `paths` for `db` in this process. BAD_REQUEST (nothing touched) when
 * another open database holds it, or a file there is not a hydrated copy of `db` (no sidecar, or
 * another database's).
 */
export function claimPath(paths: HydrationPaths, db: string): void {
  if (claimed.has(paths.file)) throw new ClientError('BAD_REQUEST', `${paths.file} is being hydrated by another open database`);
  if (existsSync(paths.file) && readHydrationRecord(paths.record)?.db !== db) {
    throw new ClientError(
      'BAD_REQUEST',
      `${paths.file} exists and is not a hydrated copy of ${db} (no ${path.basename(paths.record)} for it)`,
    );
  }
  claimed.add(paths.file);
}

/** Gives back a claimed database file. */
export function releasePath(file: string): void {
  claimed.delete(file);
}

/** The sidecar at `file`, or undefined when there is none or it cannot be trusted. */
export function readHydrationRecord(file: string): HydrationRecord | undefined {
  try {
    return parseHydrationRecord(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
