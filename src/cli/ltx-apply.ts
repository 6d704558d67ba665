// `ltx-edge ltx apply <out.db> <file>...`: apply a chain (snapshot first) to a new database file, atomically.

import { DatabaseState, applyLTX, formatHex64, formatTXID } from '../ltx/index.ts';
import { EXIT_OK, UsageError, describeError, parseCommandArgs, reportFailure } from './cli-errors.ts';
import { createAtomicFile } from '../remote/atomic-file.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import { FilePageSink, withFileChunks } from './file-io.ts';

export const APPLY_USAGE = `Usage: ltx-edge ltx apply <out.db> <file>... [--force] [--json]

Applies a chain of LTX files, a snapshot (MinTXID 1) first, each following the previous one's
MaxTXID, to a new SQLite database file. Pre- and post-apply checksums are checked as it goes.
The database is built in a temporary file beside <out.db> and renamed into place only when every
file applied; on failure nothing is left behind. Refuses to replace an existing <out.db> unless --force.`;

/** What `apply --json` prints. */
export interface ApplyResult {
  out: string;
  pageSize: number;
  commit: number;
  txid: string;
  postApplyChecksum: string;
  files: number;
  size: number;
}

/**
 * Applies `files` in order to a fresh database written at `out`. Throws ApplyFailure (naming the file,
 * its `cause` an LTXError or I/O error) when a file of the chain fails; CliError/Node errors about `out`.
 */
export async function applyChain(out: string, files: readonly string[], force: boolean): Promise<ApplyResult> {
  const file = createAtomicFile(out, force);
  try {
    const state = new DatabaseState();
    const sink = new FilePageSink(file.fd);
    for (const ltx of files) {
      try {
        await withFileChunks(ltx, (chunks) => applyLTX(state, chunks, sink));
      } catch (e) {
        throw new ApplyFailure(ltx, e);
      }
    }
    file.commit();
    return {
      out,
      pageSize: state.pageSize,
      commit: state.commit,
      txid: formatTXID(state.txid),
      postApplyChecksum: formatHex64(state.checksum),
      files: files.length,
      size: state.commit * state.pageSize,
    };
  } catch (e) {
    file.discard();
    throw e;
  }
}

/** An error while applying one file of the chain; `cause` is the LTXError or I/O error. */
export class ApplyFailure extends Error {
  readonly file: string;

  constructor(file: string, cause: unknown) {
    super(`applying ${file} failed`, { cause });
    this.name = 'ApplyFailure';
    this.file = file;
  }
}

export async function runApply(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { json: { type: 'boolean' }, force: { type: 'boolean', short: 'f' }, help: { type: 'boolean', short: 'h' } },
    APPLY_USAGE,
  );
  if (values.help) {
    await io.out(APPLY_USAGE + '\n');
    return EXIT_OK;
  }
  if (positionals.length < 2) throw new UsageError('ltx apply needs <out.db> and at least one LTX file', APPLY_USAGE);
  const [out, ...files] = positionals;
  const json = values.json === true;
  let result: ApplyResult;
  try {
    result = await applyChain(out, files, values.force === true);
  } catch (e) {
    if (e instanceof ApplyFailure) return reportFailure(io, { ...describeError(e.cause), file: e.file }, json);
    return reportFailure(io, { ...describeError(e), file: out }, json);
  }
  if (json) {
    await printJSON(io, result);
  } else {
    await io.out(
      `${out}: applied ${files.length} file(s), TXID ${result.txid}, ${result.commit} pages of ${result.pageSize} bytes, ` +
        `checksum ${result.postApplyChecksum}\n`,
    );
  }
  return EXIT_OK;
}
