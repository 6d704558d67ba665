// An output file written in full beside its final name, synced, then renamed into place: never a partial <out>.

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from './operation-error.ts';

/** A temporary file that becomes `out` on `commit()`, or disappears on `discard()` (or Ctrl-C). */
export interface AtomicFile {
  /** The final path. */
  readonly out: string;
  /** `.<name>.<random>.tmp` in the same directory (same file system, so the rename is atomic). */
  readonly tmp: string;
  /** Open for reading and writing; closed by commit() and discard(). */
  readonly fd: number;
  /** fsync, close, rename to `out` (re-checking that `out` did not appear meanwhile unless forced), fsync the directory. */
  commit(): void;
  /** Closes and removes the temporary file; safe to call twice, or after a failed commit. */
  discard(): void;
}

/** `out` exists and may not be replaced: code EEXIST, as Node would say it. */
export function existsError(out: string): OperationError {
  return new OperationError('EEXIST', `${out} already exists (use --force to replace it)`);
}

/**
 * Creates the temporary file for `out`. Throws EEXIST (OperationError) when `out` exists and `force` is
 * false, and Node's own errors (ENOENT for a missing directory, EACCES…) when the file cannot be made.
 * Until commit or discard, SIGINT/SIGTERM remove the temporary file before the process exits.
 */
export function createAtomicFile(out: string, force: boolean): AtomicFile {
  if (!force && existsSync(out)) throw existsError(out);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx+', 0o644);
  let open = true;
  let settled = false;
  const close = (): void => {
    if (!open) return;
    open = false;
    try {
      closeSync(fd);
    } catch {
      // Closing can only fail on a bad descriptor; the file is removed or renamed either way.
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    close();
    rmSync(tmp, { force: true });
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const settle = (): void => {
    settled = true;
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  };
  return {
    out,
    tmp,
    fd,
    commit(): void {
      if (settled) throw new Error('AtomicFile: commit after commit or discard');
      fsyncSync(fd);
      close();
      // Checked again: out may have appeared while we worked, and rename would silently replace it.
      if (!force && existsSync(out)) throw existsError(out);
      renameSync(tmp, out);
      settle();
      syncDirectory(path.dirname(out));
    },
    discard(): void {
      close();
      if (!settled) rmSync(tmp, { force: true });
      settle();
    },
  };
}

/** Makes a rename durable; best effort (not every platform can fsync a directory). */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The file itself is already synced; only the directory entry's durability is at stake.
  }
}
