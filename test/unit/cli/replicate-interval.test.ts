// `replicate --interval`: a flag duration from 10 ms to 1 h, rounded to whole milliseconds; anything else is a usage error.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/cli-errors.ts';
import { REPLICATE_USAGE, parseInterval } from '../../../src/cli/replicate.ts';

describe('parseInterval', () => {
  it.each([
    ['10', 10],
    ['10ms', 10],
    ['250ms', 250],
    [' 1s ', 1_000],
    ['1.5s', 1_500],
    ['10.4', 10],
    ['0.5s', 500],
    ['60m', 3_600_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  it.each(['soon', '1h', '1m30s', '-5ms', ''])('%j is not a duration', (text) => {
    expect(() => parseInterval(text)).toThrow(new UsageError(`invalid duration: ${text} (e.g. 500ms, 1s, 2m)`, REPLICATE_USAGE));
  });

  it.each(['0', '1ms', '9.6', '0.001s', '61m', '3600000.4'])('%j is outside 10 ms to 1 h', (text) => {
    expect(() => parseInterval(text)).toThrow(new UsageError(`interval out of range: ${text} (10ms to 1h)`, REPLICATE_USAGE));
  });
});
