// Pure rules for accepting a pushed LTX file at a database's head (DESIGN §4 POST .../ltx).

import { type Header, isSnapshot, tracksChecksums } from '../ltx/index.ts';

/** What the DO knows of the head when a push arrives (undefined = empty database). */
export interface Head {
  pageSize: number;
  txid: bigint;
  checksum: bigint;
}

/** A committed level-0 file, as far as identifying a re-push needs. */
export interface CommittedFile {
  size: number;
  fileChecksum: bigint;
}

export type IngestDecision =
  /** MinTXID = head + 1 (or a snapshot onto an empty database): apply and commit. */
  | { kind: 'append' }
  /** Exactly this TXID range is already committed: answer 200 once the bytes prove identical. */
  | { kind: 'repush'; file: CommittedFile }
  | { kind: 'page-size'; expected: number }
  | { kind: 'mismatch'; reason: string };

/**
 * Decides from the header alone. The file's checksum chain is checked here when it carries one
 * (pre-apply = head checksum); the rest (pages, trailer, post-apply) is verified while streaming.
 */
export function decideIngest(
  head: Head | undefined,
  h: Header,
  committed: (min: bigint, max: bigint) => CommittedFile | undefined,
  opts: { allowOverlap?: boolean } = {},
): IngestDecision {
  if (!head) {
    return isSnapshot(h) ? { kind: 'append' } : { kind: 'mismatch', reason: 'an empty database needs a snapshot (MinTXID 1) first' };
  }
  if (h.maxTXID <= head.txid) {
    const file = committed(h.minTXID, h.maxTXID);
    if (file) return { kind: 'repush', file };
    return { kind: 'mismatch', reason: `TXIDs ${h.minTXID}-${h.maxTXID} are behind the head ${head.txid}` };
  }
  if (h.pageSize !== head.pageSize) return { kind: 'page-size', expected: head.pageSize };
  if (opts.allowOverlap && h.minTXID <= head.txid + 1n) return { kind: 'append' };
  if (h.minTXID !== head.txid + 1n) {
    return { kind: 'mismatch', reason: `MinTXID ${h.minTXID} does not follow the head ${head.txid}` };
  }
  if (tracksChecksums(h) && h.preApplyChecksum !== head.checksum) {
    return { kind: 'mismatch', reason: 'pre-apply checksum does not match the head checksum' };
  }
  return { kind: 'append' };
}
