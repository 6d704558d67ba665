// Builds seeded LTX chains (snapshot + incrementals) with their expected positions, for push and fault tests.

import { DatabaseState, MemoryDatabase, applyLTX } from '../../src/ltx/index.ts';
import { encodeLTX } from '../../src/ltx/encoder.ts';
import { HEADER_FLAG_NO_CHECKSUM } from '../../src/ltx/constants.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { prng } from './prng.ts';

export interface ChainFile {
  minTXID: bigint;
  maxTXID: bigint;
  bytes: Uint8Array;
  /** The true rolling checksum after this file. */
  checksum: bigint;
  name: string;
  /** The pages it writes, ascending, and the database size in pages after it. */
  pgnos: number[];
  commit: number;
}

/**
 * A chain of `count` files over a database of `pageSize` pages: a snapshot, then incrementals that
 * change, grow and shrink it. NoChecksum files (as Litestream writes) unless `tracked`; files listed
 * in `big` get that many random pages (to force multipart uploads).
 */
export async function buildChain(opts: {
  seed: number;
  count: number;
  pageSize?: number;
  tracked?: boolean;
  big?: Record<number, number>;
}): Promise<ChainFile[]> {
  const r = prng(opts.seed);
  const pageSize = opts.pageSize ?? 4096;
  const flags = opts.tracked ? 0 : HEADER_FLAG_NO_CHECKSUM;
  const state = new DatabaseState();
  const db = new MemoryDatabase();
  const out: ChainFile[] = [];
  let commit = 4 + r.int(8);
  const page = () => (r.int(4) === 0 ? r.bytes(pageSize) : new Uint8Array(pageSize).fill(r.int(256)));
  for (let i = 0; i < opts.count; i++) {
    const txid = BigInt(i + 1);
    let pages: { pgno: number; data: Uint8Array }[];
    const bigPages = opts.big?.[i];
    if (i === 0) {
      if (bigPages) commit = bigPages;
      pages = Array.from({ length: commit }, (_, k) => ({ pgno: k + 1, data: bigPages ? r.bytes(pageSize) : page() }));
    } else {
      const next = bigPages ? commit + bigPages : Math.max(1, commit + r.int(5) - 2);
      const set = new Set<number>();
      for (let p = commit + 1; p <= next; p++) set.add(p);
      for (let n = 1 + r.int(3); n > 0; n--) set.add(1 + r.int(next));
      pages = [...set].sort((a, b) => a - b).map((pgno) => ({ pgno, data: bigPages ? r.bytes(pageSize) : page() }));
      commit = next;
    }
    const header = makeHeader({ pageSize, commit, minTXID: txid, maxTXID: txid, timestamp: 1_700_000_000_000 + i, flags });
    // The tracked variant needs the post-apply checksum up front: apply a NoChecksum copy first.
    let bytes: Uint8Array;
    if (opts.tracked && i > 0) {
      const probe = encodeLTX({ ...header, flags: HEADER_FLAG_NO_CHECKSUM }, pages);
      const pre = state.checksum;
      await applyLTX(state, [probe], db);
      bytes = encodeLTX({ ...header, preApplyChecksum: pre }, pages, state.checksum);
    } else {
      bytes = encodeLTX(header, pages);
      await applyLTX(state, [bytes], db);
    }
    const hex = txid.toString(16).padStart(16, '0');
    out.push({
      minTXID: txid,
      maxTXID: txid,
      bytes,
      checksum: state.checksum,
      name: `${hex}-${hex}.ltx`,
      pgnos: pages.map((p) => p.pgno),
      commit,
    });
  }
  return out;
}
