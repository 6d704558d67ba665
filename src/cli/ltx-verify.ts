// `ltx-edge ltx verify <file>... [--json]`: strict validation of each file, stopping at the first invalid one.

import { LTXDecoder } from '../ltx/index.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, describeError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import { withFileChunks } from './file-io.ts';

export const VERIFY_USAGE = `Usage: ltx-edge ltx verify <file>... [--json]

Strictly validates each LTX file in turn (header rules, page order, LZ4 data, page index, checksums),
streaming it from disk. Stops at the first invalid or unreadable file and exits 1.`;

/** One entry of `verify --json` (DESIGN §5); `code`/`message` only when not ok. */
export interface VerifyEntry {
  file: string;
  ok: boolean;
  code?: string;
  message?: string;
}

/** Decodes the whole file and drops the pages; throws LTXError or an I/O error. */
export async function verifyFile(file: string): Promise<void> {
  const dec = new LTXDecoder();
  await withFileChunks(file, async (chunks) => {
    for await (const chunk of chunks) dec.push(chunk);
  });
  dec.end();
}

export async function runVerify(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    VERIFY_USAGE,
  );
  if (values.help) {
    await io.out(VERIFY_USAGE + '\n');
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('ltx verify needs at least one file', VERIFY_USAGE);
  const json = values.json === true;
  const entries: VerifyEntry[] = [];
  for (const file of positionals) {
    let entry: VerifyEntry;
    try {
      await verifyFile(file);
      entry = { file, ok: true };
    } catch (e) {
      const { code, message } = describeError(e);
      entry = { file, ok: false, code, message };
    }
    entries.push(entry);
    if (!json) {
      await io.out(entry.ok ? `ok  ${file}\n` : `FAIL ${file}: ${entry.code} ${entry.message}\n`);
    }
    if (!entry.ok) break;
  }
  if (json) await printJSON(io, entries);
  return entries.every((e) => e.ok) ? EXIT_OK : EXIT_FAILURE;
}
