// `ltx-edge restore <url> <db> -o <out.db> [--txid|--at]`: the command over src/remote/restore.ts (arguments, output, hints), and --in-place.

import { existsSync } from 'node:fs';
import { ApiClientError } from '../remote/http-client.ts';
import { type RestoreResult, restoreDatabase } from '../remote/restore.ts';
import { EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { Command } from './command.ts';
import {
  REMOTE_OPTIONS,
  REMOTE_OPTIONS_USAGE,
  cliClient,
  describeRemoteError,
  reportRemoteFailure,
  resolveClientConfig,
} from './remote-cli.ts';
import { restoreInPlace } from './restore-in-place.ts';

export const RESTORE_USAGE = `Usage: ltx-edge restore <url> <db> -o <out.db> [--txid HEX | --at TIME] [--force] [--verify]
                       [--if-db-not-exists] [--if-replica-exists] [--token T] [--json]
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
  --if-db-not-exists   exit 0 and touch nothing when <out.db> already exists (start-up scripts)
  --if-replica-exists  exit 0 and write nothing when <db> does not exist on the server, or has
                       nothing committed yet
${REMOTE_OPTIONS_USAGE}`;

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
        'if-db-not-exists': { type: 'boolean' },
        'if-replica-exists': { type: 'boolean' },
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
    const skipped = await skipReason(values, out, db, () => cliClient(config, io).databaseInfo(db));
    if (skipped !== undefined) {
      if (json) await printJSON(io, { skipped: true, reason: skipped });
      else await io.err(`ltx-edge: ${skipped}; nothing to do\n`);
      return EXIT_OK;
    }

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

/**
 * Why --if-db-not-exists / --if-replica-exists make this restore a no-op, or undefined. A server that
 * cannot be asked is not a reason: the restore then fails as it would have.
 */
async function skipReason(
  flags: { 'if-db-not-exists'?: boolean; 'if-replica-exists'?: boolean },
  out: string,
  db: string,
  info: () => Promise<{ pos: { txid: string } } | undefined>,
): Promise<string | undefined> {
  if (flags['if-db-not-exists'] && existsSync(out)) return `${out} already exists (--if-db-not-exists)`;
  if (flags['if-replica-exists']) {
    let r: { pos: { txid: string } } | undefined;
    try {
      r = await info();
    } catch {
      return undefined; // the server could not be asked: the restore reports why
    }
    if (r === undefined) return `${db} does not exist on the server (--if-replica-exists)`;
    if (/^0+$/.test(r.pos.txid)) return `${db} has nothing committed on the server (--if-replica-exists)`;
  }
  return undefined;
}

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
