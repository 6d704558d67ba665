// Point selectors of every read (DESIGN §4): `txid=<hex>`, `at=<RFC3339 | relative>` or the head, and `min_txid=<hex>`.

import { parseTimestamp } from '../ltx/index.ts';

/** Which state a read is asked at. `at` is ms since the epoch; resolving it to a TXID is the planner's job. */
export type PointSelector = { kind: 'head' } | { kind: 'txid'; txid: bigint } | { kind: 'at'; at: number };

/** A malformed point selector; always answered as 400 BAD_REQUEST. */
export class PointError extends Error {
  readonly code: 'BAD_REQUEST' = 'BAD_REQUEST';

  constructor(message: string) {
    super(message);
    this.name = 'PointError';
  }
}

/**
 * How far (ms) an absolute `at` may lie ahead of the server's clock: a client whose clock runs a
 * little ahead must not be refused for a timestamp it took as "now". Relative expressions get no
 * slack: "in 5 minutes" is refused outright.
 */
export const AT_FUTURE_SKEW_MS = 60_000;

/** Longest `at` text read at all (characters); bounds the parsers' regex work on hostile input. */
export const MAX_AT_LENGTH = 64;

/** A TXID in a query value: 1–16 lowercase hex digits (the wire form is 16). Also the API schema's pattern (routes/params.ts). */
export const TXID_HEX = /^[0-9a-f]{1,16}$/;

/**
 * The point of a read from its query values. Neither → head; both → BAD_REQUEST.
 * `txid`: 1–16 lowercase hex digits (the wire form is 16), not 0. `at`: see `parseAt`.
 */
export async function parsePoint(q: { txid?: string; at?: string }, nowMs: number): Promise<PointSelector> {
  if (q.txid !== undefined && q.at !== undefined) throw new PointError('give txid or at, not both');
  if (q.txid !== undefined) {
    const txid = parseHexTXID('txid', q.txid);
    if (txid === 0n) throw new PointError('txid must not be 0');
    return { kind: 'txid', txid };
  }
  if (q.at !== undefined) return { kind: 'at', at: await parseAt(q.at, nowMs) };
  return { kind: 'head' };
}

/**
 * `min_txid` (read-your-writes): 1–16 lowercase hex digits, or undefined when absent. 0 is accepted
 * and always satisfied: it is the position of an empty database, which a client may echo back.
 */
export function parseMinTXID(v: string | undefined): bigint | undefined {
  return v === undefined ? undefined : parseHexTXID('min_txid', v);
}

/**
 * An `at` value to ms since the epoch, relative to `nowMs`. Accepted:
 *
 * - **RFC3339**, strictly (calendar-checked: `2024-13-01`, `2024-02-30`, second 60 are refused):
 *   `2024-06-15T12:30:45Z`, `…45.123456+02:00`, 1–9 fraction digits (below a ms dropped), `T`/`t`
 *   or a space between date and time, `Z`/`z` or ±hh:mm. A space in place of the offset's `+`
 *   is read as `+` (an unencoded `+` in a query string decodes to a space; `-` is never altered).
 *   A **bare date** `2024-06-15` is midnight UTC of that day. Anything starting with `dddd-` is
 *   read only this way (never guessed at). More than `AT_FUTURE_SKEW_MS` ahead of now → refused.
 * - **Relative**, via chrono-node's English casual parser with `nowMs` as the reference instant in
 *   UTC: `now`, `today` (= now), `yesterday` (= now − 1 day), or a duration followed by `ago`:
 *   `5 minutes ago`, `an hour ago`, `30s ago`, `2h ago`, `1 day ago`, `1 hour 5 minutes ago`,
 *   `1.5 hours ago`; numbers, a/an, or one–twelve; units s/sec/second, m/min/minute, h/hr/hour,
 *   d/day, week, mo/month, y/yr/year (months and years in calendar arithmetic, as JS Date does it).
 *   The whole text must be one expression; vague amounts (few, several, couple) and anything in
 *   the future (`in 5 minutes`, `tomorrow`) are refused. chrono-node is imported on the first
 *   relative time an isolate parses, not at start-up: evaluating it costs 40–50 ms (README).
 */
export async function parseAt(text: string, nowMs: number): Promise<number> {
  const s = text.trim();
  if (s === '') throw new PointError('at must not be empty');
  if (s.length > MAX_AT_LENGTH) throw new PointError(`at is longer than ${MAX_AT_LENGTH} characters`);
  if (/^\d{4}-/.test(s)) {
    const ms = parseAbsolute(s);
    if (ms === null) throw new PointError(`at ${quote(s)} is not an RFC3339 timestamp`);
    if (ms > nowMs + AT_FUTURE_SKEW_MS) throw new PointError(`at ${quote(s)} is in the future`);
    return ms;
  }
  return parseRelative(s, nowMs);
}

function parseHexTXID(name: string, v: string): bigint {
  if (!TXID_HEX.test(v)) throw new PointError(`${name} must be 1 to 16 lowercase hex digits, got ${quote(v)}`);
  return BigInt('0x' + v);
}

/** RFC3339 (or a bare date) through the strict metadata parser, after the normalizations above. */
function parseAbsolute(s: string): number | null {
  let t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? s + 'T00:00:00Z' : s;
  t = t.replace(/^(\d{4}-\d{2}-\d{2})[ t]/, '$1T');
  t = t.replace(/^(.*\d) (\d{2}:\d{2})$/, '$1+$2');
  if (t.endsWith('z')) t = t.slice(0, -1) + 'Z';
  return parseTimestamp(t);
}

const RELATIVE_SHAPE = /^(?:now|today|yesterday|.*\sago)$/i;
const VAGUE = /\b(?:few|several|couple)\b/i;

async function parseRelative(s: string, nowMs: number): Promise<number> {
  if (!RELATIVE_SHAPE.test(s) || VAGUE.test(s)) throw new PointError(badAt(s));
  // biome-ignore lint/style/noRestrictedImports: the one place chrono-node loads, on the first relative time, never at start-up
  const { casual } = await import('chrono-node/en');
  const results = casual.parse(s, { instant: new Date(nowMs), timezone: 'UTC' });
  const r = results[0];
  // One expression covering the whole text: chrono also finds dates inside longer text.
  if (results.length !== 1 || r.index !== 0 || r.text.length !== s.length || r.end) throw new PointError(badAt(s));
  const ms = r.start.date().getTime();
  if (!Number.isFinite(ms)) throw new PointError(badAt(s));
  if (ms > nowMs) throw new PointError(`at ${quote(s)} is in the future`);
  return ms;
}

function badAt(s: string): string {
  return `at ${quote(s)} is neither RFC3339 nor a relative time like "5 minutes ago"`;
}

function quote(s: string): string {
  return JSON.stringify(s.slice(0, 40));
}
