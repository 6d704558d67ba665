// StagedPageChecksums in a real DO SQLite: staged in memory, spilled to pages_staging past its limit, same answers.

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import { StagedPageChecksums } from '../../src/durable/page-checksums.ts';

describe('StagedPageChecksums', () => {
  it.each([1000, 4])('with an in-memory limit of %i pages', async (limit) => {
    await runInDurableObject(env.DATABASE.getByName(`staged-${limit}`), (_: DatabaseDO, state) => {
      const sql = state.storage.sql;
      const committed = new StagedPageChecksums(sql, '0000000000000001', limit);
      for (let p = 1; p <= 6; p++) committed.set(p, BigInt(p) << 40n);
      state.storage.transactionSync(() => committed.commit());

      const s = new StagedPageChecksums(sql, '0000000000000001', limit);
      s.clearFrom(5); // pages 5, 6 are gone for this file
      for (const p of [2, 7, 8, 9, 10, 11]) s.set(p, BigInt(p) | (1n << 63n));
      expect(s.get(1)).toBe(1n << 40n); // committed, untouched
      expect(s.get(2)).toBe(2n << 40n); // below clearedFrom: reads see the committed value until commit
      expect(s.get(5)).toBeUndefined();
      expect(s.get(9)).toBe(9n | (1n << 63n));
      expect([...s.stored(1, 20)].map(([p]) => p)).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11]);
      s.clearFrom(10);
      expect([...s.stored(6, 20)].map(([p]) => p)).toEqual([7, 8, 9]);
      state.storage.transactionSync(() => s.commit());
      const rows = sql
        .exec('SELECT pgno FROM pages ORDER BY pgno')
        .toArray()
        .map((r) => Number(r.pgno));
      expect(rows).toEqual([1, 2, 3, 4, 7, 8, 9]);
      expect(sql.exec('SELECT COUNT(*) AS n FROM pages_staging').one().n).toBe(0);

      const rejected = new StagedPageChecksums(sql, '0000000000000001', limit);
      for (let p = 20; p < 30; p++) rejected.set(p, 1n);
      rejected.discard();
      expect(sql.exec('SELECT COUNT(*) AS n FROM pages_staging').one().n).toBe(0);
      expect(sql.exec('SELECT COUNT(*) AS n FROM pages').one().n).toBe(7);
    });
  });
});
