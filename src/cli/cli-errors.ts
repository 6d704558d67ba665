// CLI error handling: usage errors (exit 2), failures with a stable code (exit 1), and argument parsing.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { LTXError } from '../ltx/index.ts';
import { OperationError } from '../remote/operation-error.ts';
import { type CliIO, printJSON } from './cli-io.ts';

/** Exit statuses of every command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1; // invalid input file, I/O error, refused operation
export const EXIT_USAGE = 2; // bad arguments

/** Bad arguments: main prints the message and `usage` (the command's, else the global one) on stderr, exit 2. */
export class UsageError extends Error {
  readonly usage: string | undefined;

  constructor(message: string, usage?: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** A failure the CLI itself decides on (e.g. a bad input file), with a stable code: an OperationError of the command layer. */
export class CliError extends OperationError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'CliError';
  }
}

/** What `--json` prints for a failure: a stable code, a human message, the file concerned if any. */
export interface ErrorInfo {
  code: string;
  message: string;
  file?: string;
}

/**
 * Maps anything thrown to a code: LTXError codes (LTX_*), Node system error codes (ENOENT, EISDIR,
 * EACCES…), OperationError (and CliError) codes; anything else is a bug and reported as INTERNAL.
 */
export function describeError(e: unknown): ErrorInfo {
  if (e instanceof LTXError || e instanceof OperationError) return { code: e.code, message: e.message };
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
      // Node's own messages start with the code ("ENOENT: no such file…"); it is printed separately.
      const message = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2) : e.message;
      return { code, message };
    }
    return { code: 'INTERNAL', message: e.stack ?? e.message };
  }
  return { code: 'INTERNAL', message: String(e) };
}

/** Reports a failure: `<file>: <CODE> message` on stderr, and `{"error": …}` on stdout with --json. */
export async function reportFailure(io: CliIO, info: ErrorInfo, json: boolean): Promise<number> {
  const where = info.file !== undefined ? `${info.file}: ` : '';
  await io.err(`ltx-edge: ${where}${info.code} ${info.message}\n`);
  if (json) await printJSON(io, { error: info });
  return EXIT_FAILURE;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs`, strict, positionals allowed; its errors become UsageErrors carrying `usage`. */
export function parseCommandArgs<const O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), usage);
  }
}
