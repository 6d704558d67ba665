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
  /** True when writePage is done with `data` once it returns (it copies or drops it): pages are then decoded into recycled buffers. */
  readonly releasesPages?: boolean;
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
  /** The written pages in [from, to] with their checksums (cost: the pages written there, not the range). */
  stored(from: number, to: number): Iterable<[number, bigint]>;
}

/** Pages up to this number live in a dense array; higher ones (sparse, hostile) in a Map. */
const DENSE_PAGES = 1 << 24;

/** Page checksums in a growable BigUint64Array (index pgno-1; 0 = never written), sparse beyond 2^24. */
export class MemoryPageChecksums implements PageChecksumStore {
  private sums = new BigUint64Array(0);
  private readonly sparse = new Map<number, bigint>();

  get(pgno: number): bigint | undefined {
    if (pgno > DENSE_PAGES) return this.sparse.get(pgno);
    const s = pgno <= this.sums.length ? this.sums[pgno - 1] : 0n;
    return s === 0n ? undefined : s;
  }

  set(pgno: number, sum: bigint): void {
    if (pgno > DENSE_PAGES) {
      this.sparse.set(pgno, sum);
      return;
    }
    if (pgno > this.sums.length) {
      const next = new BigUint64Array(Math.min(DENSE_PAGES, Math.max(pgno, this.sums.length * 2)));
      next.set(this.sums);
      this.sums = next;
    }
    this.sums[pgno - 1] = sum;
  }

  clearFrom(pgno: number): void {
    if (pgno <= this.sums.length) this.sums.fill(0n, pgno - 1);
    for (const p of this.sparse.keys()) if (p >= pgno) this.sparse.delete(p);
  }

  *stored(from: number, to: number): Iterable<[number, bigint]> {
    for (let pgno = from; pgno <= Math.min(to, this.sums.length); pgno++) {
      const s = this.sums[pgno - 1];
      if (s !== 0n) yield [pgno, s];
    }
    const high = [...this.sparse].filter(([p]) => p >= from && p <= to).sort((a, b) => a[0] - b[0]);
    yield* high;
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
    return s !== undefined ? s : this.zeroPageChecksum(pgno);
  }

  /** `ltx.ChecksumPage(pgno, zeros)`. */
  zeroPageChecksum(pgno: number): bigint {
    if (this.zero?.length !== this.pageSize) this.zero = crcLinear(new Uint8Array(this.pageSize));
    return pageChecksumLinear(pgno, this.zero);
  }

  /**
   * XOR of the zero-page checksums of `count` pages whose numbers XOR to `pgnoXor`, in O(1):
   * the CRC is affine in the 4 pgno bytes, so c(g) = K ⊕ M·g and the XOR over a set is
   * M·(⊕g) ⊕ (count odd ? K : 0) = c(⊕g) ⊕ (count even ? c(0) : 0). Growth by 2^32 pages costs
   * the same as growth by one.
   */
  zeroPagesChecksum(pgnoXor: number, count: number): bigint {
    if (count === 0) return 0n;
    const c = this.zeroPageChecksum(pgnoXor);
    return count % 2 === 1 ? c : c ^ this.zeroPageChecksum(0);
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
): Promise<{ header: Header; trailer: Trailer; indexBytes: number }> {
  const reader = new PageReader(source, limits, { recycle: sink.releasesPages === true });
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
  return { header: h, trailer: reader.summary.trailer, indexBytes: reader.summary.indexBytes };
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
    if (this.commit < this.oldCommit) {
      // A shrink drops pages commit+1..oldCommit: the written ones by their checksums, the rest as zero pages.
      const from = this.commit + 1;
      let pgnoXor = 0;
      let count = 0;
      for (const [pgno, sum] of this.state.sums.stored(from, this.oldCommit)) {
        this.sum ^= sum;
        pgnoXor = (pgnoXor ^ pgno) >>> 0;
        count++;
      }
      this.xorZeroPages(from, this.oldCommit, pgnoXor, count);
    }
    this.state.sums.clearFrom(this.commit + 1);
    return CHECKSUM_FLAG | this.sum;
  }

  /** Accounts the never-written pages between the last page seen past the old end and `pgno`. */
  private growTo(pgno: number): void {
    if (pgno - 1 > this.grownTo) this.xorZeroPages(this.grownTo + 1, pgno - 1, 0, 0);
    this.grownTo = Math.max(this.grownTo, pgno);
  }

  /** XORs in the zero pages of [from, to] other than the lock page and `skipCount` written ones (XOR `skipXor`). */
  private xorZeroPages(from: number, to: number, skipXor: number, skipCount: number): void {
    let pgnoXor = (xorUpTo(to) ^ xorUpTo(from - 1) ^ skipXor) >>> 0;
    let count = to - from + 1 - skipCount;
    if (this.lock >= from && this.lock <= to) {
      pgnoXor = (pgnoXor ^ this.lock) >>> 0;
      count--;
    }
    this.sum ^= this.state.zeroPagesChecksum(pgnoXor, count);
  }
}

/** 1 ^ 2 ^ … ^ n for 0 ≤ n < 2^32. */
function xorUpTo(n: number): number {
  switch (n % 4) {
    case 0:
      return n >>> 0;
    case 1:
      return 1;
    case 2:
      return (n + 1) >>> 0;
    default:
      return 0;
  }
}
