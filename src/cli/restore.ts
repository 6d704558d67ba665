// `ltx-edge restore <url> <db> -o <out.db> [--txid|--at]`: download a consistent database file, atomically, restarting on failures.

import { ftruncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { isValidPageSize } from '../ltx/index.ts';
import { type AtomicFile, createAtomicFile } from './atomic-file.ts';
import { CliError, EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { Command } from './command.ts';
import { type ApiClient, ApiClientError, DEFAULT_RETRIES } from '../remote/http-client.ts';
import { resolveClientConfig } from './remote-cli.ts';
import { type Progress, createProgress } from './progress.ts';
import { restoreInPlace } from './restore-in-place.ts';
import { REMOTE_OPTIONS, REMOTE_OPTIONS_USAGE, cliClient, describeRemoteError, reportRemoteFailure } from './remote-cli.ts';
import { SQLITE_HEADER_SIZE, headerPageCount, isSQLiteHeader, sqlitePageSize } from '../sqlite/header.ts';

export const RESTORE_USAGE = `Usage: ltx-edge restore <url> <db> -o <out.db> [--txid HEX | --at TIME] [--force] [--verify] [--token T] [--json]
       ltx-edge restore <url> <db> --in-place (--txid HEX | --at TIME) [--token T] [--json]

Downloads database <db> as a SQLite file: the head, the state right after TXID HEX (--txid), or
the state as of TIME (--at: RFC3339 such as 2024-06-15T12:30:00Z, or "5 minutes ago"). The file is
streamed into a temporary file beside <out.db>, its size checked against what the server announced,
synced, and only then renamed to <out.db>: an interrupted restore leaves nothing behind. A download
that breaks off starts again at the same TXID. Refuses to replace an existing <out.db> unless
--force. --verify runs PRAGMA integrity_check on the download before it is put in place.
A progress bar shows on a terminal.

  -o, --output F  the database file to write
  --txid HEX      the TXID to restore (1–16 hex digits)
  --at TIME       the point in time to restore (the last TXID committed by then)
  --force         replace <out.db> if it exists
  --in-place      no download: the server writes the state at --txid/--at as the next transaction
                  (admin scope; undo by restoring in place to the TXID before it)
  --verify        check the result with PRAGMA integrity_check (node:sqlite); exit 1 if not "ok"
${REMOTE_OPTIONS_USAGE}`;

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
  onRestart?: (info: { attempt: number; attempts: number; delayMs: number; error: CliError }) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** The first bytes of the file: enough for the SQLite header fields we read. */
const TXID_HEADER = /^[0-9a-f]{16}$/;

/** A download that broke off, stalled or came out the wrong size: worth starting again (at `txid`, once known). */
class BrokenDownload extends CliError {
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
 * CliError EEXIST / BAD_RESPONSE / INCOMPLETE_DOWNLOAD (restarts exhausted) / INTEGRITY_CHECK_FAILED,
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
        if (attempt > restarts) throw new CliError('INCOMPLETE_DOWNLOAD', `${e.message} (gave up after ${attempt} attempts)`);
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
        if (integrity !== 'ok') throw new CliError('INTEGRITY_CHECK_FAILED', `PRAGMA integrity_check at TXID ${got.txid}: ${integrity}`);
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
      throw new CliError('BAD_RESPONSE', `GET ${where}: no LTX-TXID header in the answer (${JSON.stringify(txid.slice(0, 40))})`);
    }
    if (point.txid !== undefined && txid !== point.txid) {
      await res.body?.cancel();
      throw new CliError('BAD_RESPONSE', `GET ${where}: the server answered TXID ${txid}`);
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
  if (!isSQLiteHeader(head)) throw new CliError('BAD_RESPONSE', 'the download is not a SQLite database');
  const pageSize = sqlitePageSize(head);
  if (!isValidPageSize(pageSize) || size % pageSize !== 0) {
    throw new CliError('BAD_RESPONSE', `the download (${size} bytes) is not a whole number of ${pageSize}-byte pages`);
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

/** `--txid`: 1–16 hex digits (any case), not 0 → 16 lowercase digits. */
export function parseTXIDOption(text: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text) || /^0+$/.test(text)) {
    throw new UsageError(`--txid must be 1 to 16 hex digits and not 0, got ${JSON.stringify(text.slice(0, 40))}`, RESTORE_USAGE);
  }
  return text.toLowerCase().padStart(16, '0');
}

export const restoreCommand: Command = {
  name: 'restore',
  synopsis: [
    ['restore <url> <db> -o <out.db> [--txid HEX | --at TIME] [--json]', 'download the database (at a TXID or time) as a SQLite file'],
  ],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        ...REMOTE_OPTIONS,
        output: { type: 'string', short: 'o' },
        txid: { type: 'string' },
        at: { type: 'string' },
        force: { type: 'boolean', short: 'f' },
        verify: { type: 'boolean' },
        'in-place': { type: 'boolean' },
      },
      RESTORE_USAGE,
    );
    if (values.help) {
      await io.out(RESTORE_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, RESTORE_USAGE);
    if (rest.length !== 1) throw new UsageError('restore needs one <db>', RESTORE_USAGE);
    const [db] = rest;
    if (values.txid !== undefined && values.at !== undefined) throw new UsageError('give --txid or --at, not both', RESTORE_USAGE);
    if (values['in-place'] === true) {
      if (values.txid === undefined && values.at === undefined)
        throw new UsageError('restore --in-place needs --txid or --at', RESTORE_USAGE);
      const point = values.txid !== undefined ? { txid: parseTXIDOption(values.txid) } : { at: values.at };
      return restoreInPlace(cliClient(config, io), io, db, point, values.json === true, (code, details) => hintFor(code, details, db));
    }
    const out = values.output;
    if (out === undefined || out === '') throw new UsageError('restore needs -o <out.db>', RESTORE_USAGE);
    if (values.at !== undefined && values.at.trim() === '') throw new UsageError('--at must not be empty', RESTORE_USAGE);
    const txid = values.txid !== undefined ? parseTXIDOption(values.txid) : undefined;
    const json = values.json === true;

    let r: RestoreResult;
    try {
      r = await restoreDatabase(cliClient(config, io), db, out, {
        txid,
        at: values.at,
        force: values.force === true,
        verify: values.verify === true,
        onRestart: ({ attempt, attempts, delayMs, error }) => {
          void io.err(
            `ltx-edge: ${error.code} ${error.message}; restarting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts})\n`,
          );
        },
      });
    } catch (e) {
      // The server's refusals are about <db>; everything else (EEXIST, I/O, a bad download) about <out.db>.
      const info = e instanceof ApiClientError ? describeRemoteError(e) : { ...describeRemoteError(e), file: out };
      return reportRemoteFailure(io, info, json, { hint: hintFor(info.code, info.details, out) });
    }
    if (json) {
      await printJSON(io, r);
    } else {
      const rate = r.seconds > 0 ? (r.size / 1e6 / r.seconds).toFixed(1) : '∞';
      await io.out(
        `restored ${db} at TXID ${r.txid} → ${out} (${r.commit} pages of ${r.pageSize} bytes, ` +
          `${(r.size / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s, ${rate} MB/s${r.integrity ? ', integrity ok' : ''})\n`,
      );
    }
    return EXIT_OK;
  },
};

/** One line of advice for the failures a user can act on. */
function hintFor(code: string, details: Record<string, unknown> | undefined, out: string): string | undefined {
  switch (code) {
    case 'EEXIST':
      return `give --force to replace ${out}, or another -o`;
    case 'TXID_NOT_AVAILABLE':
      return typeof details?.oldest === 'string' ? `the oldest state still held is TXID ${details.oldest}` : undefined;
    case 'NOT_YET_AVAILABLE': {
      const pos = details?.pos as { txid?: string } | undefined;
      return pos?.txid ? `the database is at TXID ${pos.txid}` : undefined;
    }
    case 'UNAUTHORIZED':
      return 'give a token with --token or $LTX_EDGE_TOKEN';
    case 'FORBIDDEN':
      return 'the token needs the read scope for this database';
    default:
      return undefined;
  }
}
