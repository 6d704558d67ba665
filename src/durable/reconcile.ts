// Brings the catalog up to what R2 holds: adopt the next contiguous valid file(s), ignore the rest.

import { SNAPSHOT_LEVEL, formatTXID } from '../ltx/index.ts';
import { levelPrefix, parseLtxKey } from '../storage/keys.ts';
import type { ObjectInfo } from '../storage/object-store.ts';
import { type IngestContext, ingestLTX } from './ingest.ts';

interface Candidate {
  info: ObjectInfo;
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
}

/**
 * After a crash between an R2 put and its catalog commit, the file at MinTXID = head+1 on level 0
 * is valid and ours: adopt it, and any that follow. With `fullReplica` (POST .../adopt), start an
 * empty catalog from the newest snapshot (level 9) and follow every level, furthest-reaching file
 * first, as Litestream's restore does. Each file is verified exactly as a push would be.
 * Returns how many files were adopted.
 */
export async function reconcile(ctx: IngestContext, opts: { fullReplica?: boolean } = {}): Promise<number> {
  let adopted = 0;
  if (opts.fullReplica && !ctx.catalog.position()) {
    const snapshots = (await listLevel(ctx, SNAPSHOT_LEVEL)).sort((a, b) => (a.maxTXID > b.maxTXID ? -1 : 1));
    for (const s of snapshots) {
      if (s.minTXID === 1n && (await adoptOne(ctx, s, false))) {
        adopted++;
        break;
      }
    }
  }
  for (;;) {
    const next = (ctx.catalog.position()?.txid ?? 0n) + 1n;
    const candidates = opts.fullReplica ? await reachable(ctx, next) : await startingAt(ctx, 0, next);
    let progressed = false;
    for (const c of candidates) {
      if (await adoptOne(ctx, c, opts.fullReplica === true)) {
        adopted++;
        progressed = true;
        break;
      }
    }
    if (!progressed) return adopted;
  }
}

async function adoptOne(ctx: IngestContext, c: Candidate, allowOverlap: boolean): Promise<boolean> {
  const obj = await ctx.store.get(c.info.key);
  if (!obj) return false;
  const result = await ingestLTX(ctx, obj.body, { stored: c.info, level: c.level, allowOverlap });
  if (!result.ok) console.warn(`reconcile: ignoring ${c.info.key}: ${result.error.code} ${result.error.message}`);
  return result.ok && result.status === 201;
}

/** Level-`level` files whose MinTXID is exactly `min`. */
async function startingAt(ctx: IngestContext, level: number, min: bigint): Promise<Candidate[]> {
  return listPrefix(ctx, `${levelPrefix(ctx.prefix, ctx.name, level)}${formatTXID(min)}-`);
}

/** Files on any level that cover `next` (MinTXID ≤ next ≤ MaxTXID), furthest-reaching first, higher level first on ties. */
async function reachable(ctx: IngestContext, next: bigint): Promise<Candidate[]> {
  const all: Candidate[] = [];
  for (let level = 0; level < SNAPSHOT_LEVEL; level++) all.push(...(await listLevel(ctx, level)));
  return all
    .filter((c) => c.minTXID <= next && c.maxTXID >= next)
    .sort((a, b) => (a.maxTXID !== b.maxTXID ? (a.maxTXID > b.maxTXID ? -1 : 1) : b.level - a.level));
}

function listLevel(ctx: IngestContext, level: number): Promise<Candidate[]> {
  return listPrefix(ctx, levelPrefix(ctx.prefix, ctx.name, level));
}

async function listPrefix(ctx: IngestContext, prefix: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.store.list({ prefix, cursor });
    for (const info of page.objects) {
      const k = parseLtxKey(info.key, ctx.prefix);
      if (k && k.db === ctx.name) out.push({ info, level: k.level, minTXID: k.minTXID, maxTXID: k.maxTXID });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}
