// LTX timestamps as text (ltx-format.md §8): RFC3339 as Litestream's FormatTimestamp and ParseTimestamp write and read it.

import { fail } from './errors.ts';

const MIN_TIMESTAMP = new Date(0).setUTCFullYear(0, 0, 1); // 0000-01-01T00:00:00.000Z
const MAX_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * RFC3339 in UTC with exactly 3 fraction digits, e.g. `2024-01-02T03:04:05.006Z`: Litestream's
 * FormatTimestamp (ltx-format.md §8), the `litestream-timestamp` metadata value. `ms` is an integer
 * number of milliseconds since the epoch within years 0000..9999 (else LTX_INVALID_ARGUMENT).
 */
export function formatTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < MIN_TIMESTAMP || ms > MAX_TIMESTAMP) fail('LTX_INVALID_ARGUMENT', `timestamp out of range: ${ms}`);
  // toISOString is exactly this for years 0000..9999.
  return new Date(ms).toISOString();
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses RFC3339 with any number (1..9) of fraction digits or none, `Z` or a ±hh:mm offset
 * (Litestream falls back to RFC3339Nano), to milliseconds since the epoch; digits below a
 * millisecond are dropped (Go's UnixMilli). Null when it is not a valid timestamp.
 */
export function parseTimestamp(s: string): number | null {
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  if (day > daysInMonth) return null;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)));
  return d.getTime() - offsetMin * 60_000;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
