// The LTX rolling checksum (ltx-format.md §6) of a database moving from one state to another page by page, so a local copy is checked against the server's position before it is trusted. Pure.

import { CHECKSUM_FLAG, lockPgno, pageChecksum } from '../ltx/index.ts';

/**
 * Follows a database from `checksum` over `oldCommit` pages to `newCommit` pages: tell it each page
 * written (at most once each, before the old one is overwritten), then finish(). Pages beyond
 * `newCommit` are dropped; pages a growth adds count as zeros until written (as SQLite reads a hole
 * in a file); the lock page never counts.
 */
export class MovingChecksum {
  private readonly oldCommit: number;
  private readonly newCommit: number;
  private readonly lock: number;
  private readonly zeros: Uint8Array;
  private c: bigint;

  constructor(checksum: bigint, pageSize: number, oldCommit: number, newCommit: number) {
    this.oldCommit = oldCommit;
    this.newCommit = newCommit;
    this.lock = lockPgno(pageSize);
    this.zeros = new Uint8Array(pageSize);
    this.c = checksum;
    for (let pgno = oldCommit + 1; pgno <= newCommit; pgno++) if (pgno !== this.lock) this.c ^= pageChecksum(pgno, this.zeros);
  }

  /** Page `pgno` becomes `data` (ignored beyond `newCommit` and for the lock page); `oldPage` reads what it is now. */
  write(pgno: number, data: Uint8Array, oldPage: (pgno: number) => Uint8Array): void {
    if (pgno > this.newCommit || pgno === this.lock) return;
    this.c ^= pageChecksum(pgno, pgno <= this.oldCommit ? oldPage(pgno) : this.zeros) ^ pageChecksum(pgno, data);
  }

  /** The checksum at `newCommit` pages; `oldPage` reads the pages a shrink drops (so call it before cutting the file). */
  finish(oldPage: (pgno: number) => Uint8Array): bigint {
    let c = this.c;
    for (let pgno = this.newCommit + 1; pgno <= this.oldCommit; pgno++) if (pgno !== this.lock) c ^= pageChecksum(pgno, oldPage(pgno));
    return CHECKSUM_FLAG | c;
  }
}

/** The checksum after one move writing `pages` (a shortcut for MovingChecksum). */
export function checksumAfterMove(
  checksum: bigint,
  pageSize: number,
  oldCommit: number,
  newCommit: number,
  pages: ReadonlyMap<number, Uint8Array>,
  oldPage: (pgno: number) => Uint8Array,
): bigint {
  const moving = new MovingChecksum(checksum, pageSize, oldCommit, newCommit);
  for (const [pgno, data] of pages) moving.write(pgno, data, oldPage);
  return moving.finish(oldPage);
}
