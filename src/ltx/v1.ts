// The v1 LTX format LiteFS still writes (ltx ≤ v0.3.x): its header rules and a strict streaming decoder (v1-convert.ts sniffs and converts).
//
// v1 (ltx-format.md §0; superfly/ltx v0.3.14 ltx.go, decoder.go, encoder.go):
//   header (100 bytes, as v3, but flags may only be 0x1 = HeaderFlagCompressLZ4, and there is no
//           NoChecksum mode: every file tracks the rolling checksum)
//   page block: per page a u32 BE pgno + PageSize raw bytes, then a u32 zero terminator; with flag
//           0x1 the whole block, terminator included, is one LZ4 frame that ends right after it
//   trailer: u64 PostApplyChecksum, u64 FileChecksum (never inside the LZ4 frame)
//   FileChecksum = ChecksumFlag | CRC-64/GO-ISO over the header, the *decompressed* page block and the
//   PostApplyChecksum, so it does not depend on compression. No page index.

import { ByteQueue } from './byte-queue.ts';
import { pageChecksumLinear } from './checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, HEADER_SIZE, TRAILER_SIZE, isValidPageSize, lockPgno } from './constants.ts';
import { CRC64, type CRCLinear, crcLinear } from './crc64.ts';
import { DEFAULT_DECODER_LIMITS, type DecoderLimits } from './decoder.ts';
import { fail } from './errors.ts';
import { type Header, decodeHeader, isSnapshot } from './header.ts';
import { checkPageSequence } from './page-order.ts';
import { LZ4FrameReader } from './lz4-frame-stream.ts';
import type { Trailer } from './page-index.ts';

/** v1 header flag: the page block is one LZ4 frame (`ltx.HeaderFlagCompressLZ4`, v0.3). */
export const V1_HEADER_FLAG_COMPRESS_LZ4 = 0x1;
/** v1 page header: just the u32 pgno (`ltx.PageHeaderSize` = 4 in v0.3). */
export const V1_PAGE_HEADER_SIZE = 4;

const INT64_MAX = (1n << 63n) - 1n;

/** v0.3 `Header.Validate`, plus what our Header type needs (a safe-integer timestamp). */
export function validateV1Header(h: Header): void {
  if ((h.flags & ~V1_HEADER_FLAG_COMPRESS_LZ4) !== 0)
    fail('LTX_BAD_FLAGS', `invalid v1 header flags: 0x${h.flags.toString(16).padStart(8, '0')}`);
  if (!isValidPageSize(h.pageSize)) fail('LTX_BAD_PAGE_SIZE', `invalid page size: ${h.pageSize}`);
  if (h.minTXID === 0n) fail('LTX_BAD_TXID', 'minimum transaction id required');
  if (h.maxTXID === 0n) fail('LTX_BAD_TXID', 'maximum transaction id required');
  if (h.minTXID > h.maxTXID) fail('LTX_BAD_TXID', `transaction ids out of order: (${h.minTXID},${h.maxTXID})`);
  if (!Number.isSafeInteger(h.timestamp)) fail('LTX_BAD_HEADER', `timestamp out of range: ${h.timestamp}`);
  if (h.walOffset < 0n || h.walOffset > INT64_MAX) fail('LTX_BAD_HEADER', 'wal offset cannot be negative');
  if (h.walSize < 0n || h.walSize > INT64_MAX) fail('LTX_BAD_HEADER', 'wal size cannot be negative');
  if ((h.walSalt1 !== 0 || h.walSalt2 !== 0) && (h.walOffset === 0n || h.walSize === 0n)) {
    fail('LTX_BAD_HEADER', 'wal salts require a wal offset and size');
  }
  if ((h.walOffset === 0n) !== (h.walSize === 0n)) fail('LTX_BAD_HEADER', 'wal offset and wal size go together');
  if (isSnapshot(h)) {
    if (h.preApplyChecksum !== 0n) fail('LTX_BAD_HEADER', 'pre-apply checksum must be zero on snapshots');
  } else {
    if (h.preApplyChecksum === 0n) fail('LTX_BAD_HEADER', 'pre-apply checksum required on non-snapshot files');
    if ((h.preApplyChecksum & CHECKSUM_FLAG) === 0n) fail('LTX_BAD_HEADER', 'invalid pre-apply checksum format');
  }
}

/** Parses and validates a v1 header. Strict: the reserved bytes must be zero (v0.3 writes them so). */
export function decodeV1Header(bytes: Uint8Array): Header {
  return decodeHeader(bytes, validateV1Header);
}

/** A page out of a v1 file. `data` may be a view of an input chunk: copy it to keep it past the next call. */
export interface V1Page {
  pgno: number;
  data: Uint8Array;
  /** The data's linear CRC part (see crc64.ts), for page checksums without another pass. */
  crc: CRCLinear;
}

export interface V1DecodeResult {
  header: Header;
  trailer: Trailer;
  pageCount: number;
  /** Bytes of the file as stored (compressed page block included). */
  size: number;
}

type Phase = 'header' | 'pages' | 'frameEnd' | 'trailer' | 'done';

/**
 * Strict streaming v1 decoder: `write()` chunks, take pages with `nextPage()`, then `end()`, which
 * throws unless a whole valid file came in. Besides what the v0.3 decoder checks (header, LZ4 frame
 * ending at the terminator, file checksum, snapshot post-apply) it enforces what the v0.3 encoder
 * guarantees: pages ascending and ≤ Commit, no lock page, snapshots complete, a valid trailer, no
 * trailing bytes. Only LTXError escapes. Memory: one LZ4 block and one page beyond the input queued.
 */
export class V1Decoder {
  private readonly limits: DecoderLimits;
  private readonly raw = new ByteQueue();
  private body = this.raw; // the decompressed page block when compressed
  private lz: LZ4FrameReader | undefined;
  private readonly crc = new CRC64();
  private phase: Phase = 'header';
  private h: Header | undefined;
  private lock = 0;
  private prevPgno = 0;
  private pageCount = 0;
  private pagesChecksum = EMPTY_DB_CHECKSUM;
  private written = 0; // bytes of input so far
  private trailer: Trailer | undefined;

  constructor(limits: Partial<DecoderLimits> = {}) {
    this.limits = { ...DEFAULT_DECODER_LIMITS, ...limits };
  }

  get header(): Header | undefined {
    return this.h;
  }

  write(chunk: Uint8Array): void {
    if (this.phase === 'done' && chunk.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
    this.written += chunk.length;
    this.raw.push(chunk);
  }

  /** Parses the header once its 100 bytes are queued. */
  readHeader(): Header | undefined {
    if (this.phase === 'header' && this.raw.length >= HEADER_SIZE) {
      const bytes = this.takeRaw(HEADER_SIZE);
      const h = decodeV1Header(bytes);
      if (h.pageSize > this.limits.maxPageSize) fail('LTX_LIMIT_EXCEEDED', `page size ${h.pageSize} over the limit`);
      this.crc.update(bytes);
      this.h = h;
      this.lock = lockPgno(h.pageSize);
      if (h.flags & V1_HEADER_FLAG_COMPRESS_LZ4) {
        this.lz = new LZ4FrameReader();
        this.body = new ByteQueue();
      }
      this.phase = 'pages';
    }
    return this.h;
  }

  /** The next page, or undefined when the queued input holds no further whole page. */
  nextPage(): V1Page | undefined {
    if (this.phase === 'header' && this.readHeader() === undefined) return undefined;
    for (;;) {
      switch (this.phase) {
        case 'pages': {
          const h = this.h!;
          if (!this.fill(V1_PAGE_HEADER_SIZE)) return undefined;
          const b0 = this.body.byteAt(0),
            b1 = this.body.byteAt(1),
            b2 = this.body.byteAt(2),
            b3 = this.body.byteAt(3);
          const pgno = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
          if (pgno === 0) {
            this.crc.update(this.takeBody(V1_PAGE_HEADER_SIZE));
            this.endOfPages();
            continue;
          }
          if (!this.fill(V1_PAGE_HEADER_SIZE + h.pageSize)) return undefined;
          this.checkPage(pgno);
          this.crc.update(this.takeBody(V1_PAGE_HEADER_SIZE));
          const data = this.takeBody(h.pageSize);
          const lin = crcLinear(data);
          this.crc.appendLinear(lin);
          if (isSnapshot(h)) this.pagesChecksum ^= pageChecksumLinear(pgno, lin);
          this.prevPgno = pgno;
          return { pgno, data, crc: lin };
        }
        case 'frameEnd': {
          // The v0.3 decoder reads one more byte and wants the frame's EOF: nothing may follow the terminator.
          if (this.body.length > 0) fail('LTX_BAD_PAGE_DATA', 'data after the page block terminator');
          const out = this.lz!.read(this.raw);
          if (out !== undefined && out.length > 0) fail('LTX_BAD_PAGE_DATA', 'data after the page block terminator');
          if (!this.lz!.ended) {
            if (out === undefined) return undefined;
            continue;
          }
          this.phase = 'trailer';
          continue;
        }
        case 'trailer': {
          if (this.raw.length < TRAILER_SIZE) return undefined;
          this.finishTrailer(this.takeRaw(TRAILER_SIZE));
          continue;
        }
        case 'done':
          if (this.raw.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
          return undefined;
        case 'header':
          return undefined;
      }
    }
  }

  /** Declares the end of input; throws unless a whole, valid file was written. */
  end(): V1DecodeResult {
    if (this.phase !== 'done') {
      // Decode whatever is still queued first: the caller may not have drained nextPage().
      while (this.nextPage() !== undefined);
    }
    if (this.phase !== 'done' || !this.h || !this.trailer) fail('LTX_TRUNCATED', `v1 file ends early (${this.phase})`);
    return { header: this.h, trailer: this.trailer, pageCount: this.pageCount, size: this.written - this.raw.length };
  }

  /** Makes `n` bytes of the page block available; false when the input has not got that far. */
  private fill(n: number): boolean {
    if (!this.lz) return this.raw.length >= n;
    while (this.body.length < n) {
      const out = this.lz.read(this.raw);
      if (out === undefined) {
        if (this.lz.ended) fail('LTX_TRUNCATED', 'the LZ4 frame ends inside the page block');
        return false;
      }
      if (this.lz.contentLength > this.limits.maxDecompressedBytes + this.h!.pageSize) {
        fail('LTX_LIMIT_EXCEEDED', 'decompressed size over the limit');
      }
      this.body.push(out);
    }
    return true;
  }

  private takeRaw(n: number): Uint8Array {
    return this.raw.read(n);
  }

  private takeBody(n: number): Uint8Array {
    return this.body.read(n);
  }

  private checkPage(pgno: number): void {
    const h = this.h!;
    if (++this.pageCount > this.limits.maxPages) fail('LTX_LIMIT_EXCEEDED', 'too many pages');
    if (this.pageCount * h.pageSize > this.limits.maxDecompressedBytes) fail('LTX_LIMIT_EXCEEDED', 'decompressed size over the limit');
    checkPageSequence(pgno, this.prevPgno, h.commit, this.lock, isSnapshot(h));
  }

  private endOfPages(): void {
    const h = this.h!;
    if (isSnapshot(h)) {
      const last = h.commit === this.lock ? h.commit - 1 : h.commit;
      if (this.prevPgno !== last) fail('LTX_SNAPSHOT_INCOMPLETE', `snapshot ends at page ${this.prevPgno}, commit ${h.commit}`);
    }
    this.phase = this.lz ? 'frameEnd' : 'trailer';
  }

  private finishTrailer(b: Uint8Array): void {
    const h = this.h!;
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const postApplyChecksum = v.getBigUint64(0);
    const fileChecksum = v.getBigUint64(8);
    this.crc.update(b, 0, 8);
    if ((CHECKSUM_FLAG | this.crc.digest()) !== fileChecksum) fail('LTX_FILE_CHECKSUM_MISMATCH', 'file checksum mismatch');
    if ((postApplyChecksum & CHECKSUM_FLAG) === 0n) fail('LTX_BAD_TRAILER', 'invalid post-apply checksum format');
    if (h.commit === 0 && postApplyChecksum !== EMPTY_DB_CHECKSUM) {
      fail('LTX_POST_APPLY_MISMATCH', 'an empty database has checksum 8000000000000000');
    }
    if (isSnapshot(h) && postApplyChecksum !== (CHECKSUM_FLAG | this.pagesChecksum)) {
      fail('LTX_POST_APPLY_MISMATCH', 'post-apply checksum does not match the snapshot pages');
    }
    this.trailer = { postApplyChecksum, fileChecksum };
    this.phase = 'done';
    if (this.raw.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
  }
}

/** Decodes a whole in-memory v1 file (tests, small files). */
export function decodeV1(
  bytes: Uint8Array,
  limits: Partial<DecoderLimits> = { maxDecompressedBytes: 1024 ** 3 },
): V1DecodeResult & { pages: V1Page[] } {
  const dec = new V1Decoder(limits);
  dec.write(bytes);
  const pages: V1Page[] = [];
  for (let p = dec.nextPage(); p; p = dec.nextPage()) pages.push({ ...p, data: p.data.slice() });
  return { ...dec.end(), pages };
}
