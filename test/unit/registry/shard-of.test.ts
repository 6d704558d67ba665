// Registry shard placement: FNV-1a 64 reference values, and jump hash's promises (uniform, stable, moving only to new shards).

import { describe, expect, it } from 'vitest';
import { fnv1a64, jumpHash, shardObjectName, shardOf } from '../../../src/registry/shard-of.ts';

const NAMES = Array.from({ length: 20_000 }, (_, i) => `db-${i}`);

describe('shardOf', () => {
  it('FNV-1a 64 matches the published test vectors', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('jump hash matches the reference implementation on known keys', () => {
    // From the paper's C++ code (and Guava's consistentHash, which is the same function).
    expect(jumpHash(0n, 1)).toBe(0);
    expect([1, 2, 3, 10, 100, 1000].map((n) => jumpHash(0xdeadbeefn, n))).toEqual(
      [1, 2, 3, 10, 100, 1000].map((n) => referenceJump(0xdeadbeefn, n)),
    );
  });

  it('spreads names evenly and keeps each in [0, shards)', () => {
    for (const shards of [1, 2, 16, 100]) {
      const counts = new Array(shards).fill(0);
      for (const n of NAMES) counts[shardOf(n, shards)]++;
      const fair = NAMES.length / shards;
      expect(Math.max(...counts), `${shards} shards`).toBeLessThan(fair * 1.25);
      expect(Math.min(...counts), `${shards} shards`).toBeGreaterThan(fair * 0.75);
    }
  });

  it('growing the count moves only (m − n)/m of the names, and only into the new shards', () => {
    for (const [from, to] of [
      [1, 16],
      [16, 24],
      [16, 17],
      [100, 200],
    ]) {
      const moved = NAMES.filter((n) => shardOf(n, from) !== shardOf(n, to));
      for (const n of moved) expect(shardOf(n, to)).toBeGreaterThanOrEqual(from);
      expect(moved.length / NAMES.length).toBeCloseTo((to - from) / to, 1);
    }
  });

  it('shard 0 keeps the single registry name', () => {
    expect([0, 1, 15].map(shardObjectName)).toEqual(['registry', 'registry-1', 'registry-15']);
  });
});

/** The paper's algorithm, line by line, in floating point as the C++ does it. */
function referenceJump(key: bigint, buckets: number): number {
  let b = -1n;
  let j = 0n;
  let k = key;
  while (j < BigInt(buckets)) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = BigInt(Math.floor(Number(b + 1n) * (Number(1n << 31n) / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}
