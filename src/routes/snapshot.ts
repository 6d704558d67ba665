// GET /v1/databases/:db/snapshot?format=sqlite|ltx (DESIGN §4): the whole database at a point, streamed.

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { formatHex64 } from '../ltx/checksum.ts';
import { snapshotLtx, snapshotSqlite } from '../replication/snapshot-stream.ts';
import { R2ObjectStore } from '../storage/r2-store.ts';
import { dbName, parseSnapshotFormat } from './params.ts';
import { ReadService, ensurePlanFiles, queryPoint, readHeaders, waitUntil } from '../read/read-service.ts';

export const snapshotRoutes = new Hono<AppEnv>();

snapshotRoutes.get('/:db/snapshot', requireScope('read'), async (c) => {
  const name = dbName(c);
  const format = parseSnapshotFormat(c.req.query('format'));
  return new ReadService(c, name).read(queryPoint(c), undefined, async (r) => {
    const store = new R2ObjectStore(c.env.LTX_BUCKET);
    const prefix = c.get('config').prefix;
    // The status goes out before the merge reads the files: check they all still exist first.
    await ensurePlanFiles(c, r.plan);
    const headers = readHeaders(r, format);
    headers.set('content-type', format === 'sqlite' ? 'application/vnd.sqlite3' : 'application/octet-stream');
    const file = `${name}-${formatHex64(r.plan.txid)}.${format === 'sqlite' ? 'db' : 'ltx'}`;
    headers.set('content-disposition', `attachment; filename="${file}"`);
    if (format === 'ltx') return new Response(snapshotLtx(store, r.plan, prefix, { source: r.source }), { headers });
    const snap = snapshotSqlite(store, r.plan, prefix, { source: r.source });
    // The runtime drops a hand-set Content-Length on a plain stream; a FixedLengthStream keeps it
    // (and fails the response if the merge ever produced another length).
    headers.set('content-length', String(snap.length));
    const fixed = new FixedLengthStream(snap.length);
    waitUntil(c, snap.body.pipeTo(fixed.writable).catch(() => undefined));
    return new Response(fixed.readable, { headers });
  });
});
