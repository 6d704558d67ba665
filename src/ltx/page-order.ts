// The reference writer's page rules (ltx-format.md §9), shared by both encoders and both decoders.

import { fail } from './errors.ts';

/**
 * Checks page `pgno` coming after `prevPgno` (0 before the first page): pgno ≤ Commit, never the
 * lock page, and a snapshot goes 1, 2, … skipping only the lock page while anything else strictly
 * ascends. Throws LTX_PAGE_OUT_OF_RANGE, LTX_LOCK_PAGE or LTX_PAGE_ORDER.
 */
export function checkPageSequence(pgno: number, prevPgno: number, commit: number, lock: number, snapshot: boolean): void {
  if (pgno > commit) fail('LTX_PAGE_OUT_OF_RANGE', `page ${pgno} is beyond commit ${commit}`);
  if (pgno === lock) fail('LTX_LOCK_PAGE', `lock page ${pgno} present`);
  if (snapshot) {
    const next = prevPgno + 1 === lock ? prevPgno + 2 : prevPgno + 1;
    if (pgno !== next) fail('LTX_PAGE_ORDER', `snapshot page ${pgno} out of sequence, expected ${next}`);
  } else if (pgno <= prevPgno) {
    fail('LTX_PAGE_ORDER', `page ${pgno} out of order after ${prevPgno}`);
  }
}
