// `ltx-edge ltx ls [<url>] <db> [--level N]`: the LTX files the server holds for a database, like `litestream ltx`.

import type { LtxFileJSON } from '../api/wire.ts';
import { listFiles } from '../remote/listings.ts';
import { EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import { bytes, table } from './database-commands.ts';
import {
  REMOTE_OPTIONS,
  REMOTE_OPTIONS_USAGE,
  cliClient,
  describeRemoteError,
  reportRemoteFailure,
  resolveClientConfig,
} from './remote-cli.ts';

export const LTX_LS_USAGE = `Usage: ltx-edge ltx ls [<url>] <db> [--level N] [--token T] [--json]

Lists the LTX files of database <db> on the server, level by level (0: one per push, 1–8: compacted,
9: snapshots), each with its TXID range, size, timestamp and post-apply checksum.

  --level N    only level N (0–9)
${REMOTE_OPTIONS_USAGE}`;

export async function runLs(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...REMOTE_OPTIONS, level: { type: 'string' } }, LTX_LS_USAGE);
  if (values.help) {
    await io.out(LTX_LS_USAGE + '\n');
    return EXIT_OK;
  }
  const { config, rest } = resolveClientConfig(positionals, values, LTX_LS_USAGE);
  if (rest.length !== 1) throw new UsageError('ltx ls needs one <db>', LTX_LS_USAGE);
  const level = values.level === undefined ? undefined : Number(values.level);
  if (level !== undefined && !(/^\d$/.test(values.level!) && level <= 9)) {
    throw new UsageError(`--level must be 0 to 9, got ${JSON.stringify(values.level)}`, LTX_LS_USAGE);
  }
  const [db] = rest;
  const client = cliClient(config, io);
  const files: LtxFileJSON[] = [];
  try {
    const info = await client.databaseInfo(db);
    if (!info) {
      return reportRemoteFailure(io, { code: 'NOT_FOUND', message: `database ${db} does not exist`, status: 404 }, values.json === true);
    }
    // Only the levels that hold files: the info counts them.
    for (const l of info.levels) if (level === undefined || l.level === level) files.push(...(await listFiles(client, db, l.level)));
  } catch (e) {
    return reportRemoteFailure(io, describeRemoteError(e), values.json === true);
  }
  if (values.json) {
    await printJSON(io, { files });
    return EXIT_OK;
  }
  await io.out(
    table(
      ['LEVEL', 'MIN_TXID', 'MAX_TXID', 'SIZE', 'TIMESTAMP', 'CHECKSUM'],
      files.map((f) => [String(f.level), f.minTXID, f.maxTXID, bytes(f.size), f.timestamp, f.postApplyChecksum]),
    ),
  );
  return EXIT_OK;
}
