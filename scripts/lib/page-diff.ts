// The pages of one SQLite file image that differ from another's: what a POST …/tx must send to move the database between them.

/** One page of a /tx body. */
export interface ChangedPage {
  pgno: number;
  data: Uint8Array;
}

/** The pages of `to` that differ from `from` (1-based, ascending), and `to`'s size in pages. */
export function changedPages(from: Uint8Array, to: Uint8Array, pageSize: number): { pages: ChangedPage[]; commit: number } {
  const pages: ChangedPage[] = [];
  const commit = to.length / pageSize;
  for (let pgno = 1; pgno <= commit; pgno++) {
    const data = to.subarray((pgno - 1) * pageSize, pgno * pageSize);
    const old = from.subarray((pgno - 1) * pageSize, pgno * pageSize);
    if (!samePage(old, data)) pages.push({ pgno, data });
  }
  return { pages, commit };
}

function samePage(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
