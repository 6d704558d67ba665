// LiteFS Cloud compatibility under /litefs (DESIGN §4): what LiteFS's backup client and LiteVFS call, over our DOs and R2.
//
// Mounted at the app's root (app.route('/', …)): each route answers as /litefs/<path> and as /<path>
// (see LITEFS_BASES). Only /litefs/* falls through to a LiteFS-shaped 404.
//
//   GET  /litefs/pos                       {"<db>": {"txid", "postApplyChecksum"}} for the cluster
//   POST /litefs/db/tx?db=                 one LTX file (v1 or current, ≤ 256 TXIDs compacted), header Litefs-Hwm
//   GET  /litefs/db/snapshot?db=[&format=] v1 LTX snapshot (what LiteFS's ltx v0.3 decoder reads) or sqlite
//   GET  /litefs/db/page?db=&pos=&pgno=    {"pages": [{"pgno", "data": base64}]} at that position
//   GET  /litefs/db/sync?db=[&pos=]        {"pos", "pgnos", "all"}: pages changed since pos
//   POST /litefs/sync                      {"positions": {...}} → {"changes": {"<db>": {"pos", "pgnos", "all"}}}
// Every route also takes `?cluster=` (a name prefix, see litefs-protocol.ts) and answers errors as
// `{"code", "error", "pos"?}`. Not served: LiteVFS's leases (/lease, so LiteVFS cannot write) and /info.

import { Hono } from 'hono';
import type { Context } from 'hono';
import { allowsDatabase } from '../auth.ts';
import type { PlanAnswer } from '../durable/read-plan.ts';
import type { PosJSON, RpcResult } from '../durable/rpc-result.ts';
import type { AppEnv } from '../env.ts';
import { encodeV1SnapshotFromDatabase, formatHex64, readChunks, formatTXID } from '../ltx/index.ts';
import { isPlanStale } from '../replication/plan.ts';
import { snapshotSqlite } from '../replication/snapshot-stream.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import {
  LiteFSError,
  clusterOf,
  fromApiError,
  liteFSNameOf,
  litefsOnError,
  ltxRejection,
  posMismatch,
  ourNameOf,
  posOf,
  requireLiteFS,
  targetOf,
} from './litefs-protocol.ts';
import { preparePush } from './litefs-push.ts';
import { MAX_SYNC_BODY_BYTES, type SyncAnswer, parseSyncPositions, syncAnswer } from './litefs-sync.ts';
import { readJSONBody } from './json-body.ts';
import { ApiError } from '../errors.ts';
import { parsePgnoList } from './params.ts';
import { IMMUTABLE_PRIVATE, ReadService, ensurePlanFiles, fixedLengthBody, queryPoint, readHeaders } from '../read/read-service.ts';
import { walkRegistry } from '../registry/registry-shards.ts';

export const litefsRoutes = new Hono<AppEnv>();
litefsRoutes.onError(litefsOnError);

/** Most databases GET /pos reports (each costs one DO call, for an exact head). */
export const MAX_POS_DATABASES = 1000;
/** DO position calls GET /pos keeps in flight. */
const POS_CONCURRENCY = 16;
/** Most page bytes one GET /db/page returns (they travel as base64 JSON). */
export const MAX_PAGE_RESPONSE_BYTES = 16 * 1024 * 1024;

const ZERO_POS: PosJSON = { txid: formatTXID(0n), postApplyChecksum: formatHex64(0n) };

function stub(c: Context<AppEnv>, name: string) {
  return c.env.DATABASE.getByName(name);
}

/** A DO result as its declared type (the RPC stub's mapped type drops the error branch: details are `unknown`). */
function asResult<T>(r: RpcResult<T>): RpcResult<T> {
  return r;
}

/** The head of `name`, straight from its DO (the registry may lag a write by a round trip). */
async function headOf(c: Context<AppEnv>, name: string): Promise<PosJSON> {
  return stub(c, name).position();
}

/**
 * GET /pos: the cluster's databases the token may read, each at its exact head. LiteFS pushes from
 * these positions (and restores any database listed that it lacks), so they come from each DO, not
 * the registry, whose copy may be a commit behind.
 */
async function getPos(c: Context<AppEnv>): Promise<Response> {
  const cluster = clusterOf(c);
  const token = c.get('token');
  const names: [string, string][] = [];
  const start = cluster === undefined ? '' : `${cluster}--`;
  for await (const e of walkRegistry(c.env, c.get('config').registryShards, '', start)) {
    const db = liteFSNameOf(e.name, cluster);
    if (db === undefined || !allowsDatabase(token, e.name)) continue;
    if (names.length === MAX_POS_DATABASES) throw new LiteFSError(413, 'ETOOLARGE', `more than ${MAX_POS_DATABASES} databases`);
    names.push([db, e.name]);
  }
  const out: Record<string, PosJSON> = {};
  for (let i = 0; i < names.length; i += POS_CONCURRENCY) {
    const batch = names.slice(i, i + POS_CONCURRENCY);
    const heads = await Promise.all(batch.map(([, name]) => headOf(c, name)));
    batch.forEach(([db], k) => {
      if (heads[k].txid !== ZERO_POS.txid) out[db] = heads[k];
    });
  }
  return c.json(out);
}

/**
 * POST /db/tx: one LTX file, streamed without a Content-Length. The DO checks the position
 * (MinTXID-1 and PreApplyChecksum against its head), verifies every byte and commits it to R2 as a
 * current-format file; a re-push of the committed file is a success. Litefs-Hwm = the head TXID,
 * which is in R2 (LiteFS may then drop its local files up to it).
 */
async function postTx(c: Context<AppEnv>): Promise<Response> {
  const { name } = targetOf(c);
  const body = c.req.raw.body;
  if (!body) throw new LiteFSError(400, 'EINVAL', 'request body required');
  const config = c.get('config');
  const push = await preparePush(body, { idleMs: config.uploadIdleMs, totalMs: config.uploadTotalMs });
  const result = asResult<PosJSON>(await stub(c, name).ingest(name, push.stream));
  if (!result.ok) {
    const failure = push.failure();
    if (failure && result.error.code === 'INVALID_LTX') throw ltxRejection(failure.code, failure.message);
    if (result.error.code === 'PAGE_SIZE_MISMATCH') {
      // LiteFS treats the backup as the authority: a mismatch makes it restore our snapshot.
      throw posMismatch(await headOf(c, name));
    }
    throw fromApiError(result.error.code, result.error.message, result.error.details);
  }
  c.header('Litefs-Hwm', result.value.txid);
  return c.json({ pos: result.value }, result.status);
}

/**
 * GET /db/snapshot: the database at its head. Default (or format=ltx): one v1 LTX snapshot with an
 * LZ4-compressed page block, as LiteFS Cloud served it — LiteFS decodes it with ltx v0.3, which reads
 * nothing newer. format=sqlite: the database file. Current-format LTX snapshots: /v1/databases/:db/snapshot.
 */
async function getSnapshot(c: Context<AppEnv>): Promise<Response> {
  const { name } = targetOf(c);
  const format = c.req.query('format') ?? 'ltx';
  if (format !== 'ltx' && format !== 'sqlite') throw new LiteFSError(400, 'EINVAL', 'format must be ltx or sqlite');
  return new ReadService(c, name).read(await queryPoint(c), undefined, async (r) => {
    await ensurePlanFiles(c, r.plan);
    const store = new R2ObjectStore(c.env.LTX_BUCKET);
    const snap = snapshotSqlite(store, r.plan, c.get('config').prefix, { source: r.source });
    const headers = readHeaders(r);
    if (format === 'sqlite') {
      headers.set('content-type', 'application/vnd.sqlite3');
      headers.set('content-length', String(snap.length));
      return new Response(fixedLengthBody(c, snap.length, snap.body), { headers });
    }
    headers.set('content-type', 'application/octet-stream');
    const it = encodeV1SnapshotFromDatabase(readChunks(snap.body), {
      pageSize: r.plan.pageSize,
      commit: r.plan.commit,
      maxTXID: r.plan.txid,
      timestamp: Date.now(),
      expectedChecksum: r.plan.checksum,
    });
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const next = await it.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        async cancel() {
          await it.return(undefined);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { headers });
  });
}

/**
 * GET /db/page: pages at an exact position (LiteVFS reads a transaction's pages at the position it
 * started at). A TXID outside what is retained, beyond the head, or whose checksum is not ours is
 * 409 EPOSMISMATCH with the head, which LiteVFS reports so the transaction is retried. Pages beyond
 * the database's size at that TXID are left out.
 */
async function getPage(c: Context<AppEnv>): Promise<Response> {
  const { name } = targetOf(c);
  const pos = posOf(c);
  if (pos === undefined) throw new LiteFSError(400, 'EINVAL', 'pos required');
  const pgnos = parsePgnoList(c.req.query('pgno'));
  const plan = async (): Promise<PlanAnswer> => {
    if (pos.txid === 0n) throw posMismatch(await headOf(c, name));
    const r = asResult<PlanAnswer>(await stub(c, name).plan(name, { txid: formatTXID(pos.txid), pgnos }));
    if (r.ok) return r.value;
    if (r.error.code === 'TXID_NOT_AVAILABLE' || r.error.code === 'NOT_YET_AVAILABLE') throw posMismatch(await headOf(c, name));
    throw fromApiError(r.error.code, r.error.message, r.error.details);
  };
  const reads = new ReadService(c, name);
  const read = async (answer: PlanAnswer) => {
    const p = answer.plan;
    const source = reads.source(p);
    if (p.checksum !== 0n && p.checksum !== pos.checksum) throw posMismatch(answer.head);
    if (pgnos.length * p.pageSize > MAX_PAGE_RESPONSE_BYTES) {
      throw new LiteFSError(400, 'EINVAL', `at most ${MAX_PAGE_RESPONSE_BYTES} bytes of pages per request`);
    }
    const pages = await source.readPages(p, pgnos, answer.hints);
    return [...pages].sort((a, b) => a[0] - b[0]).map(([pgno, data]) => ({ pgno, data: toBase64(data) }));
  };
  let pages: Awaited<ReturnType<typeof read>>;
  try {
    pages = await read(await plan());
  } catch (e) {
    if (!isPlanStale(e)) throw e;
    pages = await read(await plan()); // retention or compaction removed a file meanwhile: plan once more
  }
  c.header('cache-control', IMMUTABLE_PRIVATE);
  return c.json({ pages });
}

/** GET /db/sync (LiteVFS's deep sync of one database): see syncAnswer. */
async function getSync(c: Context<AppEnv>): Promise<Response> {
  const { name } = targetOf(c);
  const answer = await syncAnswer(c, name, posOf(c));
  if (answer === undefined) throw new LiteFSError(404, 'ENOTFOUND', `database ${name} does not exist`);
  return c.json(answer);
}

/**
 * POST /sync (LiteVFS's periodic sync): `{"positions": {"<db>": pos}}` → `{"changes": {"<db>":
 * {"pos", "pgnos", "all"}}}`; databases that do not exist are left out. Every database must be
 * covered by the token (else 403, for the whole request).
 */
async function postSync(c: Context<AppEnv>): Promise<Response> {
  const cluster = clusterOf(c);
  let body: unknown;
  try {
    body = await readJSONBody(c.req.raw, MAX_SYNC_BODY_BYTES);
  } catch (e) {
    if (e instanceof ApiError) throw fromApiError(e.code, e.message);
    throw e;
  }
  const wanted = [...parseSyncPositions(body)].map(([db, pos]) => ({ db, name: ourNameOf(db, cluster), pos }));
  const token = c.get('token');
  for (const w of wanted)
    if (!allowsDatabase(token, w.name)) throw new LiteFSError(403, 'EFORBIDDEN', 'token does not cover this database');
  const changes: Record<string, SyncAnswer> = {};
  for (let i = 0; i < wanted.length; i += POS_CONCURRENCY) {
    const batch = wanted.slice(i, i + POS_CONCURRENCY);
    const answers = await Promise.all(batch.map((w) => syncAnswer(c, w.name, w.pos)));
    batch.forEach((w, k) => {
      const a = answers[k];
      if (a !== undefined) changes[w.db] = a;
    });
  }
  return c.json({ changes });
}

/**
 * Where the routes answer: under /litefs (DESIGN §4), and at the root too, because LiteFS's backup
 * client (lfsc.NewBackupClient keeps only the scheme and host of its URL) and LiteVFS (`set_path`)
 * both drop any path from the configured URL: stock clients call https://<host>/pos, never …/litefs/pos.
 */
export const LITEFS_BASES = ['/litefs', ''] as const;

for (const base of LITEFS_BASES) {
  litefsRoutes.get(`${base}/pos`, requireLiteFS('read', { database: false }), getPos);
  litefsRoutes.post(`${base}/db/tx`, requireLiteFS('write', { database: true }), postTx);
  litefsRoutes.get(`${base}/db/snapshot`, requireLiteFS('read', { database: true }), getSnapshot);
  litefsRoutes.get(`${base}/db/page`, requireLiteFS('read', { database: true }), getPage);
  litefsRoutes.get(`${base}/db/sync`, requireLiteFS('read', { database: true }), getSync);
  litefsRoutes.post(`${base}/sync`, requireLiteFS('read', { database: false }), postSync);
}
litefsRoutes.all('/litefs/*', (c) => {
  throw new LiteFSError(404, 'ENOTFOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
});

/** Standard base64 (LiteVFS decodes with serde_with's Base64, padded). */
function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
