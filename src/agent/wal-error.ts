// Typed errors of the SQLite WAL reader: every failure carries a stable string code.

/** Stable codes for everything the WAL reader rejects. Tests and callers rely on these strings. */
export const WAL_ERROR_CODES = [
  'WAL_HEADER', // fewer than 32 header bytes (an empty or freshly truncated WAL: no header yet)
  'WAL_MAGIC', // magic is neither 0x377f0682 nor 0x377f0683
  'WAL_VERSION', // file format version is not 3007000
  'WAL_PAGE_SIZE', // page size not a power of two in 512..65536
  'WAL_HEADER_CHECKSUM', // the header's checksum over bytes 0..23 does not match
  'WAL_CURSOR', // the caller's cursor is not on a frame boundary of this WAL
  'WAL_READ', // a page read came back short (the WAL shrank under the reader)
] as const;

export type WALErrorCode = (typeof WAL_ERROR_CODES)[number];

/** The only error type the WAL reader throws. `code` is stable; `message` is for humans. */
export class WALError extends Error {
  readonly code: WALErrorCode;

  constructor(code: WALErrorCode, message: string) {
    super(message);
    this.name = 'WALError';
    this.code = code;
  }
}
