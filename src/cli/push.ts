// `ltx-edge push <url> <db> <file.ltx>...`: push LTX files in order, each streamed from disk; stop at the first failure.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { Command } from './command.ts';
import { fileByteStream } from '../remote/byte-streams.ts';
import type { Head } from '../replication/ingest-rules.ts';
import type { PosJSON } from '../api/wire.ts';
import type { ApiClient } from '../remote/http-client.ts';
import { resolveClientConfig } from './remote-cli.ts';
import { type Progress, createProgress } from '../remote/progress.ts';
import { headFromInfo, headFromPush, preflight, readLTXHeader } from './push-preflight.ts';
import { REMOTE_OPTIONS, REMOTE_OPTIONS_USAGE, cliClient, describeRemoteError, reportRemoteFailure } from './remote-cli.ts';

export const PUSH_USAGE = `Usage: ltx-edge push <url> <db> <file.ltx>... [--token T] [--json]

Pushes LTX files to database <db>, in the order given, each streamed from disk. Each must follow the
database's position (MinTXID = TXID + 1, or a snapshot onto an empty database). Prints per file
"201 created <file> → <txid>" or "200 already committed <file> → <txid>" (a re-push of a committed
file is harmless). Stops at the first failure, exit 1, with the server's error code (409
POSITION_MISMATCH for a gap, 422 INVALID_LTX for a bad file). A file the server would refuse on its
header alone (a gap, a wrong page size, a bad header: the server's own rule, checked against the
position it last reported) is not uploaded. A progress bar shows on a terminal.

${REMOTE_OPTIONS_USAGE}`;

/** One line of `push --json`. */
export interface PushResult {
  file: string;
  status: number;
  pos: PosJSON;
}

/** Pushes one file from disk, streamed; `progress` counts bytes handed to the network. */
export async function pushFile(client: ApiClient, db: string, file: string, size: number, label = file): Promise<PushResult> {
  let progress: Progress | undefined;
  try {
    const { status, pos } = await client.pushLTX(
      db,
      () => {
        progress?.done(); // a retry starts a new bar
        const bar = createProgress({ label, total: size });
        progress = bar;
        return fileByteStream(file, { onBytes: (n) => bar.add(n) });
      },
      { contentLength: size },
    );
    return { file, status, pos };
  } finally {
    progress?.done();
  }
}

export const pushCommand: Command = {
  name: 'push',
  synopsis: [['push <url> <db> <file.ltx>... [--json]', 'push LTX files in order (streamed); stop at the first failure']],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, REMOTE_OPTIONS, PUSH_USAGE);
    if (values.help) {
      await io.out(PUSH_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, PUSH_USAGE);
    if (rest.length < 2) throw new UsageError('push needs <db> and at least one LTX file', PUSH_USAGE);
    const [db, ...files] = rest;
    const json = values.json === true;

    // Every file must be there before the first is pushed: a typo should not leave half a chain pushed.
    const sizes: number[] = [];
    for (const file of files) {
      try {
        const st = await stat(file);
        if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EISDIR' });
        sizes.push(st.size);
      } catch (e) {
        return reportRemoteFailure(io, { ...describeRemoteError(e), file }, json, { extra: { pushed: [] } });
      }
    }

    const client = cliClient(config, io);
    const results: PushResult[] = [];
    // The head as the server last told us (one GET before the first file, then each push's answer).
    let head: Head | undefined;
    let headKnown = false;
    for (const [i, file] of files.entries()) {
      let r: PushResult;
      try {
        const header = await readLTXHeader(file);
        if (!headKnown) {
          head = headFromInfo(await client.databaseInfo(db));
          headKnown = true;
        }
        preflight(head, header);
        const label = files.length > 1 ? `[${i + 1}/${files.length}] ${path.basename(file)}` : path.basename(file);
        r = await pushFile(client, db, file, sizes[i], label);
        head = headFromPush(r.pos, header.pageSize);
      } catch (e) {
        const info = { ...describeRemoteError(e), file };
        return reportRemoteFailure(io, info, json, { hint: hintFor(info.code, info.details), extra: { pushed: results } });
      }
      results.push(r);
      if (!json) {
        const what = r.status === 201 ? 'created' : 'already committed';
        await io.out(`${r.status} ${what} ${file} → ${r.pos.txid}\n`);
      }
    }
    if (json) await printJSON(io, results);
    return EXIT_OK;
  },
};

/** One line of advice for the failures a user can act on. */
function hintFor(code: string, details: Record<string, unknown> | undefined): string | undefined {
  const pos = details?.pos as PosJSON | undefined;
  switch (code) {
    case 'POSITION_MISMATCH':
      if (!pos) return undefined;
      if (/^0+$/.test(pos.txid)) return 'the database is empty: push a snapshot (MinTXID 1) first';
      return `the database is at TXID ${pos.txid} (checksum ${pos.postApplyChecksum}): push the file that starts at the next TXID`;
    case 'UNAUTHORIZED':
      return 'give a token with --token or $LTX_EDGE_TOKEN';
    case 'FORBIDDEN':
      return 'the token needs the write scope for this database';
    default:
      return undefined;
  }
}
