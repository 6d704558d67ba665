// The ltx-edge CLI entry: global options, dispatch to one command file each, usage errors → exit 2 (DESIGN §5).

import { NAME, VERSION } from '../version.ts';
import { EXIT_OK, EXIT_USAGE, UsageError, describeError, reportFailure } from './cli-errors.ts';
import { type CliIO, printJSON, processIO } from './cli-io.ts';
import { type Command, formatSynopsis } from './command.ts';
import { databasesCommand, infoCommand } from './database-commands.ts';
import { importCommand } from './import.ts';
import { ltxCommand } from './ltx-commands.ts';
import { pushCommand } from './push.ts';
import { queryCommand } from './query.ts';
import { replicateCommand } from './replicate.ts';
import { restoreCommand } from './restore.ts';

/** Every top-level command; push, import, replicate, restore and query slot in here, one file each. */
export const COMMANDS: readonly Command[] = [
  ltxCommand,
  pushCommand,
  importCommand,
  replicateCommand,
  restoreCommand,
  queryCommand,
  databasesCommand,
  infoCommand,
];

export const USAGE = `${NAME} ${VERSION}: LTX files of Litestream/LiteFS on Cloudflare Workers

Usage:
${formatSynopsis(
  NAME,
  COMMANDS.flatMap((c) => c.synopsis),
)}
${formatSynopsis(NAME, [['--help | --version', 'this text | the version']])}

Every command takes --json for a stable, machine-readable output.
Exit status: 0 success, 1 invalid input or I/O error, 2 usage error.`;

/** Runs the CLI with the arguments after the script name; resolves to the exit status. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    await io.err(USAGE + '\n');
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    await io.out(USAGE + '\n');
    return EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    await io.out(`${VERSION}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command: ${name}`);
    return await command.run(rest, io);
  } catch (e) {
    const json = argv.includes('--json');
    if (e instanceof UsageError) {
      await io.err(`${NAME}: ${e.message}\n\n${e.usage ?? USAGE}\n`);
      if (json) await printJSON(io, { error: { code: 'USAGE', message: e.message } });
      return EXIT_USAGE;
    }
    // Commands report their own expected failures; whatever reaches here is unexpected.
    return reportFailure(io, describeError(e), json);
  }
}
