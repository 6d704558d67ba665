// Positional reads from a file (Node): up to a length, looping over short reads — the agent's WAL, main-file and hold readers share these.

import type { FileHandle } from 'node:fs/promises';

/** Reads up to `length` bytes at `position` into `buf[0..]`, looping over short reads; returns how many arrived (fewer only at EOF). */
export async function readUpTo(file: FileHandle, buf: Uint8Array, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
