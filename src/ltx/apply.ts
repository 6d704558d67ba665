// Apply a chain of LTX files (snapshot first) to a database, tracking its true rolling checksum.

import { pageChecksumLinear } from './checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from './constants.ts';
import { type CRCLinear, crcLinear } from './crc64.ts';
import type { DecoderLimits } from './decoder.ts';
import { fail } from './errors.ts';
import { type Header, tracksChecksums } from './header.ts';
import type { Trailer } from './page-index.ts';
import { type ByteSource, PageReader } from './page-reader.ts';

/** Where applied pages go: a file, memory, a DO's storage. Pages arrive before the file is fully verified. */
export interface PageSink {
  writePage(pgno: number, data: Uint8Array): void | Promise<void>;
  /** Sets the database size in pages; growing fills with zeros. */
  setCommit(pages: number, pageSize: number): void | Promise<void>;
}

/**
 * Where a database's per-page checksums live: memory here, SQLite in the Durable Object.
 * `undefined` means the page was never written (a zero page).
 */
export interface PageChecksumStore {
  get(pgno: number): bigint | undefined;
  set(pgno: number, sum: bigint): void;
  /** Forgets pages pgno, pgno+1, … (past a shrink, or past the old end before growth). */
  clearFrom(pgno: number): void;
}

/** Page checksums in a growable BigUint64Array (index pgno-1; 0 = never written). */
export class MemoryPageChecksums implements PageChecksumStore {
  private sums = new BigUint64Array(0);

  get(pgno: number): bigint | undefined {
    const s = pgno <= this.sums.length ? this.sums[pgno - 1] : 0n;
    return s === 0n ? undefined : s;
  }

  set(pgno: number, sum: bigint): void {
    if (pgno > this.sums.length) {
      const next = new BigUint64Array(Math.max(pgno, this.sums.length * 2));
      next.set(this.sums);
      this.sums = next;
    }
    this.sums[pgno - 1] = sum;
  }

  clearFrom(pgno: number): void {
    if (pgno <= this.sums.length) this.sums.fill(0n, pgno - 1);
  }
}

/**
 * The position and per-page checksums of a database, enough to verify the next file's pre-apply
 * checksum and compute the true post-apply checksum of files that carry none (Litestream's).
 */
export class DatabaseState {
  pageSize = 0;
  commit = 0;
  txid = 0n;
  checksum = EMPTY_DB_CHECKSUM;
  readonly sums: PageChecksumStore;
  private zero: CRCLinear | undefined;

  constructor(sums: PageChecksumStore = new MemoryPageChecksums()) {
    this.sums = sums;
  }

  /** Checksum of page `pgno` as it stands (a zero page if never written). */
  pageChecksumOf(pgno: number): bigint {
    const s = this.sums.get(pgno);
    if (s !== undefined) return s;
    if (this.zero?.length !== this.pageSize) this.zero = crcLinear(new Uint8Array(this.pageSize));
    return pageChecksumLinear(pgno, this.zero);
  }
}

/**
 * Applies one file to `state` and `sink`: contiguity (MinTXID = TXID+1), page size, pre-apply
 * checksum when the file tracks them, and the post-apply checksum against the pages.
 */
export async function applyLTX(
  state: DatabaseState,
  source: ByteSource,
  sink: PageSink,
  limits: Partial<DecoderLimits> = {},
  opts: { allowOverlap?: boolean } = {},
): Promise<{ header: Header; trailer: Trailer }> {
  const reader = new PageReader(source, limits);
  const h = await reader.open();
  // An overlapping file (a compaction that starts before the head, Litestream's levels) holds the
  // newest version of every page it touches, so applying it still lands on its MaxTXID.
  const overlaps = opts.allowOverlap === true && state.txid !== 0n && h.minTXID <= state.txid && h.maxTXID > state.txid;
  if (h.minTXID !== state.txid + 1n && !overlaps) {
    fail('LTX_NOT_CONTIGUOUS', `file ${h.minTXID}-${h.maxTXID} does not follow TXID ${state.txid}`);
  }
  if (state.txid !== 0n && h.pageSize !== state.pageSize) {
    fail('LTX_PAGE_SIZE_MISMATCH', `page size ${h.pageSize}, database has ${state.pageSize}`);
  }
  if (tracksChecksums(h) && state.txid !== 0n && !overlaps && h.preApplyChecksum !== state.checksum) {
    fail('LTX_PRE_APPLY_MISMATCH', 'pre-apply checksum does not match the database');
  }
  const update = new ChecksumUpdate(state, h);
  for (let p = await reader.next(); p; p = await reader.next()) {
    update.page(p.pgno, p.crc);
    await sink.writePage(p.pgno, p.data);
  }
  const post = update.finish();
  if (tracksChecksums(h) && reader.summary.trailer.postApplyChecksum !== post) {
    fail('LTX_POST_APPLY_MISMATCH', 'post-apply checksum does not match the database after apply');
  }
  await sink.setCommit(h.commit, h.pageSize);
  state.pageSize = h.pageSize;
  state.commit = h.commit;
  state.txid = h.maxTXID;
  state.checksum = post;
  return { header: h, trailer: reader.summary.trailer };
}

/**
 * The rolling checksum through one file's pages (ascending): each page's old checksum out and new
 * one in, pages past the old end start as zeros, a shrink drops the pages past the new commit.
 * Writes the new page checksums to `state.sums`; `finish()` returns the post-apply checksum.
 */
export class ChecksumUpdate {
  private readonly state: DatabaseState;
  private readonly commit: number;
  private readonly lock: number;
  private readonly oldCommit: number;
  private sum: bigint;
  private grownTo: number; // pages past the old end are accounted up to here

  constructor(state: DatabaseState, h: Header) {
    this.state = state;
    this.commit = h.commit;
    this.lock = lockPgno(h.pageSize);
    this.oldCommit = state.txid === 0n ? 0 : state.commit;
    this.grownTo = this.oldCommit;
    this.sum = state.checksum;
    state.pageSize = h.pageSize;
    state.sums.clearFrom(this.oldCommit + 1); // whatever lay past the old end is gone
  }

  page(pgno: number, crc: CRCLinear): void {
    const c = pageChecksumLinear(pgno, crc);
    if (pgno <= this.oldCommit) this.sum ^= this.state.pageChecksumOf(pgno);
    else this.growTo(pgno);
    this.sum ^= c;
    this.state.sums.set(pgno, c);
  }

  finish(): bigint {
    this.growTo(this.commit + 1); // unwritten pages of a grown database are zeros
    for (let pgno = this.commit + 1; pgno <= this.oldCommit; pgno++) {
      if (pgno !== this.lock) this.sum ^= this.state.pageChecksumOf(pgno); // a shrink drops these
    }
    this.state.sums.clearFrom(this.commit + 1);
    return CHECKSUM_FLAG | this.sum;
  }

  private growTo(pgno: number): void {
    for (let g = this.grownTo + 1; g < pgno; g++) if (g !== this.lock) this.sum ^= this.state.pageChecksumOf(g);
    this.grownTo = Math.max(this.grownTo, pgno);
  }
}
