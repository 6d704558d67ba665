// Typed LTX codec errors: every failure the codec can report carries a stable string code.

/** Stable codes for everything the codec rejects. Tests and HTTP mapping rely on these strings. */
export const LTX_ERROR_CODES = [
  'LTX_TRUNCATED', // input ended before the structure was complete
  'LTX_TRAILING_DATA', // bytes after the trailer
  'LTX_BAD_MAGIC',
  'LTX_BAD_FLAGS', // header flags outside HeaderFlagMask
  'LTX_BAD_PAGE_SIZE',
  'LTX_BAD_TXID', // MinTXID/MaxTXID zero or out of order
  'LTX_BAD_HEADER', // any other header rule (WAL fields, checksum fields, timestamp)
  'LTX_RESERVED_SET', // reserved header bytes not zero
  'LTX_BAD_PAGE_HEADER', // pgno 0 in a frame or unknown page flags
  'LTX_PAGE_ORDER', // pages not strictly ascending, snapshot not 1..Commit
  'LTX_PAGE_OUT_OF_RANGE', // pgno > Commit
  'LTX_LOCK_PAGE', // the lock (PENDING_BYTE) page is present
  'LTX_SNAPSHOT_INCOMPLETE', // snapshot missing pages up to Commit
  'LTX_BAD_PAGE_DATA', // LZ4 payload corrupt or not exactly PageSize bytes
  'LTX_BAD_INDEX', // page index malformed or disagrees with the frames
  'LTX_BAD_TRAILER', // trailer checksum rules
  'LTX_FILE_CHECKSUM_MISMATCH',
  'LTX_POST_APPLY_MISMATCH', // post-apply checksum disagrees with the pages
  'LTX_PRE_APPLY_MISMATCH', // pre-apply checksum disagrees with the database it is applied to
  'LTX_NOT_CONTIGUOUS', // files in a chain or compaction leave a gap or go backwards
  'LTX_PAGE_SIZE_MISMATCH', // files in a chain disagree on page size
  'LTX_LIMIT_EXCEEDED', // a decoder limit (pages, index bytes, decompressed bytes) was hit
  'LTX_INVALID_ARGUMENT', // the caller (not the file) broke an encoder/API rule
] as const;

export type LTXErrorCode = (typeof LTX_ERROR_CODES)[number];

/** The only error type the codec throws. `code` is stable; `message` is for humans. */
export class LTXError extends Error {
  readonly code: LTXErrorCode;

  constructor(code: LTXErrorCode, message: string) {
    super(message);
    this.name = 'LTXError';
    this.code = code;
  }
}

/** Throws an LTXError; handy in expressions. */
export function fail(code: LTXErrorCode, message: string): never {
  throw new LTXError(code, message);
}
