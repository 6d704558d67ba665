// The database size cap (LTX_EDGE_MAX_DATABASE_BYTES) and SQLite's page-count limit, as one pure check every write path calls.

import { SQLITE_MAX_PAGE_COUNT } from '../ltx/index.ts';

export interface SizeRefusal {
  message: string;
  details: { commit: number; pageSize: number; size: number; maxBytes: number; maxPages: number };
}

/**
 * Why a database of `commit` pages of `pageSize` bytes may not exist here, or undefined when it may:
 * above SQLite's page-count limit, or above `maxBytes`. Answered 413 DATABASE_TOO_LARGE.
 */
export function refuseDatabaseSize(commit: number, pageSize: number, maxBytes: number): SizeRefusal | undefined {
  const size = commit * pageSize;
  const maxPages = Math.min(SQLITE_MAX_PAGE_COUNT, Math.floor(maxBytes / pageSize));
  if (commit <= maxPages) return undefined;
  const message =
    commit > SQLITE_MAX_PAGE_COUNT
      ? `${commit} pages is more than SQLite's limit of ${SQLITE_MAX_PAGE_COUNT}`
      : `${commit} pages of ${pageSize} bytes (${size} bytes) is larger than this deployment's limit of ${maxBytes} bytes (LTX_EDGE_MAX_DATABASE_BYTES)`;
  return { message, details: { commit, pageSize, size, maxBytes, maxPages } };
}
