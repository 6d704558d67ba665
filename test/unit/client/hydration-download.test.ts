// Hydration's request planning: download batches in order without the lock page, changed pages in URL-bounded batches and rounds, batch sizes.

import { describe, expect, it } from 'vitest';
import { MAX_BATCH_PAGES } from '../../../src/api/wire.ts';
import { batchPagesFor, changedRounds, downloadBatches } from '../../../src/client/hydration-download.ts';
import { lockPgno } from '../../../src/ltx/index.ts';
import { formatPgnoList } from '../../../src/remote/http-client.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = 0xd0a1;

describe('downloadBatches', () => {
  it('covers from..commit in order, batchPages at a time', () => {
    const batches = [...downloadBatches(5, 30, 4096, 8)];
    expect(batches.map((b) => b.length)).toEqual([8, 8, 8, 2]);
    expect(batches.flat()).toEqual(Array.from({ length: 26 }, (_, i) => i + 5));
    expect([...downloadBatches(31, 30, 4096, 8)]).toEqual([]);
  });

  it('leaves out the lock page, which no database stores', () => {
    const lock = lockPgno(65536);
    const got = [...downloadBatches(lock - 3, lock + 3, 65536, 4)].flat();
    expect(got).toEqual([lock - 3, lock - 2, lock - 1, lock + 1, lock + 2, lock + 3]);
  });
});

describe('changedRounds', () => {
  it('puts every page in exactly one batch of ≤ batchPages with a bounded pgno list, four batches a round', () => {
    console.log(`changedRounds: seed ${SEED}`);
    const rng = prng(SEED);
    const pgnos = [...new Set(Array.from({ length: 20_000 }, () => 1 + rng.int(1_000_000)))].sort((a, b) => a - b);
    const rounds = [...changedRounds(pgnos, 1000)];
    for (const round of rounds) expect(round.length).toBeLessThanOrEqual(4);
    const batches = rounds.flat();
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(1000);
      expect(formatPgnoList(b).length).toBeLessThanOrEqual(4000);
    }
    expect(batches.flat()).toEqual(pgnos);
    expect(rounds.slice(0, -1).every((r) => r.length === 4)).toBe(true);
  });

  it('gives nothing for no pages', () => {
    expect([...changedRounds([], 16)]).toEqual([]);
  });
});

describe('batchPagesFor', () => {
  const cases: { pageSize: number; asked?: number; want: number }[] = [
    { pageSize: 4096, want: 1024 },
    { pageSize: 65536, want: 64 },
    { pageSize: 512, want: MAX_BATCH_PAGES },
    { pageSize: 4096, asked: 16, want: 16 },
    { pageSize: 4096, asked: 100_000, want: MAX_BATCH_PAGES },
  ];
  for (const c of cases) {
    it(`${c.pageSize}-byte pages${c.asked === undefined ? '' : `, ${c.asked} asked`} → ${c.want} pages a request`, () => {
      expect(batchPagesFor(c.pageSize, c.asked)).toBe(c.want);
    });
  }
});
