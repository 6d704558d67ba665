// What changed since a client's position (LiteVFS's GET /db/sync and POST /sync), from the DO's changes and the files' page indexes.

import type { Context } from 'hono';
import type { ChangesAnswer, PlanAnswer } from '../durable/read-plan.ts';
import type { PosJSON, RpcResult } from '../durable/rpc-result.ts';
import type { AppEnv } from '../env.ts';
import { formatTXID } from '../ltx/index.ts';
import { LiteFSError, type QueryPos, fromApiError } from './litefs-protocol.ts';
import { ReadService } from '../read/read-service.ts';

/** LiteVFS's `DbChanges`: the head, and the pages changed since the client's position (or all). */
export interface SyncAnswer {
  pos: PosJSON;
  pgnos: number[];
  all: boolean;
}

/** Most databases one POST /sync may ask about. */
export const MAX_SYNC_DATABASES = 256;
/** Largest POST /sync body: 256 positions of ~100 bytes need 26 KiB; 256 KiB leaves room for long names. */
export const MAX_SYNC_BODY_BYTES = 256 * 1024;

/** A DO result as its declared type (the RPC stub's mapped type drops the error branch). */
function asResult<T>(r: RpcResult<T>): RpcResult<T> {
  return r;
}

/**
 * The changes of `name` since `pos`, or undefined when the database does not exist. all=true when
 * there is no pos, when it is ahead of us or not one of our positions (its checksum differs: we were
 * restored), or when the range is no longer retained or the database shrank; otherwise the pages
 * changed after it. `pos` of the answer is the head the changes lead to.
 */
export async function syncAnswer(c: Context<AppEnv>, name: string, pos: QueryPos | undefined): Promise<SyncAnswer | undefined> {
  const stub = c.env.DATABASE.getByName(name);
  const head: PosJSON = await stub.position();
  const headTXID = BigInt('0x' + head.txid);
  if (headTXID === 0n) return undefined;
  const all: SyncAnswer = { pos: head, pgnos: [], all: true };
  if (pos === undefined || pos.txid === 0n || pos.txid > headTXID) return all;
  if (pos.txid === headTXID) return pos.checksum === BigInt('0x' + head.postApplyChecksum) ? { pos: head, pgnos: [], all: false } : all;
  const at = asResult<PlanAnswer>(await stub.plan(name, { txid: formatTXID(pos.txid) }));
  if (!at.ok) return all; // older than retention
  const checksum = at.value.plan.checksum;
  if (checksum !== 0n && checksum !== pos.checksum) return all;
  const changes = asResult<ChangesAnswer>(await stub.changes(name, formatTXID(pos.txid), {}));
  if (!changes.ok) throw fromApiError(changes.error.code, changes.error.message, changes.error.details);
  const answer = changes.value;
  if (answer.all) return { pos: answer.pos, pgnos: [], all: true };
  if (answer.pgnos) return { pos: answer.pos, pgnos: answer.pgnos, all: false };
  // The head moved on meanwhile: the union of the level-0 files' page indexes, within the final size.
  return new ReadService(c, name).read({}, undefined, async (r) => {
    const changed = new Set<number>();
    for (const f of answer.files ?? []) {
      const ref = { level: f.level, minTXID: BigInt('0x' + f.minTXID), maxTXID: BigInt('0x' + f.maxTXID), size: f.size, commit: f.commit };
      const index = await r.source.indexOf(name, ref);
      for (const pgno of index.pgnos) if (pgno <= r.plan.commit) changed.add(pgno);
    }
    return { pos: answer.pos, pgnos: [...changed].sort((a, b) => a - b), all: false };
  });
}

/**
 * The body of POST /sync: `{"positions": {"<db>": {"txid", "postApplyChecksum"}}}` (a zero position
 * means the client has none). Returns the LiteFS names with their positions; 400 EINVAL otherwise.
 */
export function parseSyncPositions(body: unknown): Map<string, QueryPos | undefined> {
  const bad = (why: string) =>
    new LiteFSError(400, 'EINVAL', `body must be {"positions": {"<db>": {"txid", "postApplyChecksum"}}}: ${why}`);
  if (typeof body !== 'object' || body === null) throw bad('not an object');
  const positions = (body as { positions?: unknown }).positions;
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions)) throw bad('no positions object');
  const entries = Object.entries(positions as Record<string, unknown>);
  if (entries.length > MAX_SYNC_DATABASES) throw new LiteFSError(413, 'ETOOLARGE', `at most ${MAX_SYNC_DATABASES} databases per sync`);
  const out = new Map<string, QueryPos | undefined>();
  for (const [db, p] of entries) {
    const { txid, postApplyChecksum } = (p ?? {}) as { txid?: unknown; postApplyChecksum?: unknown };
    if (
      typeof txid !== 'string' ||
      typeof postApplyChecksum !== 'string' ||
      !/^[0-9a-fA-F]{1,16}$/.test(txid) ||
      !/^[0-9a-fA-F]{1,16}$/.test(postApplyChecksum)
    ) {
      throw bad(`bad position for ${JSON.stringify(db.slice(0, 80))}`);
    }
    const pos = { txid: BigInt('0x' + txid), checksum: BigInt('0x' + postApplyChecksum) };
    out.set(db, pos.txid === 0n && pos.checksum === 0n ? undefined : pos);
  }
  return out;
}
