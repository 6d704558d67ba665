// Objects in R2 that the catalog may not reference yet or any more: pending-delete rows in the DO's meta table, written with catalog changes and swept until R2 confirms.

import { parseLtxKey, ltxKey } from '../storage/keys.ts';
import { StorageError } from '../storage/object-store.ts';
import type { IngestContext } from './ingest.ts';
import { retryOf } from './ingest.ts';

/**
 * Objects that may be in R2 without a catalog row: rows `pending-delete:<id>` of the DO's `meta`
 * table, each a JSON array of keys (at most PENDING_BATCH). Retention writes them in the transaction
 * that drops the catalog rows and removes them once R2 confirmed the delete; a compaction writes its
 * output key before the upload and removes it in the commit. Whatever a failed delete, a failed
 * compaction or a DO that died in between left behind is deleted by the next maintenance pass
 * (sweepPendingDeletes): the bucket converges to the catalog without ever being listed.
 */
const PENDING_DELETE = 'pending-delete:';
/** The first key after every `pending-delete:` key (';' follows ':'). */
const PENDING_DELETE_END = 'pending-delete;';
/** Keys per pending row and per R2 delete call (R2 takes 1,000 keys per call). */
const PENDING_BATCH = 1000;

/**
 * Removes files from the catalog, then their objects (retention). Returns how many went. If the R2
 * delete fails (after retries) the error is thrown, the catalog change stands and the objects stay
 * pending for the next pass.
 */
export async function deleteFiles(ctx: IngestContext, files: { level: number; minTXID: bigint; maxTXID: bigint }[]): Promise<number> {
  if (files.length === 0) return 0;
  const keys = files.map((f) => ltxKey(ctx.prefix, ctx.name, f.level, f.minTXID, f.maxTXID));
  const batches = ctx.transaction(() => {
    for (const f of files) ctx.catalog.deleteFile(f.level, f.minTXID, f.maxTXID);
    ctx.catalog.nextGeneration();
    return addPending(ctx, keys);
  });
  // After the catalog commit nothing plans with them; until R2 confirms, the pending rows remember them.
  await deletePending(ctx, batches);
  return files.length;
}

/** Marks a compaction's or snapshot's output key a pending delete until the catalog commit that references it. */
export function markOutputPending(ctx: IngestContext, key: string): void {
  ctx.sql.exec(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
    `${PENDING_DELETE}output:${key}`,
    JSON.stringify([key]),
  );
}

/** Drops that mark (inside the catalog commit, or when the output is abandoned before any upload completed). */
export function clearPendingOutput(ctx: IngestContext, key: string): void {
  ctx.sql.exec('DELETE FROM meta WHERE key = ?', `${PENDING_DELETE}output:${key}`);
}

/** Writes pending rows for `keys` (call inside the transaction that drops their catalog rows). */
export function addPending(ctx: IngestContext, keys: string[]): { id: string; keys: string[] }[] {
  const batches: { id: string; keys: string[] }[] = [];
  for (let i = 0; i < keys.length; i += PENDING_BATCH) {
    const b = { id: `${PENDING_DELETE}${crypto.randomUUID()}`, keys: keys.slice(i, i + PENDING_BATCH) };
    ctx.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?)', b.id, JSON.stringify(b.keys));
    batches.push(b);
  }
  return batches;
}

/** Deletes each batch's objects, then its row; throws the R2 error (after retries), leaving the rest pending. */
export async function deletePending(ctx: IngestContext, batches: { id: string; keys: string[] }[]): Promise<void> {
  for (const b of batches) {
    await retryOf(ctx)(() => ctx.store.delete(b.keys));
    ctx.sql.exec('DELETE FROM meta WHERE key = ?', b.id);
  }
}

/** Whether any pending row is left (the caller comes back soon for it). */
export function hasPendingDeletes(ctx: IngestContext): boolean {
  return ctx.sql.exec('SELECT 1 FROM meta WHERE key >= ? AND key < ? LIMIT 1', PENDING_DELETE, PENDING_DELETE_END).toArray().length > 0;
}

/**
 * Deletes the objects of every pending row that the catalog does not reference (a key can be
 * written again, e.g. a compaction re-run), then the rows. A row whose delete fails stays for the
 * next pass; the failure is logged, not thrown, so it never blocks the pass. Rows naming a key of
 * `keep` (the output of a chunked snapshot still in progress) stay. Returns the objects deleted.
 */
export async function sweepPendingDeletes(ctx: IngestContext, keep: ReadonlySet<string> = new Set()): Promise<number> {
  let deleted = 0;
  for (const row of pendingRows(ctx)) {
    if (row.keys.some((k) => keep.has(k))) continue;
    const keys = row.keys.filter((k) => {
      const parsed = parseLtxKey(k, ctx.prefix);
      return parsed !== null && parsed.db === ctx.name && !ctx.catalog.file(parsed.level, parsed.minTXID, parsed.maxTXID);
    });
    try {
      if (keys.length > 0) await retryOf(ctx)(() => ctx.store.delete(keys));
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
      console.error(`pending deletes of ${ctx.name}: ${e.code} ${e.message}`);
      continue;
    }
    ctx.sql.exec('DELETE FROM meta WHERE key = ?', row.id);
    deleted += keys.length;
  }
  return deleted;
}

function pendingRows(ctx: IngestContext): { id: string; keys: string[] }[] {
  return ctx.sql
    .exec('SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key', PENDING_DELETE, PENDING_DELETE_END)
    .toArray()
    .map((r) => ({ id: String(r.key), keys: JSON.parse(String(r.value)) as string[] }));
}
