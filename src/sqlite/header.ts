// The SQLite database header (sqlite.org/fileformat.html §1.3): its magic string, page size and in-header page count, read in one place for the CLI, the agent and the client.

/** Bytes of the database header at the start of page 1. */
export const SQLITE_HEADER_SIZE = 100;
/** "SQLite format 3\0": the first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC = 'SQLite format 3\0';
const MAGIC_BYTES = new TextEncoder().encode(SQLITE_MAGIC);

/** Whether `head` is at least a whole database header that starts with the magic string. */
export function isSQLiteHeader(head: Uint8Array): boolean {
  return head.length >= SQLITE_HEADER_SIZE && MAGIC_BYTES.every((b, i) => head[i] === b);
}

/** The page size: big-endian u16 at offset 16, 1 meaning 65536. */
export function sqlitePageSize(head: Uint8Array): number {
  const v = (head[16] << 8) | head[17];
  return v === 1 ? 65536 : v;
}

/**
 * The in-header database size (pages, offset 28) when SQLite would trust it: non-zero, and the change
 * counter (offset 24) equal to version-valid-for (offset 92). Undefined otherwise, or when `head` is
 * shorter than a header.
 */
export function headerPageCount(head: Uint8Array): number | undefined {
  if (head.length < SQLITE_HEADER_SIZE) return undefined;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const pages = v.getUint32(28);
  return pages > 0 && v.getUint32(24) === v.getUint32(92) ? pages : undefined;
}
