// Rules every ObjectStore implementation checks the same way (keys, metadata, ranges, list limits, multipart parts).
import {
  LIST_MAX_LIMIT,
  MAX_KEY_BYTES,
  MAX_METADATA_BYTES,
  MULTIPART_MAX_PARTS,
  MULTIPART_MIN_PART_SIZE,
  StorageError,
  type ByteRange,
  type UploadedPart,
} from './object-store.ts';

const utf8 = new TextEncoder();

function invalid(op: string, message: string, key?: string): StorageError {
  return new StorageError('STORAGE_INVALID_ARGUMENT', `${op}: ${message}`, { op, key });
}

/** Checks a key against R2's rules (1..1024 UTF-8 bytes). */
export function checkKey(op: string, key: string): void {
  const n = utf8.encode(key).length;
  if (n === 0 || n > MAX_KEY_BYTES) throw invalid(op, `key must be 1..${MAX_KEY_BYTES} bytes, got ${n}`, key);
}

/** Checks custom metadata: string values, at most MAX_METADATA_BYTES of keys and values. */
export function checkMetadata(op: string, key: string, meta: Record<string, string> | undefined): void {
  if (meta === undefined) return;
  let n = 0;
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') throw invalid(op, `metadata ${JSON.stringify(k)} is not a string`, key);
    n += utf8.encode(k).length + utf8.encode(v).length;
  }
  if (n > MAX_METADATA_BYTES) throw invalid(op, `custom metadata is ${n} bytes, limit ${MAX_METADATA_BYTES}`, key);
}

function isNonNegInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Checks the shape of a range (not against the object's size). */
export function checkRange(op: string, key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  if ('suffix' in range) {
    if (!isNonNegInt(range.suffix) || range.suffix < 1) throw invalid(op, `suffix must be an integer ≥ 1`, key);
    return;
  }
  if (!isNonNegInt(range.offset)) throw invalid(op, `offset must be an integer ≥ 0`, key);
  if (range.length !== undefined && (!isNonNegInt(range.length) || range.length < 1)) {
    throw invalid(op, `length must be an integer ≥ 1`, key);
  }
}

/** Resolves a (checked) range against an object of `size` bytes, or throws STORAGE_INVALID_RANGE. */
export function resolveRange(op: string, key: string, range: ByteRange, size: number): { offset: number; length: number } {
  const offset = 'suffix' in range ? Math.max(0, size - range.suffix) : range.offset;
  if (offset >= size) {
    throw new StorageError('STORAGE_INVALID_RANGE', `${op}: range starts at ${offset}, object has ${size} bytes`, { op, key });
  }
  const length = 'suffix' in range ? size - offset : Math.min(range.length ?? size - offset, size - offset);
  return { offset, length };
}

/** Checks a list page size (1..LIST_MAX_LIMIT) and returns it with the default applied. */
export function checkListLimit(limit: number | undefined): number {
  if (limit === undefined) return LIST_MAX_LIMIT;
  if (!isNonNegInt(limit) || limit < 1 || limit > LIST_MAX_LIMIT) throw invalid('list', `limit must be 1..${LIST_MAX_LIMIT}`);
  return limit;
}

/** Checks a part number (1..MULTIPART_MAX_PARTS). */
export function checkPartNumber(key: string, partNumber: number): void {
  if (!isNonNegInt(partNumber) || partNumber < 1 || partNumber > MULTIPART_MAX_PARTS) {
    throw invalid('uploadPart', `part number must be 1..${MULTIPART_MAX_PARTS}, got ${partNumber}`, key);
  }
}

function multipartInvalid(key: string, message: string): StorageError {
  return new StorageError('STORAGE_MULTIPART_INVALID', `complete: ${message}`, { op: 'complete', key });
}

/**
 * Checks a complete() part list: non-empty, ascending, no duplicates. Both stores check it first:
 * local R2 accepts an empty list (a 0-byte object), answers a duplicate with a retryable-looking
 * internal error, and applies the size rule in the order given.
 */
export function checkPartList(key: string, parts: readonly UploadedPart[]): void {
  if (parts.length === 0) throw multipartInvalid(key, 'no parts');
  let prev = 0;
  for (const p of parts) {
    if (!isNonNegInt(p.partNumber) || p.partNumber < 1 || p.partNumber > MULTIPART_MAX_PARTS) {
      throw multipartInvalid(key, `bad part number ${p.partNumber}`);
    }
    if (p.partNumber <= prev)
      throw multipartInvalid(key, `parts must be in ascending order without duplicates (${p.partNumber} after ${prev})`);
    prev = p.partNumber;
  }
}

/** R2's part-size rule over the sizes of the listed parts in order (see MultipartUpload). */
export function checkPartSizes(key: string, sizes: readonly number[], minPartSize = MULTIPART_MIN_PART_SIZE): void {
  if (sizes.length < 2) return;
  const first = sizes[0];
  for (let i = 0; i < sizes.length - 1; i++) {
    if (sizes[i] < minPartSize)
      throw multipartInvalid(key, `part ${i + 1} of ${sizes.length} is ${sizes[i]} bytes, minimum ${minPartSize}`);
    if (sizes[i] !== first) throw multipartInvalid(key, `parts before the last must all be ${first} bytes, part ${i + 1} is ${sizes[i]}`);
  }
  const last = sizes[sizes.length - 1];
  if (last > first) throw multipartInvalid(key, `the last part (${last} bytes) is larger than the others (${first})`);
}

/** Orders keys by code point, which is UTF-8 byte order (R2's list order), unlike `<` on UTF-16 strings. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800..0xDFFF) encode code points above 0xFFFF: they sort after 0xE000..0xFFFF.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
