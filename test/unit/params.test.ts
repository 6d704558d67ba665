// routes/params.ts: each parse function accepts exactly what the document's schema built from its rule (src/openapi/param-schemas.ts) allows; table cases with names.

import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.ts';
import {
  ByteRangeSchema,
  CompactLevelSchema,
  LevelSchema,
  LimitSchema,
  LtxFilenameSchema,
  PgnoListSchema,
  TXIDSchema,
} from '../../src/openapi/param-schemas.ts';
import {
  COMPACT_LEVEL,
  LIMIT,
  parseIntQuery,
  parseLevel,
  parseLtxFilename,
  parsePgno,
  parsePgnoList,
  parseRange,
  parseSnapshotFormat,
  parseTXIDParam,
} from '../../src/routes/params.ts';

/** The ApiError code `fn` throws, or 'ok'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

describe('TXIDs', () => {
  const cases: [string, string, boolean][] = [
    ['16 digits', '0000000000000001', true],
    ['short form', '7', true],
    ['uppercase', 'ABC', false],
    ['17 digits', '00000000000000001', false],
    ['empty', '', false],
    ['sign', '-1', false],
  ];
  for (const [name, value, valid] of cases) {
    it(name, () => {
      expect(TXIDSchema.safeParse(value).success).toBe(valid);
      expect(outcome(() => parseTXIDParam('txid', value))).toBe(valid ? 'ok' : 'BAD_REQUEST');
    });
  }
  it('absent is undefined', () => expect(parseTXIDParam('txid', undefined)).toBeUndefined());
});

describe('levels', () => {
  const cases: [string, number | null][] = [
    ['0', 0],
    ['0000', 0],
    ['9', 9],
    ['0009', 9],
    ['000a', null],
    ['a', null],
    ['00009', null],
    ['10', null],
  ];
  for (const [value, level] of cases) {
    it(JSON.stringify(value), () => {
      expect(LevelSchema.safeParse(value).success).toBe(level !== null);
      if (level === null) expect(outcome(() => parseLevel(value))).toBe('BAD_REQUEST');
      else expect(parseLevel(value)).toBe(level);
    });
  }
});

describe('integers', () => {
  it('limit: default, bounds, digits only', () => {
    expect(parseIntQuery('limit', undefined, LIMIT)).toBe(1000);
    expect(parseIntQuery('limit', '1', LIMIT)).toBe(1);
    expect(parseIntQuery('limit', '1000', LIMIT)).toBe(1000);
    for (const bad of ['0', '1001', '1e3', ' 5', '+5', '0x10', '', '12345678901'])
      expect(
        outcome(() => parseIntQuery('limit', bad, LIMIT)),
        bad,
      ).toBe('BAD_REQUEST');
  });
  it("the document's integer schemas carry the same bounds and default", () => {
    for (const [schema, rule] of [
      [LimitSchema, LIMIT],
      [CompactLevelSchema, COMPACT_LEVEL],
    ] as const) {
      expect(schema.safeParse(undefined).data).toBe(rule.default);
      for (const n of [rule.min, rule.max]) expect(schema.safeParse(n).success).toBe(true);
      for (const n of [rule.min - 1, rule.max + 1]) expect(schema.safeParse(n).success).toBe(false);
    }
  });
  it('a rule without a default leaves absent values undefined', () => {
    expect(parseIntQuery('level', undefined, COMPACT_LEVEL)).toBeUndefined();
    expect(outcome(() => parseIntQuery('level', '10', COMPACT_LEVEL))).toBe('BAD_REQUEST');
  });
  it('the message names the bounds', () => {
    expect(() => parseIntQuery('limit', '0', LIMIT)).toThrow('limit must be an integer from 1 to 1000');
  });
  it('pgno: 1..4294967295', () => {
    expect(parsePgno('1')).toBe(1);
    expect(parsePgno('4294967295')).toBe(4294967295);
    for (const bad of ['0', '4294967296', 'x', '', undefined])
      expect(
        outcome(() => parsePgno(bad)),
        String(bad),
      ).toBe('BAD_REQUEST');
  });
});

describe('page lists', () => {
  const cases: [string, string, number[] | null][] = [
    ['single', '1', [1]],
    ['list and range', '1,5,9-12', [1, 5, 9, 10, 11, 12]],
    ['unsorted with duplicates', '5,1-3,2', [1, 2, 3, 5]],
    ['spaces', ' 1 , 2-3 ', [1, 2, 3]],
    ['empty item', '1,,2', null],
    ['reversed range', '5-1', null],
    ['zero', '0', null],
    ['negative', '-1', null],
    ['letters', 'a', null],
    ['past u32', '4294967296', null],
    ['too many pages', '1-4097', null],
  ];
  for (const [name, text, pages] of cases) {
    it(name, () => {
      if (pages === null) expect(outcome(() => parsePgnoList(text))).toBe('BAD_REQUEST');
      else expect(parsePgnoList(text)).toEqual(pages);
      // The pattern admits a superset (ranges and sizes are checked after it), never less.
      if (pages !== null) expect(PgnoListSchema.safeParse(text).success).toBe(true);
    });
  }
  it('absent is a 400', () => expect(outcome(() => parsePgnoList(undefined))).toBe('BAD_REQUEST'));
});

describe('LTX file names', () => {
  it('accepts <min>-<max>.ltx with 1 ≤ min ≤ max', () => {
    expect(parseLtxFilename('0000000000000001-0000000000000003.ltx')).toEqual({ minTXID: 1n, maxTXID: 3n });
    expect(LtxFilenameSchema.safeParse('0000000000000001-0000000000000003.ltx').success).toBe(true);
  });
  // The document's pattern cannot say 1 ≤ min ≤ max (its description does); the route refuses all four.
  for (const [bad, byPattern] of [
    ['0000000000000000-0000000000000001.ltx', false],
    ['0000000000000003-0000000000000001.ltx', false],
    ['1-1.ltx', true],
    ['0000000000000001-0000000000000001.LTX', true],
  ] as const) {
    it(`refuses ${bad}`, () => {
      expect(outcome(() => parseLtxFilename(bad))).toBe('BAD_REQUEST');
      expect(LtxFilenameSchema.safeParse(bad).success).toBe(!byPattern);
    });
  }
});

describe('snapshot format', () => {
  it('sqlite by default, ltx, nothing else', () => {
    expect(parseSnapshotFormat(undefined)).toBe('sqlite');
    expect(parseSnapshotFormat('ltx')).toBe('ltx');
    expect(outcome(() => parseSnapshotFormat('zip'))).toBe('BAD_REQUEST');
  });
});

describe('Range', () => {
  const cases: [string, string | undefined, unknown][] = [
    ['absent', undefined, undefined],
    ['first-last', 'bytes=0-99', { offset: 0, length: 100 }],
    ['first-', 'bytes=10-', { offset: 10 }],
    ['suffix', 'bytes=-5', { suffix: 5 }],
    ['unit in any case', 'BYTES=1-1', { offset: 1, length: 1 }],
    ['other unit: ignored', 'items=0-1', undefined],
    ['both sides empty', 'bytes=-', 'RANGE_NOT_SATISFIABLE'],
    ['several ranges', 'bytes=0-1,5-6', 'RANGE_NOT_SATISFIABLE'],
    ['backwards', 'bytes=9-1', 'RANGE_NOT_SATISFIABLE'],
    ['empty suffix', 'bytes=-0', 'RANGE_NOT_SATISFIABLE'],
    ['garbage', '!', 'RANGE_NOT_SATISFIABLE'],
  ];
  for (const [name, header, expected] of cases) {
    it(name, () => {
      if (typeof expected === 'string') expect(outcome(() => parseRange(header))).toBe(expected);
      else expect(parseRange(header)).toEqual(expected);
    });
  }
  it('the schema admits exactly the one-range forms', () => {
    for (const ok of ['bytes=0-99', 'bytes=10-', 'bytes=-5', 'Bytes=1-1']) expect(ByteRangeSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['bytes=-', 'bytes=0-1,5-6', 'items=0-1', '!']) expect(ByteRangeSchema.safeParse(bad).success, bad).toBe(false);
  });
});
