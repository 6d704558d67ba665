// Rows of one table at two points, compared by rowid (the first column of `SELECT rowid, * …`).

import type { Value } from './types.ts';

export type Row = Value[];

export interface RowDiff {
  added: number;
  removed: number;
  changed: number;
  /** Up to `limit` examples of each. */
  examples: { added: Row[]; removed: Row[]; changed: { before: Row; after: Row }[] };
}

/** What changed from `before` to `after`; rows whose rowid is in both are compared column by column. */
export function diffRows(before: readonly Row[], after: readonly Row[], limit = 20): RowDiff {
  const key = (r: Row): string => JSON.stringify(r[0]);
  const old = new Map(before.map((r) => [key(r), r]));
  const out: RowDiff = { added: 0, removed: 0, changed: 0, examples: { added: [], removed: [], changed: [] } };
  for (const r of after) {
    const k = key(r);
    const was = old.get(k);
    old.delete(k);
    if (was === undefined) {
      if (out.added++ < limit) out.examples.added.push(r);
    } else if (JSON.stringify(was) !== JSON.stringify(r)) {
      if (out.changed++ < limit) out.examples.changed.push({ before: was, after: r });
    }
  }
  for (const r of old.values()) if (out.removed++ < limit) out.examples.removed.push(r);
  return out;
}
