// Non-destructive restore: the database as it was at a past point, written as the next transaction.

import { ChecksumUpdate, crcLinear, DatabaseState, lockPgno, LTXEncoder, makeHeader, MAX_TXID, pageChecksumLinear } from '../ltx/index.ts';
import type { ReadPlan } from '../replication/plan.ts';
import { snapshotSqlite } from '../replication/snapshot-stream.ts';
import { type IngestContext, ingestLTX } from './ingest.ts';
import { StagedPageChecksums } from './page-checksums.ts';
import { type PosJSON, type RpcResult, err, ok, posJSON } from './rpc-result.ts';

export interface RestoreResult {
  pos: PosJSON;
  /** The TXID whose state was restored. */
  restoredFrom: string;
  /** Pages the new transaction wrote (those that differ from the head). */
  pages: number;
}

/**
 * Streams the database at `plan` (the past point) page by page, keeps the pages whose checksum
 * differs from the head's (the page table), and encodes them as TXID head+1 with Commit = the past
 * commit, so readers see the restore as the next transaction and it can itself be undone by
 * restoring to the TXID before it. The file goes through the same ingest path as a push.
 */
export async function restoreAsNewTransaction(ctx: IngestContext, plan: ReadPlan): Promise<RpcResult<RestoreResult>> {
  const pos = ctx.catalog.position();
  if (!pos) return err('NOT_FOUND', `database ${ctx.name} does not exist`);
  const from = plan.txid.toString(16).padStart(16, '0');
  if (plan.txid === pos.txid) return ok({ pos: posJSON(pos.txid, pos.checksum), restoredFrom: from, pages: 0 }, 200);
  if (pos.txid === MAX_TXID) {
    return err('TXID_EXHAUSTED', 'the database is at the last TXID (ffffffffffffffff); a restore would need the TXID after it', {
      pos: posJSON(pos.txid, pos.checksum),
    });
  }
  const txid = pos.txid + 1n;
  const header = makeHeader({
    pageSize: pos.pageSize,
    commit: plan.commit,
    minTXID: txid,
    maxTXID: txid,
    timestamp: ctx.now(),
    preApplyChecksum: pos.checksum,
  });
  // The head's page checksums, read-only: a dry run that never spills to the staging table.
  const dryRun = new StagedPageChecksums(ctx.sql, '0000000000000000', Infinity);
  const state = new DatabaseState(dryRun);
  Object.assign(state, { pageSize: pos.pageSize, commit: pos.commit, txid: pos.txid, checksum: pos.checksum });
  const update = new ChecksumUpdate(state, header);
  const enc = new LTXEncoder(header);
  const source = snapshotSqlite(ctx.store, plan, ctx.prefix).body.getReader();
  const lock = lockPgno(pos.pageSize);
  let pending = new Uint8Array(0);
  let pgno = 0;
  let written = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.start());
    },
    async pull(controller) {
      const r = await source.read();
      if (r.done) {
        if (pending.length !== 0) throw new Error('snapshot stream ended inside a page');
        controller.enqueue(enc.finish(update.finish()));
        dryRun.discard();
        controller.close();
        return;
      }
      const bytes = pending.length === 0 ? r.value : concat(pending, r.value);
      let at = 0;
      for (; at + pos.pageSize <= bytes.length; at += pos.pageSize) {
        pgno++;
        if (pgno === lock) continue;
        const page = bytes.subarray(at, at + pos.pageSize);
        const lin = crcLinear(page);
        const wanted = pageChecksumLinear(pgno, lin);
        if (pgno <= pos.commit && state.pageChecksumOf(pgno) === wanted) continue; // same as the head
        if (pgno > pos.commit && wanted === state.zeroPageChecksum(pgno)) continue; // growth reads as zeros anyway
        update.page(pgno, lin);
        controller.enqueue(enc.encodePage(pgno, page.slice()));
        written++;
      }
      pending = bytes.slice(at);
    },
    cancel(reason) {
      dryRun.discard();
      return source.cancel(reason);
    },
  });
  const result = await ingestLTX(ctx, body);
  if (!result.ok) return result;
  return ok({ pos: result.value, restoredFrom: from, pages: written }, 201);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
