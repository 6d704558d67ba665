// Per-page and rolling database checksums (ltx-format.md §6): XOR of page CRCs with bit 63 forced on.

import { CHECKSUM_FLAG, EMPTY_DB_CHECKSUM, lockPgno } from './constants.ts';
import { CRC64, type CRCLinear, pageCRCInto } from './crc64.ts';

const pgnoBytes = new Uint8Array(4);
const pgnoView = new DataView(pgnoBytes.buffer);

/** `ltx.ChecksumPage`: FLAG | CRC64(BE32(pgno) || data). */
export function pageChecksum(pgno: number, data: Uint8Array): bigint {
  pgnoView.setUint32(0, pgno);
  return CHECKSUM_FLAG | new CRC64().update(pgnoBytes).update(data).digest();
}

/** `pageChecksum(pgno, data)` from the data's linear CRC part (`crcLinear(data)`): no second pass over the page. */
export function pageChecksumLinear(pgno: number, lin: CRCLinear): bigint {
  pageCRCInto(pgno, lin, halves);
  return CHECKSUM_FLAG | (BigInt(halves.hi) << 32n) | BigInt(halves.lo);
}

const halves = { hi: 0, lo: 0 };

/** Incremental update of a rolling checksum: XOR out the old page's checksum (if any), XOR in the new. */
export function updateChecksum(checksum: bigint, oldPage: bigint | undefined, newPage: bigint | undefined): bigint {
  let c = checksum;
  if (oldPage !== undefined) c ^= oldPage;
  if (newPage !== undefined) c ^= newPage;
  return CHECKSUM_FLAG | c;
}

/**
 * Rolling checksum of a whole database from its pages (1..commit, lock page skipped).
 * `pageAt(pgno)` returns the page bytes; used for snapshots and tests.
 */
export function databaseChecksum(pageSize: number, commit: number, pageAt: (pgno: number) => Uint8Array): bigint {
  const lock = lockPgno(pageSize);
  let c = EMPTY_DB_CHECKSUM;
  for (let pgno = 1; pgno <= commit; pgno++) {
    if (pgno !== lock) c ^= pageChecksum(pgno, pageAt(pgno));
  }
  return CHECKSUM_FLAG | c;
}

/** 16 lowercase hex digits: the wire and file-name form of TXIDs and checksums. */
export function formatHex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** Parses exactly 16 lowercase hex digits; returns undefined otherwise. */
export function parseHex64(s: string): bigint | undefined {
  return /^[0-9a-f]{16}$/.test(s) ? BigInt('0x' + s) : undefined;
}
