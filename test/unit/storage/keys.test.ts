// Litestream layout [contract]: LTX keys and prefixes (DESIGN §2).
import { describe, expect, it } from 'vitest';
import { dbPrefix, levelPrefix, ltxKey, parseLtxKey } from '../../../src/storage/keys.ts';

describe('ltxKey / parseLtxKey', () => {
  it('formats the DESIGN §2 example', () => {
    expect(ltxKey('db', 'orders', 0, 7n, 7n)).toBe('db/orders/0000/0000000000000007-0000000000000007.ltx');
    expect(ltxKey('db', 'orders', 9, 1n, 0xabcn)).toBe('db/orders/0009/0000000000000001-0000000000000abc.ltx');
  });

  const roundTrips: [string, string, number, bigint, bigint][] = [
    ['db', 'orders', 0, 1n, 1n],
    ['db', 'a', 3, 5n, 700n],
    ['tenants/acme/db', 'my-db.v2_x', 9, 1n, 0xffffffffffffffffn],
    ['db', '0', 8, 0x123456789abcdefn, 0xfedcba987654321n],
  ];
  for (const [prefix, db, level, min, max] of roundTrips) {
    it(`round-trips ${prefix} ${db} L${level} ${min}-${max}`, () => {
      const key = ltxKey(prefix, db, level, min, max);
      expect(parseLtxKey(key, prefix)).toEqual({ db, level, minTXID: min, maxTXID: max });
    });
  }

  const rejected: [string, string][] = [
    ['uppercase hex in a TXID', 'db/orders/0000/000000000000000A-000000000000000A.ltx'],
    ['uppercase hex in the level', 'db/orders/000A/0000000000000001-0000000000000001.ltx'],
    ['level with 3 digits', 'db/orders/000/0000000000000001-0000000000000001.ltx'],
    ['level with 5 digits', 'db/orders/00000/0000000000000001-0000000000000001.ltx'],
    ['level above 9', 'db/orders/000a/0000000000000001-0000000000000001.ltx'],
    ['short TXID', 'db/orders/0000/000000000000001-0000000000000001.ltx'],
    ['TXID 0', 'db/orders/0000/0000000000000000-0000000000000001.ltx'],
    ['min > max', 'db/orders/0000/0000000000000002-0000000000000001.ltx'],
    ['wrong extension', 'db/orders/0000/0000000000000001-0000000000000001.ltx.tmp'],
    ['no extension', 'db/orders/0000/0000000000000001-0000000000000001'],
    ['traversal as db', 'db/../0000/0000000000000001-0000000000000001.ltx'],
    ['dots inside db', 'db/a..b/0000/0000000000000001-0000000000000001.ltx'],
    ['traversal segment', 'db/orders/../0000/0000000000000001-0000000000000001.ltx'],
    ['extra segment', 'db/orders/x/0000/0000000000000001-0000000000000001.ltx'],
    ['trailing segment', 'db/orders/0000/0000000000000001-0000000000000001.ltx/x'],
    ['missing level', 'db/orders/0000000000000001-0000000000000001.ltx'],
    ['other prefix', 'dbx/orders/0000/0000000000000001-0000000000000001.ltx'],
    ['prefix without its slash', 'dborders/0000/0000000000000001-0000000000000001.ltx'],
    ['empty db', 'db//0000/0000000000000001-0000000000000001.ltx'],
    ['uppercase db', 'db/Orders/0000/0000000000000001-0000000000000001.ltx'],
    ['leading slash', '/db/orders/0000/0000000000000001-0000000000000001.ltx'],
    ['Litestream ltx/ root', 'db/orders/ltx/0/0000000000000001-0000000000000001.ltx'],
  ];
  for (const [label, key] of rejected) {
    it(`rejects ${label}`, () => {
      expect(parseLtxKey(key, 'db')).toBeNull();
    });
  }

  it('rejects keys under a nested prefix when parsed with another one', () => {
    const key = ltxKey('a/b', 'orders', 0, 1n, 1n);
    expect(parseLtxKey(key, 'a')).toBeNull();
    expect(parseLtxKey(key, 'a/b')).not.toBeNull();
  });

  const badArgs: [string, () => unknown][] = [
    ['db name with ..', () => ltxKey('db', 'a..b', 0, 1n, 1n)],
    ['db name with /', () => ltxKey('db', 'a/b', 0, 1n, 1n)],
    ['uppercase db name', () => ltxKey('db', 'A', 0, 1n, 1n)],
    ['prefix with ..', () => ltxKey('db/..', 'a', 0, 1n, 1n)],
    ['prefix with a trailing slash', () => ltxKey('db/', 'a', 0, 1n, 1n)],
    ['empty prefix', () => ltxKey('', 'a', 0, 1n, 1n)],
    ['level 10', () => ltxKey('db', 'a', 10, 1n, 1n)],
    ['level -1', () => ltxKey('db', 'a', -1, 1n, 1n)],
    ['fractional level', () => ltxKey('db', 'a', 1.5, 1n, 1n)],
    ['TXID 0', () => ltxKey('db', 'a', 0, 0n, 1n)],
    ['min > max', () => ltxKey('db', 'a', 0, 3n, 2n)],
    ['TXID ≥ 2^64', () => ltxKey('db', 'a', 0, 1n, 1n << 64n)],
  ];
  for (const [label, f] of badArgs) {
    it(`refuses to build a key with ${label}`, () => {
      expect(f).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID_ARGUMENT' }));
    });
  }
});

describe('prefixes', () => {
  it('end with a slash so one database never lists another', () => {
    expect(dbPrefix('db', 'orders')).toBe('db/orders/');
    expect(levelPrefix('db', 'orders', 0)).toBe('db/orders/0000/');
    expect(levelPrefix('db', 'orders', 9)).toBe('db/orders/0009/');
    expect(ltxKey('db', 'orders2', 0, 1n, 1n).startsWith(dbPrefix('db', 'orders'))).toBe(false);
    expect(ltxKey('db', 'orders', 3, 1n, 2n).startsWith(levelPrefix('db', 'orders', 3))).toBe(true);
  });
});
