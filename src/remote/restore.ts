// Restore (Node): download a database at a point into a file, atomically — size checked, synced, renamed into place — restarting a download that breaks off at the same TXID.

import { ftruncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { isValidPageSize } from '../ltx/index.ts';
import { SQLITE_HEADER_SIZE, headerPageCount, isSQLiteHeader, sqlitePageSize } from '../sqlite/header.ts';
import { type AtomicFile, createAtomicFile } from './atomic-file.ts';
import { type ApiClient, DEFAULT_RETRIES } from './http-client.ts';
import { OperationError } from './operation-error.ts';
import { type Progress, createProgress } from './progress.ts';

/** Restarts of a download that broke off (after the first attempt). */
export const DEFAULT_RESTARTS = DEFAULT_RETRIES;
/** First wait before a restart, milliseconds; doubles per restart up to MAX_RESTART_DELAY_MS. */
export const DEFAULT_RESTART_DELAY_MS = 500;
export const MAX_RESTART_DELAY_MS = 8_000;
/** A download that receives nothing for this long (ms) is abandoned and restarted. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** What `restore --json` prints. */
export interface RestoreResult {
  out: string;
  db: string;
  /** The TXID the file is at (the server's LTX-TXID), 16 hex digits. */
  txid: string;
  /** Bytes written: commit × pageSize. */
  size: number;
  pageSize: number;
  /** Database size in pages. */
  commit: number;
  /** Downloads started (1 unless one broke off). */
  attempts: number;
  seconds: number;
  /** With --verify: the first line of PRAGMA integrity_check, always "ok" on success. */
  integrity?: string;
}

/** Which state to download; neither = the head. */
export interface RestorePoint {
  /** 16 lowercase hex digits. */
  txid?: string;
  /** RFC3339 or a relative expression, interpreted by the server. */
  at?: string;
}

export interface RestoreOptions extends RestorePoint {
  force?: boolean;
  verify?: boolean;
  /** Draw a progress bar on stderr when it is a terminal (default true). */
  progress?: boolean;
  /** Restarts after a download broke off (default DEFAULT_RESTARTS). */
  restarts?: number;
  restartDelayMs?: number;
  idleTimeoutMs?: number;
  /** Told before each restart (the CLI prints a line on stderr). */
  onRestart?: (info: { attempt: number; attempts: number; delayMs: number; error: OperationError }) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** The first bytes of the file: enough for the SQLite header fields we read. */
const TXID_HEADER = /^[0-9a-f]{16}$/;

/** A download that broke off, stalled or came out the wrong size: worth starting again (at `txid`, once known). */
class BrokenDownload extends OperationError {
  readonly txid: string | undefined;

  constructor(code: string, message: string, txid?: string) {
    super(code, message);
    this.name = 'BrokenDownload';
    this.txid = txid;
  }
}

/**
 * Downloads `db` at the point asked to `out`. Throws ApiClientError for the server's refusals
 * (NOT_FOUND, TXID_NOT_AVAILABLE, NOT_YET_AVAILABLE…, after the client's own retries of 5xx),
 * OperationError EEXIST / BAD_RESPONSE / INCOMPLETE_DOWNLOAD (restarts exhausted) / INTEGRITY_CHECK_FAILED,
 * and Node errors for the local file. Never leaves a partial `out`.
 */
export async function restoreDatabase(client: ApiClient, db: string, out: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const started = performance.now();
  const file = createAtomicFile(out, opts.force === true);
  try {
    const restarts = opts.restarts ?? DEFAULT_RESTARTS;
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let point: RestorePoint = { txid: opts.txid, at: opts.at };
    for (let attempt = 1; ; attempt++) {
      let got: Download;
      try {
        got = await download(client, db, point, file, opts);
      } catch (e) {
        if (!(e instanceof BrokenDownload)) throw e;
        if (attempt > restarts) throw new OperationError('INCOMPLETE_DOWNLOAD', `${e.message} (gave up after ${attempt} attempts)`);
        const delayMs = Math.min(MAX_RESTART_DELAY_MS, (opts.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS) * 2 ** (attempt - 1));
        opts.onRestart?.({ attempt, attempts: restarts + 1, delayMs, error: e });
        await sleep(delayMs);
        // The state already begun, whatever the head or "5 minutes ago" mean by now.
        if (e.txid !== undefined) point = { txid: e.txid };
        continue;
      }
      const { pageSize, commit } = describeSQLite(got.head, got.size);
      let integrity: string | undefined;
      if (opts.verify) {
        integrity = integrityCheck(file.tmp);
        if (integrity !== 'ok')
          throw new OperationError('INTEGRITY_CHECK_FAILED', `PRAGMA integrity_check at TXID ${got.txid}: ${integrity}`);
      }
      file.commit();
      const result: RestoreResult = {
        out,
        db,
        txid: got.txid,
        size: got.size,
        pageSize,
        commit,
        attempts: attempt,
        seconds: Math.round(performance.now() - started) / 1000,
      };
      if (integrity !== undefined) result.integrity = integrity;
      return result;
    }
  } catch (e) {
    file.discard();
    throw e;
  }
}

interface Download {
  txid: string;
  size: number;
  /** The file's first bytes (up to 100). */
  head: Uint8Array;
}

/**
 * One attempt: GET …/snapshot?format=sqlite at `point`, written from offset 0 of `file` (truncated
 * first). Throws BrokenDownload (carrying the TXID once known) when the body breaks off, stalls or
 * has the wrong length; anything else is final.
 */
async function download(client: ApiClient, db: string, point: RestorePoint, file: AtomicFile, opts: RestoreOptions): Promise<Download> {
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new BrokenDownload('IDLE_TIMEOUT', `nothing received for ${idleMs / 1000} s`)), idleMs);
  };
  const q = new URLSearchParams({ format: 'sqlite' });
  if (point.txid !== undefined) q.set('txid', point.txid);
  if (point.at !== undefined) q.set('at', point.at);
  const where = `/v1/databases/${encodeURIComponent(db)}/snapshot?${q}`;
  let txid: string | undefined;
  let progress: Progress | undefined;
  arm();
  try {
    let res: Response;
    try {
      res = await client.request('GET', where, { signal: abort.signal, headers: { accept: 'application/vnd.sqlite3, application/json' } });
    } catch (e) {
      if (abort.signal.aborted) throw abort.signal.reason;
      throw e;
    }
    txid = res.headers.get('ltx-txid') ?? '';
    if (!TXID_HEADER.test(txid)) {
      await res.body?.cancel();
      throw new OperationError('BAD_RESPONSE', `GET ${where}: no LTX-TXID header in the answer (${JSON.stringify(txid.slice(0, 40))})`);
    }
    if (point.txid !== undefined && txid !== point.txid) {
      await res.body?.cancel();
      throw new OperationError('BAD_RESPONSE', `GET ${where}: the server answered TXID ${txid}`);
    }
    const lengthText = res.headers.get('content-length');
    const expected = lengthText !== null && /^\d+$/.test(lengthText) ? Number(lengthText) : undefined;
    progress = createProgress({
      label: `${db}@${txid} → ${path.basename(file.out)}`,
      total: expected,
      enabled: opts.progress === false ? false : undefined,
    });
    const head = new Uint8Array(SQLITE_HEADER_SIZE);
    let size = 0;
    const known = txid;
    try {
      for await (const chunk of res.body ?? []) {
        arm();
        if (size < SQLITE_HEADER_SIZE) head.set(chunk.subarray(0, SQLITE_HEADER_SIZE - size), size);
        writeAll(file.fd, chunk, size);
        size += chunk.length;
        progress.add(chunk.length);
      }
    } catch (e) {
      if (e instanceof LocalWriteError) throw e.cause;
      const why = abort.signal.aborted ? (abort.signal.reason as Error).message : failureText(e);
      throw new BrokenDownload('BROKEN_DOWNLOAD', `the download broke off after ${size} bytes: ${why}`, known);
    }
    if (expected !== undefined && size !== expected) {
      throw new BrokenDownload('SIZE_MISMATCH', `received ${size} bytes, the server announced ${expected}`, known);
    }
    // Without a length announced, a body that ended cleanly but early is caught by SQLite's own count.
    const pages = expected === undefined ? (size >= SQLITE_HEADER_SIZE ? headerPageCount(head) : undefined) : undefined;
    if (pages !== undefined && pages * sqlitePageSize(head) > size) {
      throw new BrokenDownload('SIZE_MISMATCH', `received ${size} bytes, the database header says ${pages} pages`, known);
    }
    // A previous attempt may have written further.
    ftruncateSync(file.fd, size);
    return { txid, size, head: head.subarray(0, Math.min(size, SQLITE_HEADER_SIZE)) };
  } finally {
    clearTimeout(timer);
    progress?.done();
  }
}

/** undici's "terminated" with the system code or message of its cause (ECONNRESET, UND_ERR_SOCKET…). */
function failureText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as (Error & { code?: string }) | undefined;
  return cause instanceof Error ? `${e.message} (${cause.code ?? cause.message})` : e.message;
}

/** Wraps a failure of the local file, which no restart can cure. */
class LocalWriteError extends Error {}

function writeAll(fd: number, chunk: Uint8Array, position: number): void {
  try {
    let done = 0;
    while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done, position + done);
  } catch (e) {
    throw new LocalWriteError('write failed', { cause: e });
  }
}

/** Page size and commit from the downloaded header; BAD_RESPONSE when it is not a SQLite database. */
function describeSQLite(head: Uint8Array, size: number): { pageSize: number; commit: number } {
  if (size === 0) return { pageSize: 0, commit: 0 };
  if (!isSQLiteHeader(head)) throw new OperationError('BAD_RESPONSE', 'the download is not a SQLite database');
  const pageSize = sqlitePageSize(head);
  if (!isValidPageSize(pageSize) || size % pageSize !== 0) {
    throw new OperationError('BAD_RESPONSE', `the download (${size} bytes) is not a whole number of ${pageSize}-byte pages`);
  }
  return { pageSize, commit: size / pageSize };
}

/**
 * `PRAGMA integrity_check` on `file`, opened read-only as immutable (no locks, no -wal/-shm beside
 * it); its answer joined by "; ", "ok" when sound. A file SQLite cannot open reports its error.
 */
export function integrityCheck(file: string): string {
  const url = pathToFileURL(file);
  url.searchParams.set('immutable', '1');
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(url, { readOnly: true });
    const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    db?.close();
  }
}
