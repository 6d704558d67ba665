// MovingChecksum: a database's rolling checksum followed through a move (changes, growth with and without writes, shrink) equals the checksum of the resulting database computed whole.

import { describe, expect, it } from 'vitest';
import { MovingChecksum, checksumAfterMove } from '../../../src/client/moving-checksum.ts';
import { CHECKSUM_FLAG, databaseChecksum, lockPgno, pageChecksum } from '../../../src/ltx/index.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = 0x5eed17;
const PAGE_SIZE = 512;

interface MoveCase {
  name: string;
  oldCommit: number;
  newCommit: number;
  /** Pages written by the move. */
  written: number[];
}

const CASES: MoveCase[] = [
  { name: 'nothing changes', oldCommit: 20, newCommit: 20, written: [] },
  { name: 'a few pages change', oldCommit: 20, newCommit: 20, written: [1, 7, 20] },
  { name: 'growth, every new page written', oldCommit: 20, newCommit: 25, written: [1, 21, 22, 23, 24, 25] },
  { name: 'growth leaving holes (read as zeros)', oldCommit: 20, newCommit: 25, written: [3, 25] },
  { name: 'shrink', oldCommit: 20, newCommit: 12, written: [] },
  { name: 'shrink with changes, writes past the new end ignored', oldCommit: 20, newCommit: 12, written: [2, 12, 15, 19] },
  { name: 'from an empty database', oldCommit: 0, newCommit: 6, written: [1, 2, 3, 4, 5, 6] },
];

describe('MovingChecksum', () => {
  console.log(`moving checksum tests: seed ${SEED}`);
  for (const c of CASES) {
    it(`${c.name}: equals the whole database's checksum after the move`, () => {
      const rng = prng(SEED + c.oldCommit * 31 + c.newCommit);
      const before = new Map<number, Uint8Array>();
      for (let p = 1; p <= c.oldCommit; p++) before.set(p, rng.bytes(PAGE_SIZE));
      const writes = new Map(c.written.map((p) => [p, rng.bytes(PAGE_SIZE)]));
      const zeros = new Uint8Array(PAGE_SIZE);
      const after = (p: number): Uint8Array => writes.get(p) ?? before.get(p) ?? zeros;
      const old = (p: number): Uint8Array => before.get(p)!;
      const start = databaseChecksum(PAGE_SIZE, c.oldCommit, old);
      const want = databaseChecksum(PAGE_SIZE, c.newCommit, after);
      expect(checksumAfterMove(start, PAGE_SIZE, c.oldCommit, c.newCommit, writes, old)).toBe(want);
      // Page by page, in any order, as a catch-up streams them.
      const moving = new MovingChecksum(start, PAGE_SIZE, c.oldCommit, c.newCommit);
      for (const p of [...writes.keys()].reverse()) moving.write(p, writes.get(p)!, old);
      expect(moving.finish(old)).toBe(want);
    });
  }

  it('is wrong when a page is left out (so a move missing a page is caught)', () => {
    const rng = prng(SEED);
    const before = new Map(Array.from({ length: 8 }, (_, i) => [i + 1, rng.bytes(PAGE_SIZE)] as const));
    const writes = new Map([
      [2, rng.bytes(PAGE_SIZE)],
      [5, rng.bytes(PAGE_SIZE)],
    ]);
    const old = (p: number): Uint8Array => before.get(p)!;
    const start = databaseChecksum(PAGE_SIZE, 8, old);
    const want = databaseChecksum(PAGE_SIZE, 8, (p) => writes.get(p) ?? old(p));
    writes.delete(5);
    expect(checksumAfterMove(start, PAGE_SIZE, 8, 8, writes, old)).not.toBe(want);
  });

  it('never counts the lock page, written or not', () => {
    const pageSize = 65536;
    const lock = lockPgno(pageSize);
    const page = (p: number): Uint8Array => new Uint8Array(pageSize).fill(p & 0xff);
    // Growth across the lock page: pages lock − 1 and lock + 1 are added, the lock page is not.
    const start = CHECKSUM_FLAG | 0x1234n;
    const want = CHECKSUM_FLAG | (start ^ pageChecksum(lock - 1, page(lock - 1)) ^ pageChecksum(lock + 1, page(lock + 1)));
    for (const written of [
      [lock - 1, lock, lock + 1],
      [lock - 1, lock + 1],
    ]) {
      const moving = new MovingChecksum(start, pageSize, lock - 2, lock + 1);
      for (const p of written) moving.write(p, page(p), page);
      expect(moving.finish(page)).toBe(want);
    }
  });
});
