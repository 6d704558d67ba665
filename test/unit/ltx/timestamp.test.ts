// LTX timestamps [contract]: the litestream-timestamp text Litestream's FormatTimestamp writes and ParseTimestamp reads (ltx-format.md §8).

import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTimestamp } from '../../../src/ltx/index.ts';

describe('formatTimestamp / parseTimestamp', () => {
  const formats: [number, string][] = [
    [0, '1970-01-01T00:00:00.000Z'],
    [Date.UTC(2024, 0, 2, 3, 4, 5, 6), '2024-01-02T03:04:05.006Z'],
    [Date.UTC(2024, 1, 29, 23, 59, 59, 999), '2024-02-29T23:59:59.999Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [Date.UTC(9999, 11, 31, 23, 59, 59, 999), '9999-12-31T23:59:59.999Z'],
  ];
  for (const [ms, text] of formats) {
    it(`formats ${ms} as ${text} and parses it back`, () => {
      expect(formatTimestamp(ms)).toBe(text);
      expect(parseTimestamp(text)).toBe(ms);
    });
  }

  it('always writes exactly 3 fraction digits in UTC', () => {
    for (let ms = 1_700_000_000_000; ms < 1_700_000_000_000 + 2000; ms += 37) {
      expect(formatTimestamp(ms)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it('refuses timestamps outside years 0000..9999 and non-integers', () => {
    for (const ms of [Date.UTC(10000, 0, 1), new Date(0).setUTCFullYear(-1), 1.5, Number.NaN]) {
      expect(() => formatTimestamp(ms)).toThrow(expect.objectContaining({ name: 'LTXError', code: 'LTX_INVALID_ARGUMENT' }));
    }
  });

  const parses: [string, number][] = [
    ['2024-01-02T03:04:05Z', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02T03:04:05.1Z', Date.UTC(2024, 0, 2, 3, 4, 5, 100)],
    ['2024-01-02T03:04:05.123456789Z', Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
    ['2024-01-02T03:04:05.999999Z', Date.UTC(2024, 0, 2, 3, 4, 5, 999)],
    ['2024-01-02T05:04:05.006+02:00', Date.UTC(2024, 0, 2, 3, 4, 5, 6)],
    ['2024-01-01T22:04:05.006-05:00', Date.UTC(2024, 0, 2, 3, 4, 5, 6)],
    ['0001-01-01T00:00:00Z', new Date(0).setUTCFullYear(1, 0, 1)],
  ];
  for (const [text, ms] of parses) {
    it(`parses RFC3339(Nano) ${text}`, () => {
      expect(parseTimestamp(text)).toBe(ms);
    });
  }

  const invalid = [
    '',
    '2024-01-02',
    '2024-01-02 03:04:05Z',
    '2024-01-02t03:04:05z',
    '2024-01-02T03:04:05',
    '2024-01-02T03:04:05.Z',
    '2024-01-02T03:04:05.1234567890Z',
    '2024-13-02T03:04:05Z',
    '2024-00-02T03:04:05Z',
    '2023-02-29T03:04:05Z',
    '2024-04-31T03:04:05Z',
    '2024-01-02T24:00:00Z',
    '2024-01-02T03:60:05Z',
    '2024-01-02T03:04:60Z',
    '2024-01-02T03:04:05+24:00',
    '2024-01-02T03:04:05+0200',
    ' 2024-01-02T03:04:05Z',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(parseTimestamp(text)).toBeNull();
    });
  }
});
