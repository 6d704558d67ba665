// Strict streaming LTX decoder: byte chunks in, verified pages out; file checksum and trailer checked at the end.

import { ByteQueue } from './byte-queue.ts';
import { ByteWriter } from './byte-writer.ts';
import {
  CHECKSUM_FLAG,
  EMPTY_DB_CHECKSUM,
  HEADER_SIZE,
  INDEX_LENGTH_FIELD_SIZE,
  MAX_PAGE_SIZE,
  PAGE_HEADER_FLAG_SIZE,
  PAGE_HEADER_SIZE,
  PAGE_SIZE_FIELD_SIZE,
  TRAILER_SIZE,
  lockPgno,
} from './constants.ts';
import { CRC64, type CRCLinear, crcLinear, pageCRCInto } from './crc64.ts';
import { fail } from './errors.ts';
import { checkPageSequence } from './page-order.ts';
import { type Header, decodeHeader, isSnapshot, tracksChecksums } from './header.ts';
import { decodeLZ4Frame, lz4FrameLength } from './lz4-frame.ts';
import { checkPageHeader, decodeBlockPayload, maxBlockPayload, maxLegacyFrame } from './page-frame.ts';
import { DEFAULT_MAX_INDEX_BYTES, type Trailer } from './page-index.ts';

/** Bounds that keep a hostile file from making the decoder allocate or loop without end. */
export interface DecoderLimits {
  /** Largest page size accepted (bytes). Default 65536, the format's own maximum. */
  maxPageSize: number;
  /** Most page frames in one file. Default 2^24 (64 GiB of 4 KiB pages). */
  maxPages: number;
  /** Most page-index bytes held to check the index against the frames. Default 64 MiB. */
  maxIndexBytes: number;
  /** Most decompressed page bytes in one file. Default 64 GiB. */
  maxDecompressedBytes: number;
}

export const DEFAULT_DECODER_LIMITS: DecoderLimits = {
  maxPageSize: MAX_PAGE_SIZE,
  maxPages: 1 << 24,
  maxIndexBytes: DEFAULT_MAX_INDEX_BYTES,
  maxDecompressedBytes: 64 * 1024 ** 3,
};

/** A page as it came out of the file, with its frame's place for the page index. */
export interface DecodedPage {
  pgno: number;
  data: Uint8Array;
  /** Absolute offset of the frame's page header. */
  offset: number;
  /** Whole frame size in bytes. */
  size: number;
  /** True for a legacy (LZ4 frame) page. */
  legacy: boolean;
  /** The data's linear CRC part: `pageChecksumLinear(pgno, crc)` is the page checksum without another pass. */
  crc: CRCLinear;
}

export interface DecodeResult {
  header: Header;
  trailer: Trailer;
  pageCount: number;
  /** Total file size in bytes. */
  size: number;
  /** Bytes from the page index's start to the end (index, its length, the trailer): see tailFacts. */
  indexBytes: number;
}

/** pageCRCInto's output for the decoder's per-page loop. */
const pageCRC = { hi: 0, lo: 0 };

/** Pages are cut from slabs of this many bytes (or 16 pages, if larger). */
const SLAB_BYTES = 256 * 1024;

type Phase = 'header' | 'pageHeader' | 'blockSize' | 'blockPayload' | 'legacyFrame' | 'index' | 'tail' | 'done';

/**
 * Push chunks with `push()`, which returns the pages they completed, then call `end()`.
 * Only LTXError escapes. Memory: one frame plus the expected page index (bounded by the limits).
 */
export class LTXDecoder {
  private readonly limits: DecoderLimits;
  private readonly q = new ByteQueue();
  private readonly crc = new CRC64();
  private phase: Phase = 'header';
  private h: Header | undefined;
  private lock = 0;
  private snapshot = false;
  private tracked = false;
  private pos = 0; // bytes consumed so far
  private prevPgno = 0;
  private pageCount = 0;
  // A tracked snapshot's pages' checksums XORed, flag bit left out, as uint32 halves (pageCRCInto).
  private pagesHi = 0;
  private pagesLo = 0;
  // The current frame between its header and its payload.
  private framePgno = 0;
  private frameOffset = 0;
  private frameHead: Uint8Array = new Uint8Array(PAGE_HEADER_SIZE + PAGE_SIZE_FIELD_SIZE);
  private blockSize = 0;
  // The index bytes the frames imply, compared with the file's own index as it streams by.
  private expectedIndex = new ByteWriter();
  private indexMatched = 0;
  private trailer: Trailer | undefined;
  private indexBytes = 0;
  private slab = new ArrayBuffer(0);
  private slabAt = 0;
  /** The caller's buffer for the page nextPage() is decoding, if it gave one. */
  private into: Uint8Array | undefined;
  /** step()'s output, at most one page long between calls. */
  private readonly out: DecodedPage[] = [];

  constructor(limits: Partial<DecoderLimits> = {}) {
    this.limits = { ...DEFAULT_DECODER_LIMITS, ...limits };
  }

  /** The header, once the first 100 bytes have been pushed. */
  get header(): Header | undefined {
    return this.h;
  }

  /** Queues a chunk without decoding it; pair with `nextPage()` to bound memory to one page at a time. */
  write(chunk: Uint8Array): void {
    if (this.phase === 'done' && chunk.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
    this.q.push(chunk);
  }

  /** Parses the header once its 100 bytes are queued, without decoding any page. */
  readHeader(): Header | undefined {
    if (this.phase === 'header') this.step([]);
    return this.h;
  }

  /**
   * Decodes up to the next page; undefined when the queued bytes hold no further whole page. With
   * `into` (exactly a page long) the page is decompressed into it: a caller done with each page
   * before it asks for another reuses one buffer and spares the decoder fresh memory per page.
   */
  nextPage(into?: Uint8Array): DecodedPage | undefined {
    const out = this.out;
    this.into = into;
    try {
      while (out.length === 0 && this.step(out));
    } finally {
      this.into = undefined;
    }
    return out.pop();
  }

  /** Queues a chunk and returns every page it completes (LZ4 can expand a chunk ~255×: prefer nextPage). */
  push(chunk: Uint8Array): DecodedPage[] {
    this.write(chunk);
    const pages: DecodedPage[] = [];
    for (let p = this.nextPage(); p; p = this.nextPage()) pages.push(p);
    return pages;
  }

  /** Declares the end of input; throws unless a whole, valid file was pushed. */
  end(): DecodeResult {
    if (this.phase !== 'done' || !this.h || !this.trailer) fail('LTX_TRUNCATED', `file ends early (${this.phase})`);
    return { header: this.h, trailer: this.trailer, pageCount: this.pageCount, size: this.pos, indexBytes: this.indexBytes };
  }

  private take(n: number): Uint8Array {
    this.pos += n;
    return this.q.read(n);
  }

  /** Advances one structural step if the bytes for it are there; false when it needs more input. */
  private step(out: DecodedPage[]): boolean {
    const q = this.q;
    switch (this.phase) {
      case 'header': {
        if (q.length < HEADER_SIZE) return false;
        const bytes = this.take(HEADER_SIZE);
        const h = decodeHeader(bytes);
        if (h.pageSize > this.limits.maxPageSize) fail('LTX_LIMIT_EXCEEDED', `page size ${h.pageSize} over the limit`);
        this.crc.update(bytes);
        this.h = h;
        this.lock = lockPgno(h.pageSize);
        this.snapshot = isSnapshot(h);
        this.tracked = tracksChecksums(h);
        this.phase = 'pageHeader';
        return true;
      }
      case 'pageHeader': {
        if (q.length < PAGE_HEADER_SIZE) return false;
        if (this.wholeBlockFrame(out)) return true;
        this.frameOffset = this.pos;
        const head = this.take(PAGE_HEADER_SIZE);
        this.frameHead.set(head);
        const pgno = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
        const flags = (head[4] << 8) | head[5];
        if (pgno === 0 && flags === 0) return this.endOfPages();
        checkPageHeader(pgno, flags);
        this.checkPageOrder(pgno);
        this.framePgno = pgno;
        this.phase = flags & PAGE_HEADER_FLAG_SIZE ? 'blockSize' : 'legacyFrame';
        return true;
      }
      case 'blockSize': {
        if (q.length < PAGE_SIZE_FIELD_SIZE) return false;
        const b = this.take(PAGE_SIZE_FIELD_SIZE);
        this.frameHead.set(b, PAGE_HEADER_SIZE);
        const n = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
        if (n === 0 || n > maxBlockPayload(this.h!.pageSize)) fail('LTX_BAD_PAGE_DATA', `bad compressed size ${n}`);
        this.blockSize = n;
        this.phase = 'blockPayload';
        return true;
      }
      case 'blockPayload': {
        if (q.length < this.blockSize) return false;
        const data = this.pageBuffer();
        decodeBlockPayload(this.take(this.blockSize), data);
        this.crc.update(this.frameHead, 0, PAGE_HEADER_SIZE + PAGE_SIZE_FIELD_SIZE);
        out.push(this.acceptPage(data, false));
        return true;
      }
      case 'legacyFrame': {
        const len = lz4FrameLength((i) => q.byteAt(i), q.length, maxLegacyFrame(this.h!.pageSize));
        if (len < 0) return false;
        const data = this.pageBuffer();
        decodeLZ4Frame(this.take(len), data);
        this.crc.update(this.frameHead, 0, PAGE_HEADER_SIZE);
        out.push(this.acceptPage(data, true));
        return true;
      }
      case 'index':
        return this.stepIndex();
      case 'tail': {
        if (q.length < INDEX_LENGTH_FIELD_SIZE + TRAILER_SIZE) return false;
        this.finishTail(this.take(INDEX_LENGTH_FIELD_SIZE + TRAILER_SIZE));
        if (q.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
        return false;
      }
      case 'done':
        if (q.length > 0) fail('LTX_TRAILING_DATA', 'bytes after the trailer');
        return false;
    }
  }

  /**
   * The common case in one step: a block frame (head, size, payload) wholly inside the queue's first
   * chunk is checked, checksummed and decompressed where it lies, with the same checks in the same
   * order as the step-by-step path, which takes everything else (end of pages, legacy frames, frames
   * across chunks). True when it decoded a page into `out`.
   */
  private wholeBlockFrame(out: DecodedPage[]): boolean {
    const chunk = this.q.headChunk;
    if (chunk === undefined) return false;
    const at = this.q.headOffset;
    const avail = chunk.length - at;
    const head = PAGE_HEADER_SIZE + PAGE_SIZE_FIELD_SIZE;
    if (avail < head || !(chunk[at + 5] & PAGE_HEADER_FLAG_SIZE) || chunk[at + 4] !== 0) return false;
    const n = ((chunk[at + 6] << 24) | (chunk[at + 7] << 16) | (chunk[at + 8] << 8) | chunk[at + 9]) >>> 0;
    if (avail < head + n) return false;
    const pgno = ((chunk[at] << 24) | (chunk[at + 1] << 16) | (chunk[at + 2] << 8) | chunk[at + 3]) >>> 0;
    checkPageHeader(pgno, (chunk[at + 4] << 8) | chunk[at + 5]);
    this.checkPageOrder(pgno);
    if (n === 0 || n > maxBlockPayload(this.h!.pageSize)) fail('LTX_BAD_PAGE_DATA', `bad compressed size ${n}`);
    this.framePgno = pgno;
    this.frameOffset = this.pos;
    const data = this.pageBuffer();
    decodeBlockPayload(chunk.subarray(at + head, at + head + n), data);
    this.crc.update(chunk, at, at + head);
    this.q.skip(head + n);
    this.pos += head + n;
    out.push(this.acceptPage(data, false));
    return true;
  }

  /**
   * The caller's buffer, or a fresh one for the next page cut from a slab of 16+ pages: allocating
   * every 4 KiB page on its own cost as much as decompressing it. A slab is freed once all its pages are dropped.
   */
  private pageBuffer(): Uint8Array {
    const size = this.h!.pageSize;
    if (this.into !== undefined) {
      if (this.into.length !== size) fail('LTX_INVALID_ARGUMENT', `nextPage(into): ${this.into.length} bytes for ${size}-byte pages`);
      return this.into;
    }
    if (this.slabAt + size > this.slab.byteLength) {
      this.slab = new ArrayBuffer(Math.max(size * 16, SLAB_BYTES));
      this.slabAt = 0;
    }
    const page = new Uint8Array(this.slab, this.slabAt, size);
    this.slabAt += size;
    return page;
  }

  private checkPageOrder(pgno: number): void {
    const h = this.h!;
    if (++this.pageCount > this.limits.maxPages) fail('LTX_LIMIT_EXCEEDED', 'too many pages');
    if (this.pageCount * h.pageSize > this.limits.maxDecompressedBytes) {
      fail('LTX_LIMIT_EXCEEDED', 'decompressed size over the limit');
    }
    checkPageSequence(pgno, this.prevPgno, h.commit, this.lock, this.snapshot);
  }

  private acceptPage(data: Uint8Array, legacy: boolean): DecodedPage {
    const pgno = this.framePgno;
    const lin = crcLinear(data);
    this.crc.appendLinear(lin);
    if (this.snapshot && this.tracked) {
      pageCRCInto(pgno, lin, pageCRC);
      this.pagesHi ^= pageCRC.hi;
      this.pagesLo ^= pageCRC.lo;
    }
    const size = this.pos - this.frameOffset;
    const idx = this.expectedIndex;
    idx.uvarint(pgno);
    idx.uvarint(this.frameOffset);
    idx.uvarint(size);
    if (idx.length >= this.limits.maxIndexBytes) fail('LTX_LIMIT_EXCEEDED', 'page index over the limit');
    this.prevPgno = pgno;
    this.phase = 'pageHeader';
    return { pgno, data, offset: this.frameOffset, size, legacy, crc: lin };
  }

  private endOfPages(): boolean {
    const h = this.h!;
    this.crc.update(this.frameHead, 0, PAGE_HEADER_SIZE);
    if (this.snapshot) {
      const last = h.commit === this.lock ? h.commit - 1 : h.commit;
      if (this.prevPgno !== last) fail('LTX_SNAPSHOT_INCOMPLETE', `snapshot ends at page ${this.prevPgno}, commit ${h.commit}`);
    }
    this.expectedIndex.byte(0);
    this.phase = 'index';
    return true;
  }

  /** Compares the file's index bytes with the ones the frames imply, without buffering them. */
  private stepIndex(): boolean {
    const expected = this.expectedIndex;
    const n = Math.min(this.q.length, expected.length - this.indexMatched);
    if (n === 0) return false;
    const got = this.take(n);
    for (let i = 0; i < n; i++) {
      if (got[i] !== expected.at(this.indexMatched + i)) fail('LTX_BAD_INDEX', 'page index disagrees with the page frames');
    }
    this.crc.update(got);
    this.indexMatched += n;
    if (this.indexMatched === expected.length) this.phase = 'tail';
    return true;
  }

  private finishTail(b: Uint8Array): void {
    const h = this.h!;
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    if (v.getBigUint64(0) !== BigInt(this.expectedIndex.length)) fail('LTX_BAD_INDEX', 'wrong page index length');
    const postApplyChecksum = v.getBigUint64(8);
    const fileChecksum = v.getBigUint64(16);
    this.crc.update(b, 0, 16);
    if ((CHECKSUM_FLAG | this.crc.digest()) !== fileChecksum) fail('LTX_FILE_CHECKSUM_MISMATCH', 'file checksum mismatch');
    if (!this.tracked) {
      if (postApplyChecksum !== 0n) fail('LTX_BAD_TRAILER', 'post-apply checksum must be 0 with NoChecksum');
      if (h.commit === 0) fail('LTX_BAD_TRAILER', 'a NoChecksum file cannot have commit 0');
    } else {
      if ((postApplyChecksum & CHECKSUM_FLAG) === 0n) fail('LTX_BAD_TRAILER', 'invalid post-apply checksum format');
      if (h.commit === 0 && postApplyChecksum !== EMPTY_DB_CHECKSUM) {
        fail('LTX_POST_APPLY_MISMATCH', 'an empty database has checksum 8000000000000000');
      }
      if (this.snapshot && postApplyChecksum !== (CHECKSUM_FLAG | (BigInt(this.pagesHi >>> 0) << 32n) | BigInt(this.pagesLo >>> 0))) {
        fail('LTX_POST_APPLY_MISMATCH', 'post-apply checksum does not match the snapshot pages');
      }
    }
    this.trailer = { postApplyChecksum, fileChecksum };
    this.indexBytes = this.expectedIndex.length + INDEX_LENGTH_FIELD_SIZE + TRAILER_SIZE;
    this.expectedIndex = new ByteWriter(0);
    this.phase = 'done';
  }
}

/** Decodes a whole in-memory file; pages are returned in file order. */
export function decodeLTX(
  bytes: Uint8Array,
  limits: Partial<DecoderLimits> = { maxDecompressedBytes: 1024 ** 3 },
): DecodeResult & { pages: DecodedPage[] } {
  const dec = new LTXDecoder(limits);
  const pages = dec.push(bytes);
  return { ...dec.end(), pages };
}

/** Decodes a stream of chunks, yielding pages as they are verified-so-far; throws at the end if the file is bad. */
export async function* decodeLTXStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: Partial<DecoderLimits> = {},
  onEnd?: (result: DecodeResult) => void,
): AsyncGenerator<DecodedPage> {
  const dec = new LTXDecoder(limits);
  for await (const chunk of chunks) {
    dec.write(chunk);
    for (let p = dec.nextPage(); p; p = dec.nextPage()) yield p;
  }
  const result = dec.end();
  onEnd?.(result);
}
