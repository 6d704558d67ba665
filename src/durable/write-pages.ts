// Page-set writes (DESIGN §4 POST .../tx): the DO assigns the next TXID, encodes the LTX file and ingests it.

import { ChecksumUpdate, crcLinear, DatabaseState, encodeLTX, isValidPageSize, lockPgno, makeHeader, MAX_TXID } from '../ltx/index.ts';
import { decodePageBatch } from '../replication/page-batch.ts';
import { headJSON, type IngestContext, ingestLTX } from './ingest.ts';
import { StagedPageChecksums } from './page-checksums.ts';
import { type PosJSON, type RpcResult, err } from './rpc-result.ts';

export interface WritePagesOptions {
  /** The TXID the writer read at; must equal the head (optimistic concurrency). */
  base: bigint;
  /** Database size in pages afterwards; default: unchanged, or grown to the highest page written. */
  commit?: number;
  /** Required for the first write to an empty database. */
  pageSize?: number;
}

/** 64 MiB: a transaction's dirty pages are buffered (read whole, before the write queue) to learn the commit before encoding. */
export const DEFAULT_MAX_TX_BYTES = 64 * 1024 * 1024;

/** Commits `body` (a whole batch, DESIGN §4 batch page format) as the next transaction. */
export async function writePages(ctx: IngestContext, body: Uint8Array, opts: WritePagesOptions): Promise<RpcResult<PosJSON>> {
  const pos = ctx.catalog.position();
  const head = pos?.txid ?? 0n;
  if (opts.base !== head) return err('CONFLICT', `base ${opts.base} is not the head ${head}`, { pos: headJSON(pos) });
  // A pushed file may end at TXID 2^64-1; there is no next TXID to assign (the encoder would throw: a 500).
  if (head === MAX_TXID)
    return err('TXID_EXHAUSTED', 'the database is at the last TXID (ffffffffffffffff); no transaction can follow it', {
      pos: headJSON(pos),
    });
  const pageSize = pos?.pageSize ?? opts.pageSize;
  if (pageSize === undefined) return err('BAD_REQUEST', 'the first write to an empty database needs page_size');
  if (!isValidPageSize(pageSize)) return err('BAD_REQUEST', `invalid page size ${pageSize}`);
  if (pos && opts.pageSize !== undefined && opts.pageSize !== pos.pageSize) {
    return err('PAGE_SIZE_MISMATCH', `page size ${opts.pageSize}, database has ${pos.pageSize}`, { pageSize: pos.pageSize });
  }
  const parsed = decodePageBatch(body, pageSize);
  if (!parsed.ok) return err(parsed.code, parsed.message);
  const pages = parsed.pages;
  if (pages.length === 0) return err('BAD_REQUEST', 'no pages in the batch');
  const highest = pages[pages.length - 1].pgno;
  const commit = opts.commit ?? Math.max(pos?.commit ?? 0, highest);
  if (!Number.isInteger(commit) || commit < highest) return err('BAD_REQUEST', `commit ${commit} is below page ${highest}`);
  const lock = lockPgno(pageSize);
  if (pages.some((p) => p.pgno === lock)) return err('BAD_REQUEST', `page ${lock} is the lock page`);
  if (!pos && pages.length !== (commit >= lock ? commit - 1 : commit)) {
    return err('BAD_REQUEST', 'the first write must hold every page from 1 to commit');
  }

  // The true post-apply checksum, from the committed page checksums (a dry run; nothing stays staged).
  const sums = new StagedPageChecksums(ctx.sql, '0000000000000000'); // a dry run: discarded below
  const state = new DatabaseState(sums);
  if (pos) Object.assign(state, { pageSize, commit: pos.commit, txid: pos.txid, checksum: pos.checksum });
  const txid = head + 1n;
  const header = makeHeader({
    pageSize,
    commit,
    minTXID: txid,
    maxTXID: txid,
    timestamp: ctx.now(),
    preApplyChecksum: pos ? pos.checksum : 0n,
  });
  const update = new ChecksumUpdate(state, header);
  for (const p of pages) update.page(p.pgno, crcLinear(p.data));
  const post = update.finish();
  sums.discard();

  const bytes = encodeLTX(header, pages, post);
  return ingestLTX(ctx, new Blob([bytes]).stream());
}
