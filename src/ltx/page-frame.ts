// One page frame: 6-byte page header, then a sized LZ4 block (current) or an LZ4 frame (legacy) (ltx-format.md §3).

import { PAGE_HEADER_FLAG_SIZE, PAGE_HEADER_SIZE, PAGE_SIZE_FIELD_SIZE } from './constants.ts';
import { fail } from './errors.ts';
import { compressBound, decompressBlock, type LZ4BlockCompressor } from './lz4-block.ts';
import { decodeLZ4Frame, lz4FrameLength } from './lz4-frame.ts';

/** Bytes of a block-format frame before the payload. */
export const BLOCK_FRAME_OVERHEAD = PAGE_HEADER_SIZE + PAGE_SIZE_FIELD_SIZE;
/** Extra room a legacy LZ4 frame may take beyond the page itself (headers, block words, checksums). */
export const LEGACY_FRAME_SLACK = 64;

/** Largest payload a block frame may carry for a page size: what a compressor could emit. */
export function maxBlockPayload(pageSize: number): number {
  return compressBound(pageSize);
}

/** Largest legacy LZ4 frame a page of this size may take. */
export function maxLegacyFrame(pageSize: number): number {
  return compressBound(pageSize) + LEGACY_FRAME_SLACK;
}

/**
 * Encodes a block-format frame into `scratch` (≥ BLOCK_FRAME_OVERHEAD + compressBound(page size))
 * and returns the frame as a view of it.
 */
export function encodePageFrame(pgno: number, data: Uint8Array, compressor: LZ4BlockCompressor, scratch: Uint8Array): Uint8Array {
  const n = compressor.compress(data, scratch.subarray(BLOCK_FRAME_OVERHEAD));
  const v = new DataView(scratch.buffer, scratch.byteOffset, BLOCK_FRAME_OVERHEAD);
  v.setUint32(0, pgno);
  v.setUint16(4, PAGE_HEADER_FLAG_SIZE);
  v.setUint32(6, n);
  return scratch.subarray(0, BLOCK_FRAME_OVERHEAD + n);
}

/** Validates a page header's flags (only bit 0 is legal) and pgno (non-zero); returns the flags. */
export function checkPageHeader(pgno: number, flags: number): number {
  if (pgno === 0) fail('LTX_BAD_PAGE_HEADER', 'page number 0 in a page frame');
  if ((flags & ~PAGE_HEADER_FLAG_SIZE) !== 0) {
    fail('LTX_BAD_PAGE_HEADER', `invalid page header flags: 0x${flags.toString(16).padStart(4, '0')}`);
  }
  return flags;
}

/** Decompresses a block payload into `dst`, which must come out exactly dst.length bytes. */
export function decodeBlockPayload(payload: Uint8Array, dst: Uint8Array): void {
  const n = decompressBlock(payload, dst);
  if (n !== dst.length) fail('LTX_BAD_PAGE_DATA', `page decompressed to ${n} bytes, expected ${dst.length}`);
}

/**
 * Decodes exactly one whole frame, as range-read from `[offset, offset+size)` of a file's page index.
 * Both encodings. Returns the page number and a fresh page buffer.
 */
export function decodePageFrame(frame: Uint8Array, pageSize: number): { pgno: number; data: Uint8Array } {
  if (frame.length < PAGE_HEADER_SIZE) fail('LTX_TRUNCATED', 'page frame truncated');
  const v = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const pgno = v.getUint32(0);
  const flags = checkPageHeader(pgno, v.getUint16(4));
  const data = new Uint8Array(pageSize);
  if (flags & PAGE_HEADER_FLAG_SIZE) {
    if (frame.length < BLOCK_FRAME_OVERHEAD) fail('LTX_TRUNCATED', 'page frame truncated');
    const n = v.getUint32(6);
    if (n === 0 || n > maxBlockPayload(pageSize)) fail('LTX_BAD_PAGE_DATA', `bad compressed size ${n}`);
    if (frame.length !== BLOCK_FRAME_OVERHEAD + n) fail('LTX_BAD_PAGE_DATA', 'frame size disagrees with its length field');
    decodeBlockPayload(frame.subarray(BLOCK_FRAME_OVERHEAD), data);
  } else {
    const body = frame.subarray(PAGE_HEADER_SIZE);
    const len = lz4FrameLength((i) => body[i], body.length, maxLegacyFrame(pageSize));
    if (len !== body.length) fail('LTX_BAD_PAGE_DATA', 'legacy LZ4 frame length disagrees with the frame size');
    decodeLZ4Frame(body, data);
  }
  return { pgno, data };
}
