// TXIDs (ltx-format.md): transaction IDs — bigint in code, 1 … 2^64−1 (0: before the first transaction) — and 16 lowercase hex digits on the wire and in file names.

import { formatHex64, parseHex64 } from './checksum.ts';

/** A transaction ID. */
export type TXID = bigint;

/** 16 lowercase hex digits, as the wire, file names and Litestream write a TXID. */
export function formatTXID(txid: TXID): string {
  return formatHex64(txid);
}

/** A TXID from exactly 16 lowercase hex digits; undefined for anything else. */
export function parseTXID(text: string): TXID | undefined {
  return parseHex64(text);
}
