// Durations as text ("500ms", "5m", "1h30m", "1.5s"): the units and their sizes, for the Worker's config and the CLI's flags.

/** Milliseconds in one of each unit. */
export const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export type DurationUnit = keyof typeof DURATION_UNIT_MS;

/** Which texts are durations. The default is the config grammar: whole-number parts with a unit, "1h30m", and "0". */
export interface DurationGrammar {
  /** One number that may have a decimal fraction, "1.5s", instead of whole-number parts; the result is then not rounded. */
  fractions?: boolean;
  /** A number without a unit is milliseconds, "250"; otherwise "0" is the only duration without one. */
  bareMs?: boolean;
  /** The units accepted; all of DURATION_UNIT_MS when not given. */
  units?: readonly DurationUnit[];
}

/**
 * Parses a duration such as "500ms", "30s", "5m", "1h", "7d" or "1h30m" into milliseconds. Returns
 * null for anything else (no signs, no spaces) and for more than Number.MAX_SAFE_INTEGER ms.
 */
export function parseDuration(text: string, grammar: DurationGrammar = {}): number | null {
  const amount = grammar.fractions ? String.raw`\d+(?:\.\d+)?` : String.raw`\d+`;
  const bare = grammar.bareMs ? new RegExp(`^${amount}$`).test(text) : text === '0';
  if (bare) return atMostSafe(Number(text));
  // Longest first, so "5ms" is 5 ms and not 5 minutes followed by a stray "s".
  const units = [...(grammar.units ?? (Object.keys(DURATION_UNIT_MS) as DurationUnit[]))].sort((a, b) => b.length - a.length);
  const part = `(${amount})(${units.join('|')})`;
  if (!new RegExp(grammar.fractions ? `^${part}$` : `^(?:${part})+$`).test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(new RegExp(part, 'g'))) total += Number(n) * DURATION_UNIT_MS[unit as DurationUnit];
  return atMostSafe(total);
}

function atMostSafe(ms: number): number | null {
  return ms <= Number.MAX_SAFE_INTEGER ? ms : null;
}
