// The console's TXID handling: what a person may type in a TXID field, the wire form, nearest and previous file boundaries.

import { describe, expect, it } from 'vitest';
import { formatTXID, nearestTXID, parseTXIDInput, previousTXID } from '../../../src/console/txid.ts';

describe('parseTXIDInput', () => {
  const accepted: [string, bigint][] = [
    ['1', 1n],
    ['0000000000000003', 3n],
    ['  a  ', 10n],
    ['FF', 255n],
    ['ffffffffffffffff', 2n ** 64n - 1n],
  ];
  for (const [text, txid] of accepted) it(`accepts ${JSON.stringify(text)}`, () => expect(parseTXIDInput(text)).toEqual({ txid }));

  for (const text of ['', ' ', '0', '0000000000000000', 'g', '0x10', '-1', '1 2', '10000000000000000', '1.5']) {
    it(`refuses ${JSON.stringify(text)} with a message`, () => {
      const r = parseTXIDInput(text);
      expect('error' in r && r.error.length > 0).toBe(true);
    });
  }
});

describe('formatTXID', () => {
  it('writes 16 lowercase hex digits', () => {
    expect(formatTXID(1n)).toBe('0000000000000001');
    expect(formatTXID(0xabcn)).toBe('0000000000000abc');
    expect(formatTXID(2n ** 64n - 1n)).toBe('ffffffffffffffff');
  });
});

describe('nearestTXID and previousTXID', () => {
  const points = [1n, 4n, 10n, 11n];
  const nearest: [bigint, bigint][] = [
    [0n, 1n],
    [1n, 1n],
    [2n, 1n],
    [3n, 4n],
    [7n, 4n], // a tie goes to the lower one
    [8n, 10n],
    [11n, 11n],
    [99n, 11n],
  ];
  for (const [t, want] of nearest) it(`nearest to ${t} is ${want}`, () => expect(nearestTXID(points, t)).toBe(want));

  it('previous is the largest boundary below, if any', () => {
    expect(previousTXID(points, 1n)).toBeUndefined();
    expect(previousTXID(points, 4n)).toBe(1n);
    expect(previousTXID(points, 10n)).toBe(4n);
    expect(previousTXID(points, 50n)).toBe(11n);
  });
});
