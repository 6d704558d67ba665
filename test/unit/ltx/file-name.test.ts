// LTX file names: the one format and parse every layer uses (storage keys, the raw-file route), with Litestream's rules.

import { describe, expect, it } from 'vitest';
import { MAX_TXID, formatLTXFilename, parseLTXFilename } from '../../../src/ltx/index.ts';

describe('LTX file names', () => {
  it('format and parse round-trip at the ends of the TXID range', () => {
    for (const [min, max] of [
      [1n, 1n],
      [7n, 9n],
      [1n, MAX_TXID],
      [MAX_TXID, MAX_TXID],
    ] as const) {
      const name = formatLTXFilename(min, max);
      expect(name).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}\.ltx$/);
      expect(parseLTXFilename(name)).toEqual({ minTXID: min, maxTXID: max });
    }
    expect(formatLTXFilename(7n, 9n)).toBe('0000000000000007-0000000000000009.ltx');
  });

  it('refuses what the reference encoder never writes', () => {
    for (const name of [
      '0000000000000000-0000000000000001.ltx', // TXID 0
      '0000000000000009-0000000000000007.ltx', // min > max
      '000000000000000A-000000000000000B.ltx', // uppercase
      '7-9.ltx',
      '0000000000000007-0000000000000009.LTX',
      '0000000000000007-0000000000000009.ltx.tmp',
      ' 0000000000000007-0000000000000009.ltx',
    ]) {
      expect(parseLTXFilename(name), name).toBeUndefined();
    }
    expect(() => formatLTXFilename(0n, 1n)).toThrow(RangeError);
    expect(() => formatLTXFilename(3n, 2n)).toThrow(RangeError);
  });
});
