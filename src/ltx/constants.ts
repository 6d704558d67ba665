// Sizes, flags and small rules of the LTX format, named as in the reference package (ltx-format.md §1–§8).

/** ASCII "LTX1" at offset 0 of every LTX file. */
export const MAGIC = 'LTX1';
/** Fixed header size in bytes (`ltx.HeaderSize`). */
export const HEADER_SIZE = 100;
/** Page frame header: u32 pgno + u16 flags (`ltx.PageHeaderSize`). */
export const PAGE_HEADER_SIZE = 6;
/** The u32 compressed-length field that follows a block-format page header. */
export const PAGE_SIZE_FIELD_SIZE = 4;
/** PostApplyChecksum + FileChecksum (`ltx.TrailerSize`). */
export const TRAILER_SIZE = 16;
/** The u64 page-index length that sits between the index varints and the trailer. */
export const INDEX_LENGTH_FIELD_SIZE = 8;

/** The only legal header flag: the file tracks no database checksums (Litestream sets it). */
export const HEADER_FLAG_NO_CHECKSUM = 0x2;
/** `ltx.HeaderFlagMask`: every other header bit is invalid. */
export const HEADER_FLAG_MASK = HEADER_FLAG_NO_CHECKSUM;
/** Page flag bit 0: a u32 length and a raw LZ4 block follow (current format). Clear = legacy LZ4 frame. */
export const PAGE_HEADER_FLAG_SIZE = 0x1;

/** Bit 63, forced on in every stored checksum (`ltx.ChecksumFlag`). */
export const CHECKSUM_FLAG = 1n << 63n;
/** The rolling checksum of an empty database. */
export const EMPTY_DB_CHECKSUM = CHECKSUM_FLAG;

/** Page sizes SQLite allows: powers of two from 512 to 65536. */
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 65536;

/** Litestream reads this much of a file's tail first when it needs the page index (§12). */
export const ESTIMATED_PAGE_INDEX_SIZE = 32 * 1024;

/** Level that holds snapshots in the Litestream layout (§8). */
export const SNAPSHOT_LEVEL = 9;

/** SQLite's own limit on a database's page count (SQLITE_MAX_PAGE_COUNT). */
export const SQLITE_MAX_PAGE_COUNT = 0xfffffffe;

/** The last TXID a file can end at (2^64 − 1): a database there can take no further transaction. */
export const MAX_TXID = (1n << 64n) - 1n;

export function isValidPageSize(pageSize: number): boolean {
  return Number.isInteger(pageSize) && pageSize >= MIN_PAGE_SIZE && pageSize <= MAX_PAGE_SIZE && (pageSize & (pageSize - 1)) === 0;
}

/** The PENDING_BYTE page, never stored in LTX files and left out of every checksum (§7). */
export function lockPgno(pageSize: number): number {
  return Math.floor(0x40000000 / pageSize) + 1;
}
