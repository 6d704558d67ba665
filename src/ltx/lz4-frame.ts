// Reader for the LZ4 frame that holds one page in legacy v3 "frame" LTX files (ltx-format.md §3).

import { fail } from './errors.ts';
import { decompressBlock } from './lz4-block.ts';
import { xxh32 } from './xxh32.ts';

/** LZ4 frame magic number, stored little-endian as `04 22 4D 18`. */
export const LZ4_FRAME_MAGIC = 0x184d2204;

/**
 * Default for `lz4FrameLength`'s `maxLength`: a 64 KiB page plus 64 KiB of slack, far above the
 * 65536 + 19 bytes pierrec/lz4 writes for the largest page.
 */
export const DEFAULT_MAX_LZ4_FRAME_LENGTH = 128 * 1024;

// FLG byte (frame descriptor).
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
// BD byte: bit 7 and bits 3..0 reserved, bits 6..4 the block maximum size code (4..7).
const BD_RESERVED = 0x8f;

/** Block size word: bit 31 set means the block is stored uncompressed. */
const BLOCK_UNCOMPRESSED = 0x80000000;

/** Magic + FLG + BD + header checksum, without the optional content size. */
const MIN_HEADER_SIZE = 7;
const CONTENT_SIZE_SIZE = 8;

interface FrameHeader {
  flg: number;
  /** Block maximum size in bytes (64 KiB, 256 KiB, 1 MiB or 4 MiB). */
  blockMax: number;
  /** Frame header length in bytes (7 or 15). */
  size: number;
  /** Content size field when present; -1 otherwise. High word nonzero is reported as Infinity. */
  contentSize: number;
}

function u32le(byteAt: (i: number) => number, i: number): number {
  return (byteAt(i) | (byteAt(i + 1) << 8) | (byteAt(i + 2) << 16) | (byteAt(i + 3) << 24)) >>> 0;
}

/**
 * Parses and validates the frame header from whatever is available. Returns null when more
 * bytes are needed; throws LTX_BAD_PAGE_DATA as soon as an available byte is invalid.
 */
function parseHeader(byteAt: (i: number) => number, available: number): FrameHeader | null {
  if (available < 4) return null;
  if (u32le(byteAt, 0) !== LZ4_FRAME_MAGIC) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad magic');
  if (available < 5) return null;
  const flg = byteAt(4);
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: unsupported version');
  if (flg & FLG_RESERVED) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: reserved FLG bit set');
  if (flg & FLG_DICT_ID) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: dictionary ID not supported');
  if (available < 6) return null;
  const bd = byteAt(5);
  if (bd & BD_RESERVED) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: reserved BD bits set');
  const code = (bd >>> 4) & 7;
  if (code < 4) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: invalid block maximum size');
  const size = MIN_HEADER_SIZE + (flg & FLG_CONTENT_SIZE ? CONTENT_SIZE_SIZE : 0);
  if (available < size) return null;

  // Header checksum: second byte of xxh32 over the descriptor (FLG up to the checksum byte).
  const desc = new Uint8Array(size - 5);
  for (let i = 0; i < desc.length; i++) desc[i] = byteAt(4 + i);
  if (((xxh32(desc) >>> 8) & 0xff) !== byteAt(size - 1)) {
    fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad header checksum');
  }

  let contentSize = -1;
  if (flg & FLG_CONTENT_SIZE) {
    const lo = u32le(byteAt, 6);
    const hi = u32le(byteAt, 10);
    contentSize = hi === 0 ? lo : Infinity;
  }
  return { flg, blockMax: 1 << (8 + 2 * code), size, contentSize };
}

/**
 * Length in bytes of the LZ4 frame that starts at `byteAt(0)` (its magic), or -1 while fewer
 * than that many bytes are available. Reads only the header, block size words and the end mark,
 * never block data, so it is cheap to call again as bytes arrive. A non-negative result is
 * always ≤ `available`.
 *
 * Throws LTX_BAD_PAGE_DATA on an invalid header or block size, or as soon as the frame is known
 * to be longer than `maxLength` bytes (default DEFAULT_MAX_LZ4_FRAME_LENGTH), so a hostile file
 * cannot make a streaming reader buffer without bound. Callers pass about pageSize + 64 KiB.
 */
export function lz4FrameLength(byteAt: (i: number) => number, available: number, maxLength: number = DEFAULT_MAX_LZ4_FRAME_LENGTH): number {
  const header = parseHeader(byteAt, available);
  // Even the shortest frame (header and end mark) must fit.
  if (header === null) {
    checkMax(MIN_HEADER_SIZE + 4, maxLength);
    return -1;
  }
  const blockChecksumSize = header.flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
  const contentChecksumSize = header.flg & FLG_CONTENT_CHECKSUM ? 4 : 0;

  let pos = header.size;
  for (;;) {
    // The frame holds at least this block size word (or end mark) and the content checksum.
    checkMax(pos + 4 + contentChecksumSize, maxLength);
    if (available < pos + 4) return -1;
    const word = u32le(byteAt, pos);
    const blockSize = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    pos += 4;
    if (blockSize === 0) {
      // End mark (the reference decoder also treats a stored empty block as the end mark).
      const total = pos + contentChecksumSize;
      return available >= total ? total : -1;
    }
    if (blockSize > header.blockMax) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: block larger than the maximum size');
    pos += blockSize + blockChecksumSize;
  }
}

function checkMax(length: number, maxLength: number): void {
  if (length > maxLength) fail('LTX_BAD_PAGE_DATA', `LZ4 frame longer than ${maxLength} bytes`);
}

/**
 * Decodes the complete LZ4 frame `frame` (exactly one frame, no trailing bytes) into `dst`.
 * The content must be exactly `dst.length` bytes. Handles stored and compressed blocks,
 * independent or linked, and verifies block checksums, the content size and the content
 * checksum when the frame carries them. Throws LTX_BAD_PAGE_DATA on any mismatch.
 */
export function decodeLZ4Frame(frame: Uint8Array, dst: Uint8Array): void {
  const end = frame.length;
  const byteAt = (i: number): number => frame[i];
  const header = parseHeader(byteAt, end);
  if (header === null) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: truncated header');
  const { flg, blockMax } = header;
  if (header.contentSize !== -1 && header.contentSize !== dst.length) {
    fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: content size differs from the page size');
  }
  const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
  const blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;

  let pos = header.size;
  let d = 0;
  for (;;) {
    if (end - pos < 4) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: truncated block size');
    const word = u32le(byteAt, pos);
    pos += 4;
    const blockSize = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    if (blockSize === 0) break;
    if (blockSize > blockMax) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: block larger than the maximum size');
    if (end - pos < blockSize + (blockChecksums ? 4 : 0)) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: truncated block');
    const blockEnd = pos + blockSize;
    if (blockChecksums && xxh32(frame.subarray(pos, blockEnd)) !== u32le(byteAt, blockEnd)) {
      fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad block checksum');
    }
    const dstEnd = Math.min(dst.length, d + blockMax);
    if (word & BLOCK_UNCOMPRESSED) {
      if (blockSize > dstEnd - d) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: content longer than the page');
      dst.set(frame.subarray(pos, blockEnd), d);
      d += blockSize;
    } else {
      // Independent blocks see only their own output; linked ones may reach into earlier blocks.
      const block = frame.subarray(pos, blockEnd);
      d += independent ? decompressBlock(block, dst.subarray(d, dstEnd)) : decompressBlock(block, dst.subarray(0, dstEnd), d);
    }
    pos = blockEnd + (blockChecksums ? 4 : 0);
  }
  if (d !== dst.length) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: content shorter than the page');
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (end - pos < 4) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: truncated content checksum');
    if (xxh32(dst) !== u32le(byteAt, pos)) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: bad content checksum');
    pos += 4;
  }
  if (pos !== end) fail('LTX_BAD_PAGE_DATA', 'LZ4 frame: trailing bytes after the frame');
}
