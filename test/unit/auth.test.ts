// auth.ts in Node: Authorization parsing, token matching, scope semantics and database patterns.
import { describe, expect, it } from 'vitest';
import { allows, allowsDatabase, authenticate, hasScope, matchDatabasePattern, parseAuthorization } from '../../src/auth.ts';
import { resolveConfig } from '../../src/config.ts';
import type { Scope, TokenSpec } from '../../src/config.ts';
import { TOKEN_SPECS, TOKENS, TOKENS_JSON } from '../helpers/auth-matrix.ts';

const tokens = resolveConfig({ LTX_EDGE_TOKENS: TOKENS_JSON, LTX_EDGE_ENV: 'development' }).tokens;

function spec(scopes: Scope[], databases: TokenSpec['databases'] = '*'): TokenSpec {
  return { token: 'x', scopes, databases };
}

describe('parseAuthorization', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['BeArEr abc', 'abc'],
    ['  Bearer   abc  ', 'abc'],
    ['Bearer\tabc', 'abc'],
    [undefined, null],
    ['', null],
    ['   ', null],
    ['Bearer', null],
    ['Bearer ', null],
    ['abc', null],
    ['FlyV1 abc', null],
    ['Basic abc', null],
    ['Bearer abc def', null],
    ['Bearerabc', null],
  ])('%j → %j (default)', (header, want) => {
    expect(parseAuthorization(header)).toBe(want);
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['abc', 'abc'],
    ['  abc ', 'abc'],
    ['FlyV1 abc', 'abc'],
    ['flyv1 abc', 'abc'],
    ['FlyV1 fm2_a,fm2_b', 'fm2_a,fm2_b'],
    ['', null],
    ['Bearer', null],
    ['FlyV1', null],
    ['FlyV1 ', null],
    ['Basic abc', null],
    ['a b c', null],
  ])('%j → %j (raw)', (header, want) => {
    expect(parseAuthorization(header, { raw: true })).toBe(want);
  });
});

describe('authenticate', () => {
  it('finds each configured token by its Bearer header, whatever the scheme case and whitespace', async () => {
    for (const [role, value] of Object.entries(TOKENS)) {
      const want = tokens.find((t) => t.token === value);
      expect(await authenticate(`Bearer ${value}`, tokens), role).toBe(want);
      expect(await authenticate(`bearer ${value}`, tokens), role).toBe(want);
      expect(await authenticate(` BEARER \t${value} `, tokens), role).toBe(want);
    }
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['scheme only', 'Bearer '],
    ['wrong token', 'Bearer wrong-token'],
    ['prefix of a token', `Bearer ${TOKENS.admin.slice(0, -1)}`],
    ['token plus a character', `Bearer ${TOKENS.admin}x`],
    ['other case', `Bearer ${TOKENS.admin.toUpperCase()}`],
    ['Basic scheme', `Basic ${TOKENS.admin}`],
    ['bare token without raw', TOKENS.admin],
    ['FlyV1 without raw', `FlyV1 ${TOKENS.admin}`],
  ])('rejects %s', async (_name, header) => {
    expect(await authenticate(header, tokens)).toBeNull();
  });

  it('accepts the bare token and FlyV1 only with raw', async () => {
    const admin = tokens.find((t) => t.token === TOKENS.admin);
    expect(await authenticate(TOKENS.admin, tokens, { raw: true })).toBe(admin);
    expect(await authenticate(`FlyV1 ${TOKENS.admin}`, tokens, { raw: true })).toBe(admin);
    expect(await authenticate(`Bearer ${TOKENS.admin}`, tokens, { raw: true })).toBe(admin);
    expect(await authenticate('unknown', tokens, { raw: true })).toBeNull();
  });

  it('matches nothing without configured tokens', async () => {
    expect(await authenticate(`Bearer ${TOKENS.admin}`, [])).toBeNull();
  });

  it('returns the configured spec object (digests are cached per spec) and stays stable across calls', async () => {
    const first = await Promise.all([1, 2, 3].map(() => authenticate(`Bearer ${TOKENS.write}`, tokens)));
    expect(new Set(first).size).toBe(1);
    expect(first[0]?.scopes).toEqual(['write']);
    // A different Config with the same values: its own specs come back.
    const again = resolveConfig({ LTX_EDGE_TOKENS: TOKENS_JSON }).tokens;
    const other = await authenticate(`Bearer ${TOKENS.write}`, again);
    expect(other).toEqual(first[0]);
    expect(other).not.toBe(first[0]);
  });

  it('handles non-ASCII and long presented tokens', async () => {
    expect(await authenticate('Bearer tökén', tokens)).toBeNull();
    expect(await authenticate(`Bearer ${'a'.repeat(100_000)}`, tokens)).toBeNull();
    const unicode = resolveConfig({ LTX_EDGE_TOKENS: JSON.stringify([{ token: 'tökén', scopes: ['read'], databases: '*' }]) }).tokens;
    expect(await authenticate('Bearer tökén', unicode)).toBe(unicode[0]);
  });
});

describe('hasScope: independent scopes, admin implies read and write', () => {
  const cases: [Scope[], Record<Scope, boolean>][] = [
    [['read'], { read: true, write: false, admin: false }],
    [['write'], { read: false, write: true, admin: false }],
    [['read', 'write'], { read: true, write: true, admin: false }],
    [['admin'], { read: true, write: true, admin: true }],
    [['read', 'write', 'admin'], { read: true, write: true, admin: true }],
  ];
  it.each(cases)('%j', (scopes, want) => {
    for (const scope of ['read', 'write', 'admin'] as const) {
      expect(hasScope(spec(scopes), scope), scope).toBe(want[scope]);
    }
  });
});

describe('matchDatabasePattern', () => {
  it.each([
    ['orders', 'orders', true],
    ['orders', 'orders2', false],
    ['orders', 'order', false],
    ['orders', 'xorders', false],
    ['app', 'app-1', false],
    ['*', 'anything', true],
    ['*', '', true],
    ['app-*', 'app-1', true],
    ['app-*', 'app-', true],
    ['app-*', 'app', false],
    ['app-*', 'apps-1', false],
    ['*-staging', 'shop-staging', true],
    ['*-staging', 'shop-staging2', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['a*b*c', 'acb', false],
    ['a**b', 'ab', true],
    ['*a*a*a*a*a*b', 'a'.repeat(62), false],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
  ])('%j ~ %j → %s', (pattern, name, want) => {
    expect(matchDatabasePattern(pattern, name)).toBe(want);
  });
});

describe('allows', () => {
  it('"*" covers every database', () => {
    expect(allowsDatabase(spec(['read']), 'orders')).toBe(true);
    expect(allows(spec(['read']), 'read', 'orders')).toBe(true);
  });

  it('an explicit list covers exactly its names, not names sharing a prefix', () => {
    const s = spec(['read'], ['orders', 'users']);
    expect(allows(s, 'read', 'orders')).toBe(true);
    expect(allows(s, 'read', 'users')).toBe(true);
    expect(allows(s, 'read', 'orders-archive')).toBe(false);
    expect(allows(s, 'read', 'order')).toBe(false);
    expect(allows(s, 'read', 'user')).toBe(false);
    expect(allows(s, 'read', 'products')).toBe(false);
  });

  it('glob entries in the list', () => {
    const s = spec(['write'], ['app-*', 'billing']);
    expect(allows(s, 'write', 'app-eu')).toBe(true);
    expect(allows(s, 'write', 'billing')).toBe(true);
    expect(allows(s, 'write', 'billing-old')).toBe(false);
    expect(allows(s, 'write', 'apps')).toBe(false);
  });

  it('needs both the scope and the database', () => {
    const s = spec(['read'], ['orders']);
    expect(allows(s, 'write', 'orders')).toBe(false);
    expect(allows(s, 'read', 'users')).toBe(false);
    expect(allows(spec(['admin'], ['orders']), 'write', 'orders')).toBe(true);
    expect(allows(spec(['admin'], ['orders']), 'admin', 'users')).toBe(false);
  });

  it('without a database checks only the scope (routes across databases filter with allowsDatabase)', () => {
    expect(allows(spec(['read'], ['orders']), 'read')).toBe(true);
    expect(allows(spec(['read'], ['orders']), 'write')).toBe(false);
  });

  it('the matrix fixture has the intended powers', () => {
    const [read, write, admin, otherDb] = TOKEN_SPECS;
    expect([read, write, admin].map((s) => (['read', 'write', 'admin'] as const).map((sc) => allows(s, sc, 'orders')))).toEqual([
      [true, false, false],
      [false, true, false],
      [true, true, true],
    ]);
    expect(allows(otherDb, 'read', 'orders')).toBe(false);
    expect(allows(otherDb, 'admin', 'auth-other-db')).toBe(true);
  });
});
