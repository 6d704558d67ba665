// The page index (uvarint triples pgno/offset/size, 0, u64 length) and the trailer (ltx-format.md §4, §5, §12).

import { ESTIMATED_PAGE_INDEX_SIZE, HEADER_SIZE, INDEX_LENGTH_FIELD_SIZE, PAGE_HEADER_SIZE, TRAILER_SIZE } from './constants.ts';
import { ByteWriter } from './byte-writer.ts';
import { fail } from './errors.ts';

/** A decoded page index as parallel typed arrays, ascending by pgno (binary-searchable). */
export interface PageIndex {
  pgnos: Uint32Array;
  /** Absolute offset of each frame's page header in the file. */
  offsets: Float64Array;
  /** Whole frame size: page header, size field (block format) and payload. */
  sizes: Uint32Array;
}

export interface Trailer {
  postApplyChecksum: bigint;
  fileChecksum: bigint;
}

/** Default cap on index bytes a decoder will hold: 64 MiB ≈ 8M pages ≈ 32 GiB of 4 KiB pages. */
export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Bytes after the index varints: the u64 length field and the trailer. */
export const INDEX_TAIL_SIZE = INDEX_LENGTH_FIELD_SIZE + TRAILER_SIZE;

/** Position of `pgno` in the index, or -1. */
export function findPage(index: PageIndex, pgno: number): number {
  const a = index.pgnos;
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v === pgno) return mid;
    if (v < pgno) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index bytes for frames in file order: varint triples, the 0 terminator and the u64 length. */
export function encodePageIndex(pgnos: ArrayLike<number>, offsets: ArrayLike<number>, sizes: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter(pgnos.length * 6 + 16);
  for (let i = 0; i < pgnos.length; i++) {
    w.uvarint(pgnos[i]);
    w.uvarint(offsets[i]);
    w.uvarint(sizes[i]);
  }
  w.byte(0);
  const out = new Uint8Array(w.length + INDEX_LENGTH_FIELD_SIZE);
  out.set(w.view());
  new DataView(out.buffer).setBigUint64(w.length, BigInt(w.length));
  return out;
}

/** Reads a canonical uvarint at `pos`; returns [value, nextPos] or throws LTX_BAD_INDEX. */
export function readUvarint(b: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < end; i++) {
    const byte = b[i];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (byte === 0 && i > pos) fail('LTX_BAD_INDEX', 'non-canonical varint in page index');
      if (!Number.isSafeInteger(value)) fail('LTX_BAD_INDEX', 'varint too large in page index');
      return [value, i + 1];
    }
    scale *= 0x80;
    if (i - pos >= 8) fail('LTX_BAD_INDEX', 'varint too long in page index');
  }
  return fail('LTX_BAD_INDEX', 'page index truncated');
}

export function decodeTrailer(b: Uint8Array, at = b.length - TRAILER_SIZE): Trailer {
  if (at < 0 || at + TRAILER_SIZE > b.length) fail('LTX_TRUNCATED', 'trailer truncated');
  const v = new DataView(b.buffer, b.byteOffset + at, TRAILER_SIZE);
  return { postApplyChecksum: v.getBigUint64(0), fileChecksum: v.getBigUint64(8) };
}

/**
 * Decodes the index varint area (exactly the bytes counted by the length field, terminator included)
 * of a file whose index starts at `indexStart`. Strict: pgnos ascend, frames are back to back from
 * the header to the end marker, as the reference encoder lays them out.
 */
export function decodePageIndex(area: Uint8Array, indexStart: number): PageIndex {
  const pgnos: number[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  let pos = 0;
  let expectOffset = HEADER_SIZE;
  let prev = 0;
  for (;;) {
    const [pgno, p1] = readUvarint(area, pos, area.length);
    if (pgno === 0) {
      if (p1 !== area.length) fail('LTX_BAD_INDEX', 'bytes after page index terminator');
      break;
    }
    const [offset, p2] = readUvarint(area, p1, area.length);
    const [size, p3] = readUvarint(area, p2, area.length);
    pos = p3;
    if (pgno > 0xffffffff || pgno <= prev) fail('LTX_BAD_INDEX', `page index not ascending at pgno ${pgno}`);
    if (offset !== expectOffset) fail('LTX_BAD_INDEX', `page ${pgno} at offset ${offset}, expected ${expectOffset}`);
    if (size <= PAGE_HEADER_SIZE || size > 0xffffffff) fail('LTX_BAD_INDEX', `page ${pgno} has bad frame size ${size}`);
    pgnos.push(pgno);
    offsets.push(offset);
    sizes.push(size);
    prev = pgno;
    expectOffset = offset + size;
  }
  if (expectOffset + PAGE_HEADER_SIZE !== indexStart) {
    fail('LTX_BAD_INDEX', 'page index does not end at the end marker');
  }
  return { pgnos: Uint32Array.from(pgnos), offsets: Float64Array.from(offsets), sizes: Uint32Array.from(sizes) };
}

/** The first range Litestream reads for the index: the last 32 KiB of the file (§12). */
export function pageIndexProbeRange(fileSize: number, indexBytes?: number): { offset: number; length: number } {
  // Known (the catalog records it): exactly the index and what follows it, one get whatever its size.
  if (indexBytes !== undefined && indexBytes > INDEX_TAIL_SIZE && indexBytes <= fileSize)
    return { offset: fileSize - indexBytes, length: indexBytes };
  const offset = Math.max(0, fileSize - ESTIMATED_PAGE_INDEX_SIZE);
  return { offset, length: fileSize - offset };
}

/**
 * From a file's last bytes (at least INDEX_TAIL_SIZE): its file checksum, and `indexBytes`, the
 * bytes from its page index's start to its end (index, length field, trailer), what a reader
 * fetches to load the index (pageIndexProbeRange).
 */
export function tailFacts(end: Uint8Array): { fileChecksum: bigint; indexBytes: number } {
  if (end.length < INDEX_TAIL_SIZE) fail('LTX_TRUNCATED', 'fewer bytes than a page index tail');
  const length = new DataView(end.buffer, end.byteOffset + end.length - INDEX_TAIL_SIZE, 8).getBigUint64(0);
  return { fileChecksum: decodeTrailer(end).fileChecksum, indexBytes: Number(length) + INDEX_TAIL_SIZE };
}

export type PageIndexFromTail =
  | { index: PageIndex; trailer: Trailer }
  | { /** Read [needOffset, fileSize) and call again with that tail. */ needOffset: number };

/**
 * Decodes the page index from a tail of the file: `tail` holds bytes [tailOffset, fileSize).
 * When the index starts before the tail, says which offset to read from instead.
 */
export function decodePageIndexFromTail(
  tail: Uint8Array,
  tailOffset: number,
  fileSize: number,
  maxIndexBytes = DEFAULT_MAX_INDEX_BYTES,
): PageIndexFromTail {
  if (tailOffset + tail.length !== fileSize) fail('LTX_INVALID_ARGUMENT', 'tail must end at the end of the file');
  if (tail.length < INDEX_TAIL_SIZE + 1) fail('LTX_TRUNCATED', 'file too short for a page index');
  const lengthAt = tail.length - INDEX_TAIL_SIZE;
  const length = new DataView(tail.buffer, tail.byteOffset + lengthAt, 8).getBigUint64(0);
  const minStart = BigInt(HEADER_SIZE + PAGE_HEADER_SIZE);
  if (length < 1n || BigInt(fileSize - INDEX_TAIL_SIZE) - length < minStart) {
    fail('LTX_BAD_INDEX', `invalid page index length ${length}`);
  }
  if (length > BigInt(maxIndexBytes)) fail('LTX_LIMIT_EXCEEDED', `page index of ${length} bytes over the limit`);
  const indexStart = fileSize - INDEX_TAIL_SIZE - Number(length);
  if (indexStart < tailOffset) return { needOffset: indexStart };
  const area = tail.subarray(indexStart - tailOffset, lengthAt);
  return { index: decodePageIndex(area, indexStart), trailer: decodeTrailer(tail) };
}
