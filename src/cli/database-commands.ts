// `ltx-edge databases` and `ltx-edge info <db>`: what the server holds — names, heads, sizes, maintenance lag; one database's levels and oldest restorable point.

import type { DatabaseEntryJSON, DatabaseInfoJSON } from '../api/wire.ts';
import { listDatabases } from '../remote/listings.ts';
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

export const DATABASES_USAGE = `Usage: ltx-edge databases [<url>] [--token T] [--json]

Lists every database the token may read: name, head TXID, size, last write, and how far its
maintenance (compaction, snapshots, retention) is behind schedule.
${REMOTE_OPTIONS_USAGE}`;

export const INFO_USAGE = `Usage: ltx-edge info [<url>] <db> [--token T] [--json]

One database: its head, page size and size, the LTX files and bytes of each level, the oldest state a
restore can still reach (what retention keeps), and writes queued behind the one running.
${REMOTE_OPTIONS_USAGE}`;

/** A database in the listing, with its maintenance lag worked out. */
export interface DatabaseRow extends DatabaseEntryJSON {
  /** Seconds maintenance is overdue (0 when on time or nothing is due). */
  maintenanceLagSeconds: number;
}

export const databasesCommand: Command = {
  name: 'databases',
  synopsis: [['databases [<url>] [--json]', 'list the databases: heads, sizes, maintenance lag']],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, REMOTE_OPTIONS, DATABASES_USAGE);
    if (values.help) {
      await io.out(DATABASES_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, DATABASES_USAGE);
    if (rest.length > 0) throw new UsageError(`databases takes no arguments besides <url>, got ${rest[0]}`, DATABASES_USAGE);
    let rows: DatabaseRow[];
    try {
      const now = Date.now();
      rows = (await listDatabases(cliClient(config, io))).map((d) => ({
        ...d,
        maintenanceLagSeconds: d.nextDue ? Math.max(0, Math.round((now - d.nextDue) / 1000)) : 0,
      }));
    } catch (e) {
      return reportRemoteFailure(io, describeRemoteError(e), values.json === true);
    }
    if (values.json) {
      await printJSON(io, { databases: rows });
      return EXIT_OK;
    }
    await io.out(
      table(
        ['NAME', 'TXID', 'SIZE', 'PAGE', 'UPDATED', 'MAINT LAG'],
        rows.map((d) => [
          d.name,
          d.pos.txid,
          bytes(d.size),
          String(d.pageSize),
          d.updatedAt,
          d.maintenanceLagSeconds ? `${d.maintenanceLagSeconds}s` : '-',
        ]),
      ),
    );
    return EXIT_OK;
  },
};

export const infoCommand: Command = {
  name: 'info',
  synopsis: [['info [<url>] <db> [--json]', "one database: levels, retention's oldest restorable point"]],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, REMOTE_OPTIONS, INFO_USAGE);
    if (values.help) {
      await io.out(INFO_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, INFO_USAGE);
    if (rest.length !== 1) throw new UsageError('info needs one <db>', INFO_USAGE);
    const [db] = rest;
    let info: DatabaseInfoJSON | undefined;
    try {
      info = await cliClient(config, io).databaseInfo(db);
    } catch (e) {
      return reportRemoteFailure(io, describeRemoteError(e), values.json === true);
    }
    if (!info)
      return reportRemoteFailure(io, { code: 'NOT_FOUND', message: `database ${db} does not exist`, status: 404 }, values.json === true);
    if (values.json) {
      await printJSON(io, info);
      return EXIT_OK;
    }
    const lines = [
      `${info.name}: TXID ${info.pos.txid} (checksum ${info.pos.postApplyChecksum})`,
      `size ${bytes(info.size)} (${info.commit} pages of ${info.pageSize} B); created ${info.createdAt}, last write ${info.updatedAt}`,
      info.oldest
        ? `oldest restorable: TXID ${info.oldest.txid}, committed ${info.oldest.timestamp}`
        : 'oldest restorable: nothing committed yet',
      `writes queued: ${info.pendingWrites}`,
      '',
      table(
        ['LEVEL', 'FILES', 'BYTES'],
        info.levels.map((l) => [l.level === 9 ? '9 (snapshots)' : String(l.level), String(l.files), bytes(l.bytes)]),
      ).trimEnd(),
    ];
    await io.out(lines.join('\n') + '\n');
    return EXIT_OK;
  },
};

/** Columns padded to their widest cell, two spaces apart. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
