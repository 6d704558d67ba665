// ReadPlan: the plan rules validatePlan enforces (plans cross DO RPC as they are, no wire form) and shrink ceilings.

import { describe, expect, it } from 'vitest';
import {
  type ReadPlan,
  PlanError,
  PlanStaleError,
  isPlanStale,
  planCeilings,
  planFileKey,
  validatePlan,
} from '../../../src/replication/plan.ts';

const plan: ReadPlan = {
  db: 'orders',
  txid: 0x1234n,
  pageSize: 4096,
  commit: 9,
  checksum: 0x8000_0000_dead_beefn,
  files: [
    { level: 9, minTXID: 1n, maxTXID: 0x1000n, size: 5000, commit: 12 },
    { level: 1, minTXID: 0x1001n, maxTXID: 0x1230n, size: 300, commit: 4 },
    { level: 0, minTXID: 0x1200n, maxTXID: 0x1233n, size: 200 },
    { level: 0, minTXID: 0x1234n, maxTXID: 0x1234n, size: 200, commit: 9 },
  ],
};

function code(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (e) {
    return e instanceof PlanError ? e.code : String(e);
  }
}

describe('plan rules', () => {
  it.each<[string, (p: ReadPlan) => ReadPlan]>([
    ['bad name', (p) => ({ ...p, db: '../x' })],
    ['bad page size', (p) => ({ ...p, pageSize: 1000 })],
    ['no files', (p) => ({ ...p, files: [] })],
    ['no snapshot first', (p) => ({ ...p, files: p.files.slice(1) })],
    ['a gap', (p) => ({ ...p, files: [p.files[0], p.files[3]] })],
    ['last file not at txid', (p) => ({ ...p, txid: 0x1235n })],
    ['last commit not the plan commit', (p) => ({ ...p, commit: 10 })],
    ['level 10', (p) => ({ ...p, files: [{ ...p.files[0], level: 10 }, ...p.files.slice(1)] })],
    ['file too small to be LTX', (p) => ({ ...p, files: [{ ...p.files[0], size: 100 }, ...p.files.slice(1)] })],
    ['negative commit', (p) => ({ ...p, commit: -1 })],
    ['fractional size', (p) => ({ ...p, files: p.files.map((f) => ({ ...f, size: 200.5 })) })],
  ])('rejects %s with PLAN_INVALID', (_, mutate) => {
    expect(code(() => validatePlan(mutate(plan)))).toBe('PLAN_INVALID');
  });

  it('accepts a plan of one snapshot and overlapping compactions', () => {
    expect(code(() => validatePlan(plan))).toBe('OK');
    expect(code(() => validatePlan({ ...plan, txid: 7n, commit: 3, files: [{ level: 9, minTXID: 1n, maxTXID: 7n, size: 200 }] }))).toBe(
      'OK',
    );
  });
});

describe('plan helpers', () => {
  it('ceilings are the smallest later commit, files without one do not count', () => {
    expect(planCeilings(plan)).toEqual([4, 9, 9, 9]);
    expect(planCeilings({ ...plan, files: plan.files.map(({ commit: _, ...f }) => f) })).toEqual([9, 9, 9, 9]);
  });

  it('keys follow the storage layout', () => {
    expect(planFileKey('db', 'orders', plan.files[1])).toBe('db/orders/0001/0000000000001001-0000000000001230.ltx');
  });

  it('PlanStaleError is a PlanError with code PLAN_STALE and the key', () => {
    const e = new PlanStaleError('db/x/0000/0000000000000001-0000000000000001.ltx');
    expect(e).toBeInstanceOf(PlanError);
    expect(e.code).toBe('PLAN_STALE');
    expect(isPlanStale(e)).toBe(true);
    expect(isPlanStale(new PlanError('PLAN_INVALID', 'x'))).toBe(false);
  });
});
