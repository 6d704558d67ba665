// Point selectors (DESIGN §4): txid / at / head, min_txid, and the at grammar (RFC3339 + relative) against a fixed now.
import { describe, expect, it } from 'vitest';
import { AT_FUTURE_SKEW_MS, PointError, parseAt, parseMinTXID, parsePoint } from '../../../src/replication/point.ts';

const NOW = Date.UTC(2024, 5, 15, 12, 30, 45, 123); // 2024-06-15T12:30:45.123Z, a Saturday
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

async function code(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PointError);
    return (e as PointError).code;
  }
  return undefined;
}

describe('parsePoint', () => {
  const ok: [string, { txid?: string; at?: string }, unknown][] = [
    ['nothing: head', {}, { kind: 'head' }],
    ['16-digit txid', { txid: '00000000000000ff' }, { kind: 'txid', txid: 255n }],
    ['short txid', { txid: '7' }, { kind: 'txid', txid: 7n }],
    ['largest txid', { txid: 'ffffffffffffffff' }, { kind: 'txid', txid: 0xffffffffffffffffn }],
    ['at RFC3339', { at: '2024-06-15T12:00:00Z' }, { kind: 'at', at: Date.UTC(2024, 5, 15, 12) }],
    ['at relative', { at: '5 minutes ago' }, { kind: 'at', at: NOW - 5 * MIN }],
  ];
  for (const [name, q, want] of ok) it(name, async () => expect(await parsePoint(q, NOW)).toEqual(want));

  const bad: [string, { txid?: string; at?: string }][] = [
    ['both txid and at', { txid: '1', at: 'now' }],
    ['txid 0', { txid: '0000000000000000' }],
    ['txid 0, short', { txid: '0' }],
    ['uppercase hex', { txid: '00000000000000FF' }],
    ['17 digits', { txid: '00000000000000001' }],
    ['empty txid', { txid: '' }],
    ['0x prefix', { txid: '0x1' }],
    ['decimal sign', { txid: '+1' }],
    ['spaces', { txid: ' 1' }],
    ['empty at', { at: '' }],
    ['bad at', { at: 'soon' }],
  ];
  for (const [name, q] of bad) it(`refuses ${name}`, async () => expect(await code(() => parsePoint(q, NOW))).toBe('BAD_REQUEST'));
});

describe('parseMinTXID', () => {
  it('absent', () => expect(parseMinTXID(undefined)).toBeUndefined());
  it('hex', () => expect(parseMinTXID('000000000000002a')).toBe(42n));
  it('short hex', () => expect(parseMinTXID('2a')).toBe(42n));
  it('0: an empty database position, always satisfied', () => expect(parseMinTXID('0000000000000000')).toBe(0n));
  for (const v of ['', 'xyz', '2A', '00000000000000001', '-1', '1 '])
    it(`refuses ${JSON.stringify(v)}`, async () => expect(await code(() => parseMinTXID(v))).toBe('BAD_REQUEST'));
});

describe('parseAt: RFC3339', () => {
  const ok: [string, number][] = [
    ['2024-06-15T12:30:00Z', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-06-15T12:30:00.5Z', Date.UTC(2024, 5, 15, 12, 30, 0, 500)],
    ['2024-06-15T12:30:00.123456789Z', Date.UTC(2024, 5, 15, 12, 30, 0, 123)],
    ['2024-06-15T14:30:00+02:00', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-06-15T07:00:00-05:30', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-06-15t12:30:00z', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-06-15 12:30:00Z', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-06-15T14:30:00 02:00', Date.UTC(2024, 5, 15, 12, 30)], // "+" decoded to a space in a query string
    ['  2024-06-15T12:30:00Z ', Date.UTC(2024, 5, 15, 12, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['1969-12-31T23:59:59Z', -1000],
    ['2024-06-15', Date.UTC(2024, 5, 15)], // bare date: midnight UTC
    ['2024-06-15T12:31:44Z', NOW + 59 * SEC - 123], // within the clock-skew allowance
  ];
  for (const [text, want] of ok) it(JSON.stringify(text), async () => expect(await parseAt(text, NOW)).toBe(want));

  const bad: [string, string][] = [
    ['month 13', '2024-13-01'],
    ['month 13 with a time', '2024-13-01T00:00:00Z'],
    ['month 0', '2024-00-10T00:00:00Z'],
    ['February 30', '2024-02-30T00:00:00Z'],
    ['February 29 of a common year', '2023-02-29T00:00:00Z'],
    ['1900 is not a leap year', '1900-02-29T00:00:00Z'],
    ['hour 24', '2024-06-15T24:00:00Z'],
    ['minute 60', '2024-06-15T12:60:00Z'],
    ['leap second', '2024-06-30T23:59:60Z'],
    ['no zone', '2024-06-15T12:30:00'],
    ['no seconds', '2024-06-15T12:30Z'],
    ['10 fraction digits', '2024-06-15T12:30:00.1234567890Z'],
    ['empty fraction', '2024-06-15T12:30:00.Z'],
    ['offset without colon', '2024-06-15T12:30:00+0200'],
    ['offset hour 24', '2024-06-15T12:30:00+24:00'],
    ['short year', '24-06-15T12:30:00Z'],
    ['one-digit day', '2024-06-5'],
    ['date and garbage', '2024-06-15 tomorrow'],
    ['two spaces', '2024-06-15  12:30:00Z'],
    ['future beyond the skew allowance', '2024-06-15T12:32:00Z'],
    ['far future', '2999-01-01T00:00:00Z'],
    ['future bare date', '2024-06-16'],
    ['epoch milliseconds', '1718454645123'],
  ];
  for (const [name, text] of bad)
    it(`refuses ${name}: ${JSON.stringify(text)}`, async () => expect(await code(() => parseAt(text, NOW))).toBe('BAD_REQUEST'));

  it('the skew allowance is a minute', async () => {
    expect(await parseAt(new Date(NOW + AT_FUTURE_SKEW_MS).toISOString(), NOW)).toBe(NOW + AT_FUTURE_SKEW_MS);
    expect(await code(() => parseAt(new Date(NOW + AT_FUTURE_SKEW_MS + 1).toISOString(), NOW))).toBe('BAD_REQUEST');
  });
});

describe('parseAt: relative', () => {
  const ok: [string, number][] = [
    ['now', NOW],
    ['NOW', NOW],
    ['today', NOW],
    ['yesterday', NOW - DAY],
    ['Yesterday', NOW - DAY],
    ['5 minutes ago', NOW - 5 * MIN],
    ['5 MINUTES AGO', NOW - 5 * MIN],
    ['  5 minutes ago  ', NOW - 5 * MIN],
    ['5 minute ago', NOW - 5 * MIN],
    ['5 mins ago', NOW - 5 * MIN],
    ['5m ago', NOW - 5 * MIN],
    ['2 hours ago', NOW - 2 * HOUR],
    ['2h ago', NOW - 2 * HOUR],
    ['2 hrs ago', NOW - 2 * HOUR],
    ['an hour ago', NOW - HOUR],
    ['one hour ago', NOW - HOUR],
    ['a minute ago', NOW - MIN],
    ['half an hour ago', NOW - 30 * MIN],
    ['1.5 hours ago', NOW - 90 * MIN],
    ['30s ago', NOW - 30 * SEC],
    ['30 sec ago', NOW - 30 * SEC],
    ['10 seconds ago', NOW - 10 * SEC],
    ['0 minutes ago', NOW],
    ['1 day ago', NOW - DAY],
    ['a day ago', NOW - DAY],
    ['1d ago', NOW - DAY],
    ['2 weeks ago', NOW - 14 * DAY],
    ['1 hour 5 minutes ago', NOW - 65 * MIN],
    ['1 hour and 5 minutes ago', NOW - 65 * MIN],
    ['2 days 3 hours ago', NOW - 2 * DAY - 3 * HOUR],
    ['3 months ago', Date.UTC(2024, 2, 15, 12, 30, 45, 123)],
    ['1 year ago', Date.UTC(2023, 5, 15, 12, 30, 45, 123)],
  ];
  for (const [text, want] of ok) it(JSON.stringify(text), async () => expect(await parseAt(text, NOW)).toBe(want));

  const bad: [string, string][] = [
    ['future', 'in 5 minutes'],
    ['future, "from now"', '5 minutes from now'],
    ['tomorrow', 'tomorrow'],
    ['future inside an "ago"', 'in 5 minutes ago'],
    ['negative amount', '-5 minutes ago'],
    ['no "ago"', '5 minutes'],
    ['only "ago"', 'ago'],
    ['trailing words', '5 minutes ago please'],
    ['trailing "ago ago"', '5 minutes ago ago'],
    ['vague: a few', 'a few minutes ago'],
    ['vague: several', 'several hours ago'],
    ['vague: a couple', 'a couple of hours ago'],
    ['unknown unit', '5 fortnights ago'],
    ['absolute with a weekday', 'last monday'],
    ['time of day', 'yesterday at noon'],
    ['this morning', 'this morning'],
    ['garbage', 'garbage'],
    ['overlong', `${'1 minute '.repeat(7)}ago`],
    ['whitespace only', '   '],
  ];
  for (const [name, text] of bad)
    it(`refuses ${name}: ${JSON.stringify(text)}`, async () => expect(await code(() => parseAt(text, NOW))).toBe('BAD_REQUEST'));

  it('is deterministic for a given now, whatever the date', async () => {
    // Across a US DST change and a month end: the reference is an instant in UTC, not local time.
    const dst = Date.UTC(2024, 2, 10, 12);
    expect(await parseAt('1 day ago', dst)).toBe(dst - DAY);
    expect(await parseAt('yesterday', dst)).toBe(dst - DAY);
    const endOfMonth = Date.UTC(2024, 0, 31, 23, 59, 59, 999);
    expect(await parseAt('24 hours ago', endOfMonth)).toBe(endOfMonth - DAY);
    expect(await parseAt('5 minutes ago', NOW)).toBe(await parseAt('5 minutes ago', NOW));
  });
});
