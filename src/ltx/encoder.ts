// Streaming LTX encoder: header, pages in, byte chunks out, in the current block format (ltx-format.md §9).

import { pageChecksumLinear } from './checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, HEADER_SIZE, PAGE_HEADER_SIZE, lockPgno } from './constants.ts';
import { CRC64, crcLinear } from './crc64.ts';
import { fail } from './errors.ts';
import { checkPageSequence } from './page-order.ts';
import { type Header, encodeHeader, isSnapshot, tracksChecksums } from './header.ts';
import { LZ4BlockCompressor } from './lz4-block.ts';
import { BLOCK_FRAME_OVERHEAD, encodePageFrame, maxBlockPayload } from './page-frame.ts';
import { encodePageIndex } from './page-index.ts';

const END_MARKER = new Uint8Array(PAGE_HEADER_SIZE);

/** Where an encoder is between pages: what `LTXEncoder.resume` continues from (a chunked snapshot's steps). */
export interface EncoderState {
  /** Bytes written so far (header and frames). */
  offset: number;
  prevPgno: number;
  /** The file checksum's CRC-64 of those bytes. */
  crc: bigint;
  /** A snapshot's page checksums XORed so far (without the flag bit). */
  pagesChecksum: bigint;
}

/** Index entries: parallel arrays, ascending pgno. */
export interface IndexEntries {
  pgnos: number[];
  offsets: number[];
  sizes: number[];
}

/**
 * Writes one LTX file as a sequence of chunks: `start()` (header), `encodePage()` per page, then
 * `finish()` (end marker, index, trailer). Enforces the reference writer's rules, and also that a
 * snapshot is complete. Memory: the page index (three numbers per page) plus one frame.
 */
export class LTXEncoder {
  readonly header: Header;
  private readonly compressor: LZ4BlockCompressor;
  private readonly scratch: Uint8Array;
  private crc = new CRC64();
  private readonly lock: number;
  private readonly snapshot: boolean;
  private state: 'new' | 'pages' | 'done' = 'new';
  private offset = HEADER_SIZE;
  private prevPgno = 0;
  private pageSum = 0n;
  private pgnos: number[] = [];
  private offsets: number[] = [];
  private sizes: number[] = [];

  constructor(header: Header, compressor?: LZ4BlockCompressor) {
    this.header = { ...header };
    this.compressor = compressor ?? new LZ4BlockCompressor();
    this.scratch = new Uint8Array(BLOCK_FRAME_OVERHEAD + maxBlockPayload(header.pageSize));
    this.lock = lockPgno(header.pageSize);
    this.snapshot = isSnapshot(header);
  }

  /**
   * An encoder that continues a file from `state` (after its header and some pages): its next page
   * must follow state.prevPgno. finish() then needs every index entry (`takeIndex` hands out those
   * of this encoder's own pages; the caller keeps the earlier ones).
   */
  static resume(header: Header, state: EncoderState, compressor?: LZ4BlockCompressor): LTXEncoder {
    const enc = new LTXEncoder(header, compressor);
    encodeHeader(enc.header); // validates, as start() would
    enc.state = 'pages';
    enc.offset = state.offset;
    enc.prevPgno = state.prevPgno;
    enc.crc = CRC64.fromDigest(state.crc);
    enc.pageSum = state.pagesChecksum;
    return enc;
  }

  /** Where this encoder is, for `resume`. */
  saveState(): EncoderState {
    return { offset: this.offset, prevPgno: this.prevPgno, crc: this.crc.digest(), pagesChecksum: this.pagesChecksum };
  }

  /** The index entries of the pages encoded since the last call (and forgets them). */
  takeIndex(): IndexEntries {
    const out = { pgnos: this.pgnos, offsets: this.offsets, sizes: this.sizes };
    this.pgnos = [];
    this.offsets = [];
    this.sizes = [];
    return out;
  }

  /** A snapshot's page checksums XORed so far (without the flag bit): the database checksum once every page is in. */
  get pagesChecksum(): bigint {
    return this.pageSum;
  }

  /** The 100 header bytes. Validates the header. */
  start(): Uint8Array {
    if (this.state !== 'new') fail('LTX_INVALID_ARGUMENT', 'start() called twice');
    const bytes = encodeHeader(this.header);
    this.crc.update(bytes);
    this.state = 'pages';
    return bytes;
  }

  /** One page frame. Pages ascend; a snapshot goes 1, 2, … skipping only the lock page. */
  encodePage(pgno: number, data: Uint8Array): Uint8Array {
    if (this.state !== 'pages') fail('LTX_INVALID_ARGUMENT', 'encodePage() outside start()/finish()');
    const h = this.header;
    if (!Number.isInteger(pgno) || pgno < 1) fail('LTX_INVALID_ARGUMENT', `invalid page number ${pgno}`);
    if (data.length !== h.pageSize) fail('LTX_INVALID_ARGUMENT', `page ${pgno} has ${data.length} bytes, not ${h.pageSize}`);
    checkPageSequence(pgno, this.prevPgno, h.commit, this.lock, this.snapshot);
    const frame = encodePageFrame(pgno, data, this.compressor, this.scratch);
    const lin = crcLinear(data);
    this.crc.update(frame, 0, BLOCK_FRAME_OVERHEAD).appendLinear(lin);
    if (this.snapshot) this.pageSum ^= pageChecksumLinear(pgno, lin);
    this.pgnos.push(pgno);
    this.offsets.push(this.offset);
    this.sizes.push(frame.length);
    this.offset += frame.length;
    this.prevPgno = pgno;
    return frame.slice();
  }

  /**
   * End marker, page index and trailer. `postApplyChecksum` is required for a non-snapshot that tracks
   * checksums; a snapshot computes its own (a given one must agree); NoChecksum files store 0.
   * `index`: every entry of the file, for an encoder made by `resume`.
   */
  finish(postApplyChecksum?: bigint, index?: IndexEntries): Uint8Array {
    if (this.state !== 'pages') fail('LTX_INVALID_ARGUMENT', 'finish() before start() or twice');
    const h = this.header;
    if (this.snapshot) {
      const last = h.commit === this.lock ? h.commit - 1 : h.commit;
      if (this.prevPgno !== last) {
        fail('LTX_SNAPSHOT_INCOMPLETE', `snapshot ends at page ${this.prevPgno}, commit is ${h.commit}`);
      }
    }
    const post = this.resolvePostApply(postApplyChecksum);
    const entries = index ?? { pgnos: this.pgnos, offsets: this.offsets, sizes: this.sizes };
    const encodedIndex = encodePageIndex(entries.pgnos, entries.offsets, entries.sizes);
    const tail = new Uint8Array(PAGE_HEADER_SIZE + encodedIndex.length + 16);
    tail.set(END_MARKER, 0);
    tail.set(encodedIndex, PAGE_HEADER_SIZE);
    const v = new DataView(tail.buffer);
    v.setBigUint64(tail.length - 16, post);
    this.crc.update(tail, 0, tail.length - 8);
    v.setBigUint64(tail.length - 8, CHECKSUM_FLAG | this.crc.digest());
    this.state = 'done';
    return tail;
  }

  private resolvePostApply(given: bigint | undefined): bigint {
    const h = this.header;
    if (!tracksChecksums(h)) {
      if (given !== undefined && given !== 0n) fail('LTX_INVALID_ARGUMENT', 'post-apply checksum must be 0 with NoChecksum');
      if (h.commit === 0) fail('LTX_INVALID_ARGUMENT', 'a NoChecksum file cannot have commit 0');
      return 0n;
    }
    if (this.snapshot) {
      const computed = CHECKSUM_FLAG | this.pageSum;
      if (given !== undefined && given !== computed) {
        fail('LTX_POST_APPLY_MISMATCH', 'post-apply checksum does not match the snapshot pages');
      }
      return computed;
    }
    if (given === undefined) fail('LTX_INVALID_ARGUMENT', 'post-apply checksum required');
    if ((given & CHECKSUM_FLAG) === 0n || given >= 1n << 64n) fail('LTX_INVALID_ARGUMENT', 'invalid post-apply checksum');
    if (h.commit === 0 && given !== EMPTY_DB_CHECKSUM) fail('LTX_INVALID_ARGUMENT', 'commit 0 needs the empty checksum');
    return given;
  }
}

/** A page to encode. */
export interface PageInput {
  pgno: number;
  data: Uint8Array;
}

/** Encodes a whole file in memory. Pages must already be in file order. */
export function encodeLTX(header: Header, pages: Iterable<PageInput>, postApplyChecksum?: bigint): Uint8Array {
  const enc = new LTXEncoder(header);
  const chunks = [enc.start()];
  for (const p of pages) chunks.push(enc.encodePage(p.pgno, p.data));
  chunks.push(enc.finish(postApplyChecksum));
  return concatBytes(chunks);
}

/** Encodes a file as a stream of chunks from pages that arrive asynchronously. */
export async function* encodeLTXStream(
  header: Header,
  pages: AsyncIterable<PageInput> | Iterable<PageInput>,
  postApplyChecksum?: bigint | (() => bigint | undefined),
): AsyncGenerator<Uint8Array> {
  const enc = new LTXEncoder(header);
  yield enc.start();
  for await (const p of pages) yield enc.encodePage(p.pgno, p.data);
  yield enc.finish(typeof postApplyChecksum === 'function' ? postApplyChecksum() : postApplyChecksum);
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
