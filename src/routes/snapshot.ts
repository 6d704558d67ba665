// GET|HEAD /v1/databases/:db/snapshot?format=sqlite|ltx (DESIGN §4, §4a): the database file at a point (ranges honoured) or one LTX snapshot, streamed.

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { formatTXID } from '../ltx/index.ts';
import { snapshotLtx } from '../replication/snapshot-stream.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { dbName, parseSnapshotFormat } from './params.ts';
import { ReadService, ensurePlanFiles, queryPoint, readHeaders } from '../read/read-service.ts';
import { serveSqliteFile } from '../read/sqlite-file-answer.ts';

export const snapshotRoutes = new Hono<AppEnv>();

// hono answers HEAD with this GET handler and drops the body; the handlers read c.req.method to skip the work.
snapshotRoutes.get('/:db/snapshot', requireScope('read'), async (c) => {
  const name = dbName(c);
  const format = parseSnapshotFormat(c.req.query('format'));
  const point = await queryPoint(c);
  if (format === 'sqlite') return serveSqliteFile(c, name, point);
  // An LTX snapshot's length is known only once it is encoded: no Content-Length, no ranges.
  return new ReadService(c, name).read(point, undefined, async (r) => {
    const headers = readHeaders(r);
    headers.set('content-type', 'application/octet-stream');
    headers.set('accept-ranges', 'none');
    headers.set('content-disposition', `attachment; filename="${name}-${formatTXID(r.plan.txid)}.ltx"`);
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    // The status goes out before the merge reads the files: check they all still exist first.
    await ensurePlanFiles(c, r.plan);
    const store = new R2ObjectStore(c.env.LTX_BUCKET);
    return new Response(snapshotLtx(store, r.plan, c.get('config').prefix, { source: r.source }), { headers });
  });
});
