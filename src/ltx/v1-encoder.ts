// Writes v1 LTX files (what LiteFS reads: ltx v0.3.x), optionally LZ4-compressed, and v1 snapshots of a database file.

import { pageChecksumLinear } from './checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from './constants.ts';
import { CRC64, crcLinear } from './crc64.ts';
import { fail } from './errors.ts';
import { checkPageSequence } from './page-order.ts';
import { type Header, isSnapshot, makeHeader, writeHeaderBytes } from './header.ts';
import type { LZ4BlockCompressor } from './lz4-block.ts';
import { LZ4FrameWriter } from './lz4-frame-stream.ts';
import { V1_HEADER_FLAG_COMPRESS_LZ4, V1_PAGE_HEADER_SIZE, validateV1Header } from './v1.ts';

const TERMINATOR = new Uint8Array(V1_PAGE_HEADER_SIZE);

/**
 * `start()`, `encodePage()` per page, `finish()`: the v0.3 encoder's rules (pgno ≤ Commit, no lock
 * page, ascending pages, snapshots 1, 2, … skipping the lock page; a valid trailer), plus snapshot
 * completeness. With header flag 0x1 the page block and its terminator go through one LZ4 frame
 * (64 KiB blocks, as pierrec/lz4 in ltx v0.3), so `encodePage` often returns nothing yet.
 */
export class V1Encoder {
  readonly header: Header;
  private readonly crc = new CRC64();
  private readonly lz: LZ4FrameWriter | undefined;
  private readonly lock: number;
  private readonly snapshot: boolean;
  private state: 'new' | 'pages' | 'done' = 'new';
  private prevPgno = 0;
  private pagesChecksum = EMPTY_DB_CHECKSUM;
  private readonly pgnoBytes = new Uint8Array(V1_PAGE_HEADER_SIZE);

  constructor(header: Header, compressor?: LZ4BlockCompressor) {
    this.header = { ...header };
    this.lz = header.flags & V1_HEADER_FLAG_COMPRESS_LZ4 ? new LZ4FrameWriter(compressor) : undefined;
    this.lock = lockPgno(header.pageSize);
    this.snapshot = isSnapshot(header);
  }

  /** The header (and the LZ4 frame descriptor when compressed). Validates the header (v1 rules). */
  start(): Uint8Array {
    if (this.state !== 'new') fail('LTX_INVALID_ARGUMENT', 'start() called twice');
    validateV1Header(this.header);
    const bytes = writeHeaderBytes(this.header);
    this.crc.update(bytes);
    this.state = 'pages';
    return this.lz ? concat([bytes, this.lz.start()]) : bytes;
  }

  /** Encodes one page; returns the bytes ready to send (maybe none while a compressed block fills). */
  encodePage(pgno: number, data: Uint8Array): Uint8Array {
    if (this.state !== 'pages') fail('LTX_INVALID_ARGUMENT', 'encodePage() outside start()/finish()');
    const h = this.header;
    if (!Number.isInteger(pgno) || pgno < 1) fail('LTX_INVALID_ARGUMENT', `invalid page number ${pgno}`);
    if (data.length !== h.pageSize) fail('LTX_INVALID_ARGUMENT', `page ${pgno} has ${data.length} bytes, not ${h.pageSize}`);
    checkPageSequence(pgno, this.prevPgno, h.commit, this.lock, this.snapshot);
    new DataView(this.pgnoBytes.buffer).setUint32(0, pgno);
    const lin = crcLinear(data);
    this.crc.update(this.pgnoBytes).appendLinear(lin);
    if (this.snapshot) this.pagesChecksum ^= pageChecksumLinear(pgno, lin);
    this.prevPgno = pgno;
    if (!this.lz) return concat([this.pgnoBytes, data]);
    return concat([...this.lz.write(this.pgnoBytes), ...this.lz.write(data)]);
  }

  /**
   * The terminator (and the end of the LZ4 frame) and the trailer. A snapshot computes its post-apply
   * checksum (a given one must agree); other files need it (bit 63 set; 8000000000000000 for Commit 0).
   */
  finish(postApplyChecksum?: bigint): Uint8Array {
    if (this.state !== 'pages') fail('LTX_INVALID_ARGUMENT', 'finish() before start() or twice');
    const h = this.header;
    if (this.snapshot) {
      const last = h.commit === this.lock ? h.commit - 1 : h.commit;
      if (this.prevPgno !== last) fail('LTX_SNAPSHOT_INCOMPLETE', `snapshot ends at page ${this.prevPgno}, commit is ${h.commit}`);
    }
    const post = this.resolvePostApply(postApplyChecksum);
    this.crc.update(TERMINATOR);
    const body = this.lz ? concat([...this.lz.write(TERMINATOR), this.lz.finish()]) : TERMINATOR;
    const trailer = new Uint8Array(16);
    const v = new DataView(trailer.buffer);
    v.setBigUint64(0, post);
    this.crc.update(trailer, 0, 8);
    v.setBigUint64(8, CHECKSUM_FLAG | this.crc.digest());
    this.state = 'done';
    return concat([body, trailer]);
  }

  private resolvePostApply(given: bigint | undefined): bigint {
    if (this.snapshot) {
      const computed = CHECKSUM_FLAG | this.pagesChecksum;
      if (given !== undefined && given !== computed)
        fail('LTX_POST_APPLY_MISMATCH', 'post-apply checksum does not match the snapshot pages');
      return computed;
    }
    if (given === undefined) fail('LTX_INVALID_ARGUMENT', 'post-apply checksum required');
    if ((given & CHECKSUM_FLAG) === 0n || given >= 1n << 64n) fail('LTX_INVALID_ARGUMENT', 'invalid post-apply checksum');
    if (this.header.commit === 0 && given !== EMPTY_DB_CHECKSUM) fail('LTX_INVALID_ARGUMENT', 'commit 0 needs the empty checksum');
    return given;
  }
}

/** Encodes a whole v1 file in memory; pages in file order. */
export function encodeV1(header: Header, pages: Iterable<{ pgno: number; data: Uint8Array }>, postApplyChecksum?: bigint): Uint8Array {
  const enc = new V1Encoder(header);
  const parts = [enc.start()];
  for (const p of pages) parts.push(enc.encodePage(p.pgno, p.data));
  parts.push(enc.finish(postApplyChecksum));
  return concat(parts);
}

/** What a v1 snapshot of a database file says about itself. */
export interface V1SnapshotOptions {
  pageSize: number;
  /** Database size in pages; the input must be exactly commit × pageSize bytes. */
  commit: number;
  maxTXID: bigint;
  /** Header timestamp, ms since the epoch. */
  timestamp: number;
  /** LZ4-compress the page block (header flag 0x1), as LiteFS Cloud served snapshots. Default true. */
  compress?: boolean;
  /** The rolling checksum the pages must add up to (0 or absent: not checked). */
  expectedChecksum?: bigint;
}

/** Output is batched to about this many bytes per chunk. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;

/**
 * The database file `db` (pages 1..commit, any chunking) as a v1 snapshot LTX (MinTXID 1): the lock
 * page left out, the post-apply checksum computed from the pages. Streams in ~64 KiB chunks; the
 * trailer comes only after exactly commit × pageSize bytes arrived (else LTX_TRUNCATED /
 * LTX_TRAILING_DATA) and the checksum agreed (else LTX_POST_APPLY_MISMATCH).
 */
export async function* encodeV1SnapshotFromDatabase(
  db: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: V1SnapshotOptions,
): AsyncGenerator<Uint8Array> {
  const { pageSize, commit } = opts;
  const flags = opts.compress === false ? 0 : V1_HEADER_FLAG_COMPRESS_LZ4;
  const enc = new V1Encoder(makeHeader({ flags, pageSize, commit, minTXID: 1n, maxTXID: opts.maxTXID, timestamp: opts.timestamp }));
  const lock = lockPgno(pageSize);
  let parts: Uint8Array[] = [enc.start()];
  let size = parts[0].length;
  const pending = new Uint8Array(pageSize); // encodePage copies it
  let filled = 0;
  let pgno = 0;
  for await (const chunk of db) {
    for (let i = 0; i < chunk.length; ) {
      const take = Math.min(chunk.length - i, pageSize - filled);
      pending.set(chunk.subarray(i, i + take), filled);
      filled += take;
      i += take;
      if (filled < pageSize) break;
      filled = 0;
      if (++pgno > commit) fail('LTX_TRAILING_DATA', `database is longer than ${commit} pages`);
      if (pgno !== lock) {
        const out = enc.encodePage(pgno, pending);
        if (out.length > 0) {
          parts.push(out);
          size += out.length;
        }
      }
      if (size >= OUTPUT_CHUNK_BYTES) {
        yield concat(parts);
        parts = [];
        size = 0;
      }
    }
  }
  if (filled !== 0 || pgno !== commit) fail('LTX_TRUNCATED', `database ended at page ${pgno} of ${commit}`);
  const expected = opts.expectedChecksum ? opts.expectedChecksum : undefined;
  parts.push(enc.finish(expected));
  yield concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
