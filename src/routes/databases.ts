// /v1/databases: list, info, delete, push LTX, page-set writes, adopt (DESIGN §4); all writes go through the DO.

import { Hono } from 'hono';
import type { Context } from 'hono';
import { allowsDatabase, requireScope } from '../auth.ts';
import type { RegistryEntry } from '../durable/registry.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { COMMIT_PAGES, LIMIT, PAGE_SIZE, dbName, parseIntQuery, parseTXIDParam } from './params.ts';
import { rpcResponse, unwrap } from './rpc.ts';
import { parsePoint } from '../replication/point.ts';
import { aString, parseJSONObject, readJSONBody } from './json-body.ts';
import { formatTXID } from '../ltx/index.ts';
import { readCacheStats } from '../read/read-caches.ts';
import { ReadService } from '../read/read-service.ts';
import { DATABASE_PREFIX_PATTERN } from '../api/database-name.ts';
import { listRegistry } from '../registry/registry-shards.ts';
import { readBoundedBody } from '../durable/body-reader.ts';

export const databaseRoutes = new Hono<AppEnv>();

function stub(c: Context<AppEnv>, name: string) {
  return c.env.DATABASE.getByName(name);
}

function requestBody(c: Context<AppEnv>): ReadableStream<Uint8Array> {
  const body = c.req.raw.body;
  if (!body) throw new ApiError('BAD_REQUEST', 'request body required');
  return body;
}

databaseRoutes.get('/', requireScope('read'), async (c) => {
  const after = c.req.query('after') ?? '';
  const limit = parseIntQuery('limit', c.req.query('limit'), LIMIT) ?? 1000;
  const prefix = c.req.query('prefix') ?? '';
  if (!DATABASE_PREFIX_PATTERN.test(prefix))
    throw new ApiError('BAD_REQUEST', `prefix must be the start of a database name, got ${JSON.stringify(prefix.slice(0, 80))}`, {
      field: 'prefix',
    });
  const token = c.get('token');
  // Page through the registry until `limit` names this token may see: the cursor must be one of
  // them, or `next` would name a database outside the token's patterns.
  const databases: RegistryEntry[] = [];
  for (let cursor = after; databases.length < limit; ) {
    const { entries, more } = await listRegistry(c.env, c.get('config').registryShards, cursor, limit, prefix);
    for (const e of entries) if (databases.length < limit && allowsDatabase(token, e.name)) databases.push(e);
    if (!more || entries.length === 0) break;
    cursor = entries[entries.length - 1].name;
  }
  const next = databases.length === limit ? databases[limit - 1].name : undefined;
  return c.json({ databases, ...(next ? { next } : {}) });
});

databaseRoutes.get('/:db', requireScope('read'), async (c) => {
  const name = dbName(c);
  return rpcResponse(c, await stub(c, name).info(name));
});

databaseRoutes.get('/:db/stats', requireScope('read'), async (c) => {
  const name = dbName(c);
  const stats = unwrap(await stub(c, name).readStats(name));
  return c.json({ ...stats, reads: readCacheStats() });
});

databaseRoutes.delete('/:db', requireScope('admin'), async (c) => {
  const name = dbName(c);
  const result = await stub(c, name).destroy(name);
  // Whatever the answer, this isolate asks the DO again before it reads the name.
  ReadService.forget(c, name);
  return rpcResponse(c, result);
});

/**
 * Pushes that declare at most this many bytes are read in the Worker, under the upload deadlines, and
 * cross into the DO as one value: a stream costs the hop about a millisecond more. Larger ones stream.
 */
export const SMALL_PUSH_BYTES = 1024 * 1024;

/** A push's body: bytes when its Content-Length says it is small, else the stream. */
async function pushBody(c: Context<AppEnv>): Promise<ReadableStream<Uint8Array> | Uint8Array> {
  const body = requestBody(c);
  const declared = c.req.header('content-length');
  if (declared === undefined || !/^\d{1,7}$/.test(declared) || Number(declared) > SMALL_PUSH_BYTES) return body;
  const config = c.get('config');
  const read = await readBoundedBody(body, Number(declared), { idleMs: config.uploadIdleMs, totalMs: config.uploadTotalMs });
  if (read.ok) return read.bytes;
  // HTTP framing never delivers more than Content-Length; a Request built in a Worker can.
  if (read.code === 'PAYLOAD_TOO_LARGE')
    throw new ApiError('BAD_REQUEST', `the body is longer than its Content-Length (${declared} bytes)`);
  throw new ApiError(read.code, read.message);
}

databaseRoutes.post('/:db/ltx', requireScope('write'), async (c) => {
  const name = dbName(c);
  return rpcResponse(c, await stub(c, name).ingest(name, await pushBody(c)), (pos) => ({ pos }));
});

databaseRoutes.post('/:db/tx', requireScope('write'), async (c) => {
  const name = dbName(c);
  const base = parseTXIDParam('base', c.req.query('base'));
  if (base === undefined) throw new ApiError('BAD_REQUEST', 'base (the TXID the pages were read at) is required');
  const commit = parseIntQuery('commit', c.req.query('commit'), COMMIT_PAGES);
  const pageSize = parseIntQuery('page_size', c.req.query('page_size'), PAGE_SIZE);
  const result = await stub(c, name).writePages(name, requestBody(c), { base, commit, pageSize });
  return rpcResponse(c, result, (pos) => ({ pos }));
});

/** Largest POST …/restore body (bytes): `{"txid": …}` or `{"at": …}` needs a few dozen. */
export const MAX_RESTORE_BODY_BYTES = 64 * 1024;

const RESTORE_BODY_SHAPE = '{"txid": "<hex>"} or {"at": "<time>"}';

databaseRoutes.post('/:db/restore', requireScope('admin'), async (c) => {
  const name = dbName(c);
  const json = await readJSONBody(c.req.raw, MAX_RESTORE_BODY_BYTES);
  const body = parseJSONObject(json, { txid: aString, at: aString }, RESTORE_BODY_SHAPE) as { txid?: string; at?: string };
  if ((body.txid === undefined) === (body.at === undefined)) {
    throw new ApiError('BAD_REQUEST', `give exactly one of txid or at (expected ${RESTORE_BODY_SHAPE})`, { field: null });
  }
  const point = await parsePoint({ txid: body.txid, at: body.at }, Date.now());
  const req = point.kind === 'txid' ? { txid: formatTXID(point.txid) } : point.kind === 'at' ? { at: point.at } : {};
  return rpcResponse(c, await stub(c, name).restore(name, req));
});

databaseRoutes.post('/:db/adopt', requireScope('admin'), async (c) => {
  const name = dbName(c);
  return rpcResponse(c, await stub(c, name).adopt(name));
});
