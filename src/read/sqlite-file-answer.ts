// The SQLite database file at a read's point as an HTTP answer: whole (streamed), one byte range (only the pages it touches), HEAD, 304, 412 and 416.
//
// Any HTTP-range SQLite reader (sql.js-httpvfs, sqlite-wasm-http, `curl -r`) sees a plain file:
// Accept-Ranges, Content-Length, a strong ETag naming the point, and 206 answers built from pages
// on the fly. The ETag is the same on the token route and on read links, so a reader can switch.

import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError, errorResponse } from '../errors.ts';
import { formatHex64, formatTXID } from '../ltx/index.ts';
import type { ReadPlan } from '../replication/plan.ts';
import { snapshotSqlite } from '../replication/snapshot-stream.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { type FileRequest, decideFileAnswer, formatRangeSpec, ifNoneMatchHolds, parseRangeHeader } from './byte-ranges.ts';
import { type PlannedRead, type ReadPoint, ReadService, ensurePlanFiles, fixedLengthBody, readHeaders } from './read-service.ts';

/** Ranges up to this many bytes are read whole before the answer starts (it can still plan again); longer ones stream. */
export const IN_MEMORY_RANGE_BYTES = 8 * 1024 * 1024;
/** Pages read per step of a streamed range (about this many bytes, at least one page). */
export const RANGE_CHUNK_BYTES = 1024 * 1024;

export interface SqliteFileOptions {
  /** Cache-Control of every answer, cached ones included (links: their remaining life); default: by the point (readHeaders). */
  cacheControl?: string;
  /** Runs on the plan before anything is answered (links: the database must still be the one the link was minted for). */
  check?: (plan: ReadPlan) => void;
  /** Part of the edge-cache key for what `check` accepts (links: the incarnation), so a cached answer passed it. */
  cacheScope?: string;
}

/** The strong ETag of the file at a plan: its TXID, its post-apply checksum and the database's incarnation. */
export function sqliteFileETag(plan: ReadPlan): string {
  return `"${formatTXID(plan.txid)}-${formatHex64(plan.checksum)}-${plan.incarnation ?? plan.db}"`;
}

/** The range and conditional headers of a request. */
export function fileRequestOf(req: Request): FileRequest {
  const h = req.headers;
  return {
    method: req.method,
    range: h.get('range'),
    ifRange: h.get('if-range'),
    ifMatch: h.get('if-match'),
    ifNoneMatch: h.get('if-none-match'),
  };
}

/** Answers a GET or HEAD of database `name`'s file at `point`; at an explicit TXID through the edge cache. */
export async function serveSqliteFile(c: Context<AppEnv>, name: string, point: ReadPoint, opts: SqliteFileOptions = {}): Promise<Response> {
  const req = fileRequestOf(c.req.raw);
  const reads = new ReadService(c, name);
  const produce = (r: PlannedRead): Promise<Response> => {
    opts.check?.(r.plan);
    return fileAnswer(c, r, req, opts.cacheControl);
  };
  // Range answers only: a whole file is streamed from the merge, which first checks the plan's files
  // still exist, so a TXID retention removed answers 410 at once rather than from the cache.
  const asked = parseRangeHeader(req.range);
  const cacheable = req.method === 'GET' && req.ifMatch == null && req.ifRange == null && asked.kind === 'one';
  if (!cacheable) return reads.read(point, undefined, produce);
  const what = `file${opts.cacheScope ? `@${opts.cacheScope}` : ''}?range=${formatRangeSpec(asked.spec)}`;
  const res = await reads.answer(what, point, undefined, produce);
  if (res.headers.get('x-ltx-edge-cache') !== 'hit') return res;
  // A cached answer: the conditions this request adds, and this request's Cache-Control.
  if (opts.cacheControl) res.headers.set('cache-control', opts.cacheControl);
  const etag = res.headers.get('etag');
  if (etag && req.ifNoneMatch != null && ifNoneMatchHolds(req.ifNoneMatch, etag)) {
    await res.body?.cancel();
    return new Response(null, { status: 304, headers: notModifiedHeaders(res.headers) });
  }
  return res;
}

/** The answer at a planned read. */
async function fileAnswer(c: Context<AppEnv>, r: PlannedRead, req: FileRequest, cacheControl: string | undefined): Promise<Response> {
  const { plan } = r;
  const size = plan.commit * plan.pageSize;
  const etag = sqliteFileETag(plan);
  const headers = readHeaders(r);
  if (cacheControl) headers.set('cache-control', cacheControl);
  headers.set('etag', etag);
  headers.set('accept-ranges', 'bytes');
  const decision = decideFileAnswer(req, size, etag);
  if (decision.status === 304) return new Response(null, { status: 304, headers });
  if (decision.status === 412) throw new ApiError('PRECONDITION_FAILED', `If-Match does not name this file (${etag})`, { etag });
  if (decision.status === 416) {
    const h = { 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes', 'ltx-txid': formatTXID(plan.txid) };
    return errorResponse('RANGE_NOT_SATISFIABLE', `the range asked is not within the database's ${size} bytes`, { size }, h);
  }
  headers.set('content-type', 'application/vnd.sqlite3');
  headers.set('content-disposition', `attachment; filename="${plan.db}-${formatTXID(plan.txid)}.db"`);
  if (decision.status === 206) {
    const { first, last } = decision;
    const length = last - first + 1;
    headers.set('content-range', `bytes ${first}-${last}/${size}`);
    headers.set('content-length', String(length));
    if (length <= IN_MEMORY_RANGE_BYTES) return new Response(await readRange(r, first, last), { status: 206, headers });
    return new Response(fixedLengthBody(c, length, streamOf(rangeChunks(r, first, last))), { status: 206, headers });
  }
  headers.set('content-length', String(size));
  if (req.method === 'HEAD') return new Response(null, { headers });
  // The status goes out before the merge reads the files: check they all still exist first.
  await ensurePlanFiles(c, plan);
  const snap = snapshotSqlite(new R2ObjectStore(c.env.LTX_BUCKET), plan, c.get('config').prefix, { source: r.source });
  return new Response(fixedLengthBody(c, snap.length, snap.body), { headers });
}

/** Bytes [first, last] of the file, read in one go. */
async function readRange(r: PlannedRead, first: number, last: number): Promise<Uint8Array> {
  const out = new Uint8Array(last - first + 1);
  let at = 0;
  for await (const chunk of rangeChunks(r, first, last, IN_MEMORY_RANGE_BYTES)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Bytes [first, last] of the file in chunks of about `chunkBytes` whole pages, each read from the
 * plan's files through its page indexes (pages no file holds, and the lock page, are zeros).
 */
async function* rangeChunks(r: PlannedRead, first: number, last: number, chunkBytes = RANGE_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  const { plan } = r;
  const ps = plan.pageSize;
  const firstPgno = Math.floor(first / ps) + 1;
  const lastPgno = Math.floor(last / ps) + 1;
  const step = Math.max(1, Math.floor(chunkBytes / ps));
  for (let from = firstPgno; from <= lastPgno; from += step) {
    const to = Math.min(lastPgno, from + step - 1);
    const pgnos = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const pages = await r.source.readPages(plan, pgnos, r.hints);
    const chunk = new Uint8Array(pgnos.length * ps);
    for (const [pgno, data] of pages) chunk.set(data, (pgno - from) * ps);
    const start = from === firstPgno ? first - (from - 1) * ps : 0;
    const end = to === lastPgno ? last - (from - 1) * ps + 1 : chunk.length;
    yield chunk.subarray(start, end);
  }
}

/** A pull-driven stream of `chunks`: each is read when the consumer wants it; cancelling stops the generator. */
function streamOf(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await chunks.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** The headers a 304 keeps from the answer it stands for (RFC 9110 §15.4.5). */
function notModifiedHeaders(from: Headers): Headers {
  const h = new Headers();
  for (const name of ['etag', 'cache-control', 'ltx-txid', 'accept-ranges']) {
    const v = from.get(name);
    if (v !== null) h.set(name, v);
  }
  return h;
}
