// The rolling checksum through growth and shrink: the O(1) zero-page XOR equals page-by-page sums.

import { describe, expect, it } from 'vitest';
import { ChecksumUpdate, DatabaseState } from '../../../src/ltx/apply.ts';
import { pageChecksum, pageChecksumLinear } from '../../../src/ltx/checksum.ts';
import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from '../../../src/ltx/constants.ts';
import { crcLinear } from '../../../src/ltx/crc64.ts';
import { makeHeader } from '../../../src/ltx/header.ts';

const PS = 65536; // the lock page is page 16385: page-by-page sums across it stay cheap
const LOCK = lockPgno(PS);

/**
 * Checksum of a database whose pages are zeros except `written`, summed one page at a time (zero
 * pages through their linear CRC, so 2 million of them take seconds, not a gigabyte of CRC).
 */
function bruteForce(commit: number, written: Map<number, Uint8Array>): bigint {
  const zero = crcLinear(new Uint8Array(PS));
  let sum = EMPTY_DB_CHECKSUM;
  for (let p = 1; p <= commit; p++) {
    if (p === LOCK) continue;
    const data = written.get(p);
    sum ^= data ? pageChecksum(p, data) : pageChecksumLinear(p, zero);
  }
  return CHECKSUM_FLAG | sum;
}

function page(fill: number): Uint8Array {
  return new Uint8Array(PS).fill(fill);
}

describe('ChecksumUpdate', () => {
  it.each([
    ['growth without writes', 10, 3, [], 40],
    ['growth across the lock page', LOCK - 3, LOCK - 5, [LOCK - 1, LOCK + 2], LOCK + 4],
    ['shrink across the lock page', LOCK + 6, LOCK - 2, [3], LOCK - 2],
    ['shrink to one page', 50, 1, [1], 1],
    ['grow and write the last page only', 5, 5, [200], 200],
  ] as const)('%s', (_, firstCommit, firstWrites, laterWrites, finalCommit) => {
    const state = new DatabaseState();
    const written = new Map<number, Uint8Array>();
    // Start from a database of `firstCommit` pages with a few pages written.
    let u = new ChecksumUpdate(state, makeHeader({ pageSize: PS, commit: firstCommit, minTXID: 1n, maxTXID: 1n }));
    for (let p = 1; p <= Math.min(firstWrites, firstCommit); p++) {
      if (p === LOCK) continue;
      written.set(p, page(p));
      u.page(p, crcLinear(page(p)));
    }
    Object.assign(state, { checksum: u.finish(), commit: firstCommit, txid: 1n });
    expect(state.checksum).toBe(bruteForce(firstCommit, written));
    // Then one more file: writes, and a new commit.
    u = new ChecksumUpdate(state, makeHeader({ pageSize: PS, commit: finalCommit, minTXID: 2n, maxTXID: 2n }));
    for (const p of laterWrites) {
      written.set(p, page(p & 0xff));
      u.page(p, crcLinear(page(p & 0xff)));
    }
    const post = u.finish();
    for (const p of [...written.keys()]) if (p > finalCommit) written.delete(p);
    expect(post).toBe(bruteForce(finalCommit, written));
  });

  it('growth to 2^32 - 1 pages and back is O(1) and returns to the same checksum', () => {
    const state = new DatabaseState();
    const h = (commit: number, txid: bigint) => makeHeader({ pageSize: 4096, commit, minTXID: txid, maxTXID: txid });
    let u = new ChecksumUpdate(state, h(1, 1n));
    u.page(1, crcLinear(new Uint8Array(4096).fill(7)));
    const one = u.finish();
    Object.assign(state, { checksum: one, commit: 1, txid: 1n });
    u = new ChecksumUpdate(state, h(0xffffffff, 2n));
    u.page(0xfffffffe, crcLinear(new Uint8Array(4096).fill(9)));
    const huge = u.finish(); // this used to loop 4 billion times
    expect(huge).not.toBe(one);
    Object.assign(state, { checksum: huge, commit: 0xffffffff, txid: 2n });
    u = new ChecksumUpdate(state, h(1, 3n));
    expect(u.finish()).toBe(one);
  });
});
