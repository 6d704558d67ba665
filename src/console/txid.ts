// TXIDs in the console: parsing what a person types, formatting for the wire (16 hex digits), the nearest file boundary.

/** The wire form: 16 lowercase hex digits. */
export function formatTXID(txid: bigint): string {
  return txid.toString(16).padStart(16, '0');
}

/** A TXID from the wire (16 hex digits). */
export function toTXID(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/**
 * What a person typed in a TXID field: 1 to 16 hex digits (any case, surrounding blanks ignored),
 * padded to 16. Zero is no TXID (they start at 1).
 */
export function parseTXIDInput(text: string): { txid: bigint } | { error: string } {
  const s = text.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return { error: 'A TXID is 1 to 16 hex digits (0-9, a-f).' };
  const txid = toTXID(s);
  if (txid === 0n) return { error: 'TXIDs start at 1.' };
  return { txid };
}

/** The element of `sorted` (ascending, non-empty) closest to `txid`; the lower one on a tie. */
export function nearestTXID(sorted: readonly bigint[], txid: bigint): bigint {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < txid) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && txid - sorted[lo - 1] <= sorted[lo] - txid) return sorted[lo - 1];
  return sorted[lo];
}

/** The largest element of `sorted` below `txid`, if any. */
export function previousTXID(sorted: readonly bigint[], txid: bigint): bigint | undefined {
  let found: bigint | undefined;
  for (const t of sorted) {
    if (t >= txid) break;
    found = t;
  }
  return found;
}
