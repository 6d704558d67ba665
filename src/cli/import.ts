// `ltx-edge import <url> <db> <sqlite-file>`: upload a whole SQLite database as a snapshot LTX (TXID 1), streamed.

import path from 'node:path';
import { encodeLTXStream, makeHeader } from '../ltx/index.ts';
import { CliError, EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { Command } from './command.ts';
import { batchedByteStream, counted } from '../remote/byte-streams.ts';
import type { PosJSON } from '../api/wire.ts';
import { type ApiClient, ApiClientError } from '../remote/http-client.ts';
import { resolveClientConfig } from './remote-cli.ts';
import { type Progress, createProgress } from '../remote/progress.ts';
import { REMOTE_OPTIONS, REMOTE_OPTIONS_USAGE, cliClient, describeRemoteError, reportRemoteFailure } from './remote-cli.ts';
import { inspectSQLiteFile, readSQLitePages } from './sqlite-file.ts';

export const IMPORT_USAGE = `Usage: ltx-edge import <url> <db> <sqlite-file> [--token T] [--json]

Uploads a whole SQLite database file as a snapshot (an LTX file with MinTXID = MaxTXID = 1) to a new,
empty database <db>. The file is read and encoded page by page while it is sent, so memory stays
small whatever its size. Refuses a file that is not a SQLite database, is not a whole number of pages,
or has a WAL with frames beside it (checkpoint it first), and a database <db> that already has data.
A progress bar shows on a terminal.

${REMOTE_OPTIONS_USAGE}`;

/** What `import --json` prints. */
export interface ImportResult {
  file: string;
  db: string;
  /** 201 imported; 200 when a retried upload had in fact been committed already. */
  status: number;
  pos: PosJSON;
  pageSize: number;
  commit: number;
  /** The SQLite file's size, bytes. */
  size: number;
  /** Bytes of LTX sent. */
  ltxBytes: number;
  seconds: number;
}

/** Import refused or failed with advice; `details` travel into the --json error. */
export class ImportError extends CliError {
  readonly details: Record<string, unknown> | undefined;
  readonly hint: string | undefined;

  constructor(code: string, message: string, opts: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(code, message);
    this.name = 'ImportError';
    this.details = opts.details;
    this.hint = opts.hint;
    if (opts.cause !== undefined) this.cause = opts.cause;
  }
}

export interface ImportOptions {
  /** Draw a progress bar on stderr when it is a terminal (default true). */
  progress?: boolean;
  /** Snapshot timestamp, milliseconds since the epoch (default now). The same on every retry. */
  timestamp?: number;
}

/**
 * Uploads `file` as the first snapshot of `db`. Throws CliError for a file that cannot be imported
 * (see inspectSQLiteFile), ImportError POSITION_MISMATCH when `db` already has data (checked first,
 * and again by the server), ApiClientError for other server answers.
 */
export async function importDatabase(client: ApiClient, db: string, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const info = await inspectSQLiteFile(file);
  const existing = await client.databaseInfo(db);
  if (existing && !/^0+$/.test(existing.pos.txid)) throw notEmpty(client, db, existing.pos, existing.commit);

  const started = performance.now();
  const header = makeHeader({
    pageSize: info.pageSize,
    commit: info.commit,
    minTXID: 1n,
    maxTXID: 1n,
    timestamp: opts.timestamp ?? Date.now(),
  });
  let progress: Progress | undefined;
  let ltxBytes = 0;
  let pushed: { status: number; pos: PosJSON };
  try {
    pushed = await client.pushLTX(db, () => {
      progress?.done(); // a retry starts over, with a new bar
      const bar = createProgress({
        label: `${path.basename(file)} → ${db}`,
        total: info.size,
        enabled: opts.progress === false ? false : undefined,
      });
      progress = bar;
      ltxBytes = 0;
      // The encoder computes the snapshot's post-apply checksum from the pages as they pass.
      const frames = encodeLTXStream(
        header,
        readSQLitePages(info, (n) => bar.add(n)),
      );
      return batchedByteStream(counted(frames, (n) => (ltxBytes += n)));
    });
  } catch (e) {
    if (e instanceof ApiClientError && e.code === 'POSITION_MISMATCH') {
      const pos = e.details?.pos as PosJSON | undefined;
      throw notEmpty(client, db, pos, undefined, e);
    }
    throw e;
  } finally {
    progress?.done();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    file,
    db,
    status: pushed.status,
    pos: pushed.pos,
    pageSize: info.pageSize,
    commit: info.commit,
    size: info.size,
    ltxBytes,
    seconds: Math.round(seconds * 1000) / 1000,
  };
}

function notEmpty(client: ApiClient, db: string, pos: PosJSON | undefined, commit: number | undefined, cause?: unknown): ImportError {
  const at = pos ? ` (TXID ${pos.txid}${commit !== undefined ? `, ${commit} pages` : ''})` : '';
  const token = client.config.token !== undefined ? ` -H "Authorization: Bearer $LTX_EDGE_TOKEN"` : '';
  return new ImportError('POSITION_MISMATCH', `database ${db} is not empty${at}`, {
    details: pos ? { pos } : undefined,
    hint:
      `import uploads a snapshot, which only goes onto an empty database. Import under a new name, ` +
      `or delete ${db} first (admin token): curl -X DELETE${token} ${client.urlOf(`/v1/databases/${encodeURIComponent(db)}`)}`,
    cause,
  });
}

export const importCommand: Command = {
  name: 'import',
  synopsis: [['import <url> <db> <sqlite-file> [--json]', 'upload a SQLite database as the snapshot of a new database']],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, REMOTE_OPTIONS, IMPORT_USAGE);
    if (values.help) {
      await io.out(IMPORT_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, IMPORT_USAGE);
    if (rest.length !== 2) throw new UsageError('import needs <db> and one <sqlite-file>', IMPORT_USAGE);
    const [db, file] = rest;
    const json = values.json === true;
    let r: ImportResult;
    try {
      r = await importDatabase(cliClient(config, io), db, file);
    } catch (e) {
      const info = { ...describeRemoteError(e), file };
      return reportRemoteFailure(io, info, json, { hint: e instanceof ImportError ? e.hint : undefined });
    }
    if (json) {
      await printJSON(io, r);
    } else {
      const what = r.status === 201 ? 'imported' : 'already committed';
      const rate = r.seconds > 0 ? (r.size / 1e6 / r.seconds).toFixed(1) : '∞';
      await io.out(
        `${r.status} ${what} ${file} → ${db} at TXID ${r.pos.txid} (${r.commit} pages of ${r.pageSize} bytes, ` +
          `${(r.size / 1e6).toFixed(1)} MB as ${(r.ltxBytes / 1e6).toFixed(1)} MB of LTX in ${r.seconds.toFixed(1)} s, ${rate} MB/s)\n`,
      );
    }
    return EXIT_OK;
  },
};
