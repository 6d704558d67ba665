// ReadPlan: hex wire form round trip, strict parsing of untrusted JSON, plan rules and shrink ceilings.

import { describe, expect, it } from 'vitest';
import {
  type PlanJSON,
  type ReadPlan,
  PlanError,
  PlanStaleError,
  isPlanStale,
  planCeilings,
  planFileKey,
  planFromJSON,
  planToJSON,
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

describe('plan wire form', () => {
  it('round-trips with TXIDs and the checksum as 16 lowercase hex digits', () => {
    const json = planToJSON(plan);
    expect(json.txid).toBe('0000000000001234');
    expect(json.checksum).toBe('80000000deadbeef');
    expect(json.files[1]).toEqual({ level: 1, minTXID: '0000000000001001', maxTXID: '0000000000001230', size: 300, commit: 4 });
    expect('commit' in json.files[2]).toBe(false);
    expect(planFromJSON(JSON.parse(JSON.stringify(json)))).toEqual(plan);
  });

  const good = (): PlanJSON => planToJSON(plan);
  it.each<[string, (j: PlanJSON) => unknown]>([
    ['not an object', () => 'plan'],
    ['uppercase hex', (j) => ({ ...j, checksum: j.checksum.toUpperCase() })],
    ['short hex', (j) => ({ ...j, checksum: 'beef' })],
    ['TXID as a number', (j) => ({ ...j, txid: 0x1234 })],
    ['fractional size', (j) => ({ ...j, files: j.files.map((f) => ({ ...f, size: 200.5 })) })],
    ['files not an array', (j) => ({ ...j, files: {} })],
    ['a file not an object', (j) => ({ ...j, files: [null] })],
    ['bad name', (j) => ({ ...j, db: '../x' })],
    ['bad page size', (j) => ({ ...j, pageSize: 1000 })],
    ['no files', (j) => ({ ...j, files: [] })],
    ['no snapshot first', (j) => ({ ...j, files: j.files.slice(1) })],
    ['a gap', (j) => ({ ...j, files: [j.files[0], j.files[3]] })],
    ['last file not at txid', (j) => ({ ...j, txid: '0000000000001235' })],
    ['last commit not the plan commit', (j) => ({ ...j, commit: 10 })],
    ['level 10', (j) => ({ ...j, files: [{ ...j.files[0], level: 10 }, ...j.files.slice(1)] })],
    ['file too small to be LTX', (j) => ({ ...j, files: [{ ...j.files[0], size: 100 }, ...j.files.slice(1)] })],
    ['negative commit', (j) => ({ ...j, commit: -1 })],
  ])('rejects %s with PLAN_INVALID', (_, mutate) => {
    expect(code(() => planFromJSON(mutate(good())))).toBe('PLAN_INVALID');
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
