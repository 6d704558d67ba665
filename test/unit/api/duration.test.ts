// parseDuration: one place for units and their sizes; the config grammar (whole-number parts) and the flags' (fractions, bare ms).

import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/api/duration.ts';

describe('parseDuration: the config grammar (the default)', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '-5m', '1.5h', '5 m', 'm', '5mins', '1w', ' 5m', '99999999999999999d'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('parseDuration: fractions, bare milliseconds, a subset of the units', () => {
  const flag = { fractions: true, bareMs: true, units: ['ms', 's', 'm'] } as const;

  it.each([
    ['0', 0],
    ['250', 250],
    ['0.5', 0.5],
    ['250ms', 250],
    ['1s', 1_000],
    ['1.5s', 1_500],
    ['0.25m', 15_000],
    ['2m', 120_000],
  ])('%s → %d ms, not rounded', (text, ms) => {
    expect(parseDuration(text, flag)).toBe(ms);
  });

  it.each(['', '1h', '1d', '1m30s', '.5s', '5.s', '-5ms', '+5ms', '1e3', '5 s', ' 5s', 'soon', '99999999999999999'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text, flag)).toBeNull();
    },
  );

  it('each option alone', () => {
    expect(parseDuration('250', { bareMs: true })).toBe(250);
    expect(parseDuration('1.5h', { fractions: true })).toBe(5_400_000);
    expect(parseDuration('1.5', { fractions: true })).toBeNull();
    expect(parseDuration('1h30m', { fractions: true })).toBeNull();
    expect(parseDuration('2d', { units: ['h'] })).toBeNull();
  });
});
