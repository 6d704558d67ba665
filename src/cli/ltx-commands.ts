// `ltx-edge ltx <inspect|verify|apply>`: the local LTX file commands, dispatched to one file each.

import { UsageError } from './cli-errors.ts';
import type { CliIO } from './cli-io.ts';
import { type Command, formatSynopsis } from './command.ts';
import { runLs } from './ltx-ls.ts';
import { runApply } from './ltx-apply.ts';
import { runInspect } from './ltx-inspect.ts';
import { runVerify } from './ltx-verify.ts';

const SUBCOMMANDS: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  inspect: runInspect,
  verify: runVerify,
  apply: runApply,
  ls: runLs,
};

const SYNOPSIS: Command['synopsis'] = [
  ['ltx inspect <file> [--json]', 'header, pages and trailer of one LTX file'],
  ['ltx verify <file>... [--json]', 'strict validation; exit 1 on the first invalid file'],
  ['ltx apply <out.db> <file>... [--force] [--json]', 'apply a chain (snapshot first) to a new database file'],
  ['ltx ls [<url>] <db> [--level N] [--json]', 'the LTX files the server holds for <db>, like litestream ltx'],
];

export const LTX_USAGE = `Usage:\n${formatSynopsis('ltx-edge', SYNOPSIS)}\n\nRun \`ltx-edge ltx <command> --help\` for details.`;

export const ltxCommand: Command = {
  name: 'ltx',
  synopsis: SYNOPSIS,
  async run(args: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined) throw new UsageError('ltx needs a command', LTX_USAGE);
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      await io.out(LTX_USAGE + '\n');
      return 0;
    }
    const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!run) throw new UsageError(`unknown ltx command: ${sub}`, LTX_USAGE);
    return run(rest, io);
  },
};
