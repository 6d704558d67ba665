// Human-readable sizes and times for the console's tables.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

const STEPS: [number, Intl.RelativeTimeFormatUnit][] = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [30, 'day'],
  [12, 'month'],
  [1, 'year'],
];

/** `iso` relative to `now` (ms), e.g. "3 minutes ago". */
export function formatRelative(iso: string, now: number): string {
  let v = (Date.parse(iso) - now) / 1000;
  let i = 0;
  for (; i < STEPS.length - 1 && Math.abs(v) >= STEPS[i][0]; i++) v /= STEPS[i][0];
  return new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(Math.round(v), STEPS[i][1]);
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

/** Ascending page numbers as ranges: `[1, 2, 3, 7]` → `1–3, 7`. */
export function formatPgnos(pgnos: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < pgnos.length; ) {
    let j = i;
    while (j + 1 < pgnos.length && pgnos[j + 1] === pgnos[j] + 1) j++;
    parts.push(j === i ? String(pgnos[i]) : `${pgnos[i]}–${pgnos[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
