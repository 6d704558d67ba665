// /litefs wire conventions in Node: cluster names both ways, error mapping to LiteFS codes and shape.

import { describe, expect, it } from 'vitest';
import { LiteFSError, fromApiError, liteFSNameOf, litefsErrorResponse, ltxRejection, ourNameOf } from '../../src/routes/litefs-protocol.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LiteFSError) return `${e.status} ${e.code}`;
    throw e;
  }
  return undefined;
};

describe('cluster names', () => {
  it.each([
    ['orders.db', undefined, 'orders.db'],
    ['orders.db', 'prod', 'prod--orders.db'],
    ['a-b_c.1', 'eu-west', 'eu-west--a-b_c.1'],
  ])('%s in %s is %s, and back', (db, cluster, ours) => {
    expect(ourNameOf(db, cluster)).toBe(ours);
    expect(liteFSNameOf(ours, cluster)).toBe(db);
  });

  it.each([
    ['Orders.db', undefined],
    ['a--b', undefined],
    ['a--b', 'prod'],
    ['', 'prod'],
    ['..x', undefined],
    ['x'.repeat(58), 'prod'], // 64 characters with the prefix
  ])('refuses %j in %s', (db, cluster) => {
    expect(code(() => ourNameOf(db, cluster))).toBe('400 EINVAL');
  });

  it('lists only the cluster, and without one only names that belong to none', () => {
    expect(liteFSNameOf('prod--app.db', 'prod')).toBe('app.db');
    expect(liteFSNameOf('prod--app.db', undefined)).toBeUndefined();
    expect(liteFSNameOf('prod--app.db', 'pro')).toBeUndefined();
    expect(liteFSNameOf('prod--a--b', 'prod')).toBeUndefined();
    expect(liteFSNameOf('prod--', 'prod')).toBeUndefined();
    expect(liteFSNameOf('app.db', 'prod')).toBeUndefined();
  });
});

describe('errors', () => {
  it.each([
    ['LTX_BAD_FLAGS', 'EBADHEADER'],
    ['LTX_RESERVED_SET', 'EBADHEADER'],
    ['LTX_FILE_CHECKSUM_MISMATCH', 'EBADCHECKSUM'],
    ['LTX_POST_APPLY_MISMATCH', 'EBADCHECKSUM'],
    ['LTX_BAD_TRAILER', 'EBADCHECKSUM'],
    ['LTX_PAGE_ORDER', 'EBADPAGE'],
    ['LTX_BAD_PAGE_DATA', 'EBADPAGE'],
    ['LTX_TRUNCATED', 'EBADLTX'],
    ['LTX_TRAILING_DATA', 'EBADLTX'],
  ])('%s → 422 %s', (ltxCode, lfs) => {
    const e = ltxRejection(ltxCode, 'x');
    expect([e.status, e.code, e.extra]).toEqual([422, lfs, { ltxCode }]);
    expect(fromApiError('INVALID_LTX', 'x', { ltxCode })).toMatchObject({ status: 422, code: lfs });
  });

  it('API codes map to LiteFS codes; a position mismatch keeps its pos and a fixed message', async () => {
    const pos = { txid: '0000000000000003', postApplyChecksum: '8000000000000001' };
    const res = litefsErrorResponse(fromApiError('POSITION_MISMATCH', 'MinTXID 5 does not follow the head 3', { pos }));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ code: 'EPOSMISMATCH', error: 'position mismatch', pos });
    expect(fromApiError('NOT_FOUND', 'x')).toMatchObject({ status: 404, code: 'ENOTFOUND' });
    expect(fromApiError('BAD_REQUEST', 'x')).toMatchObject({ status: 400, code: 'EINVAL' });
    expect(fromApiError('STORAGE_UNAVAILABLE', 'x')).toMatchObject({ status: 503, code: 'EUNAVAILABLE' });
    expect(fromApiError('INTERNAL', 'secret detail')).toMatchObject({ status: 500, code: 'EINTERNAL', message: 'internal error' });
  });
});
