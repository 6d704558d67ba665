// GET /v1/databases/:db/ltx (catalog listing) and .../ltx/:level/:file (raw bytes from R2, Range honoured).

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { ltxKey } from '../storage/keys.ts';
import { IMMUTABLE_PRIVATE } from '../read/read-service.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { isStorageError } from '../storage/object-store.ts';
import { LIMIT, dbName, parseIntQuery, parseLevel, parseLtxFilename, parseRange, parseTXIDParam } from './params.ts';

export const ltxFileRoutes = new Hono<AppEnv>();

ltxFileRoutes.get('/:db/ltx', requireScope('read'), async (c) => {
  const name = dbName(c);
  const level = parseLevel(c.req.query('level'));
  const after = parseTXIDParam('after', c.req.query('after')) ?? 0n;
  const limit = parseIntQuery('limit', c.req.query('limit'), LIMIT) ?? 1000;
  const files = await c.env.DATABASE.getByName(name).files(level, after, limit);
  return c.json({ files });
});

ltxFileRoutes.get('/:db/ltx/:level/:file', requireScope('read'), async (c) => {
  const name = dbName(c);
  const level = parseLevel(c.req.param('level'))!;
  const { minTXID, maxTXID } = parseLtxFilename(c.req.param('file'));
  const range = parseRange(c.req.header('range'));
  const key = ltxKey(c.get('config').prefix, name, level, minTXID, maxTXID);
  const store = new R2ObjectStore(c.env.LTX_BUCKET);
  let obj: Awaited<ReturnType<R2ObjectStore['get']>>;
  try {
    obj = await store.get(key, range);
  } catch (e) {
    if (isStorageError(e, 'STORAGE_INVALID_RANGE')) throw new ApiError('RANGE_NOT_SATISFIABLE', 'range outside the file');
    throw e;
  }
  if (!obj) throw new ApiError('NOT_FOUND', `no file ${c.req.param('file')} at level ${level}`);
  const headers = new Headers({
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${obj.etag}"`,
    'cache-control': IMMUTABLE_PRIVATE,
  });
  if (obj.range) {
    headers.set('content-range', `bytes ${obj.range.offset}-${obj.range.offset + obj.range.length - 1}/${obj.size}`);
    headers.set('content-length', String(obj.range.length));
    return new Response(obj.body, { status: 206, headers });
  }
  headers.set('content-length', String(obj.size));
  return new Response(obj.body, { status: 200, headers });
});
