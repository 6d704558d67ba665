// LTX file names (ltx-format.md, Litestream's FormatFilename/ParseFilename): `<min TXID>-<max TXID>.ltx`, 16 lowercase hex digits each, 1 ≤ min ≤ max.

import { formatHex64, parseHex64 } from './checksum.ts';
import { MAX_TXID } from './constants.ts';

/** The name's shape; `parseLTXFilename` also checks the range. */
export const LTX_FILENAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$/;

/** `0000000000000007-0000000000000009.ltx`; RangeError unless 1 ≤ min ≤ max ≤ MAX_TXID. */
export function formatLTXFilename(minTXID: bigint, maxTXID: bigint): string {
  if (minTXID < 1n || maxTXID < minTXID || maxTXID > MAX_TXID) throw new RangeError(`invalid TXID range ${minTXID}-${maxTXID}`);
  return `${formatHex64(minTXID)}-${formatHex64(maxTXID)}.ltx`;
}

/** The TXID range a file name names, or undefined for any other text (uppercase hex, TXID 0, min > max). */
export function parseLTXFilename(name: string): { minTXID: bigint; maxTXID: bigint } | undefined {
  const m = LTX_FILENAME.exec(name);
  if (m === null) return undefined;
  const minTXID = parseHex64(m[1]);
  const maxTXID = parseHex64(m[2]);
  if (minTXID === undefined || maxTXID === undefined || minTXID < 1n || maxTXID < minTXID) return undefined;
  return { minTXID, maxTXID };
}
