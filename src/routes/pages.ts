// GET …/pages/:pgno, GET …/pages?pgno=1,5,9-12 and GET …/changes?since= (DESIGN §4): reads that scale out without the DO.

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { formatTXID } from '../ltx/index.ts';
import { encodePageBatch, formatPgnoList } from '../replication/page-batch.ts';
import type { ChangesAnswer } from '../durable/read-plan.ts';
import { unwrap } from './rpc.ts';
import { dbName, parsePgno, parsePgnoList, parseTXIDParam } from './params.ts';
import { ReadService, queryPoint, readHeaders } from '../read/read-service.ts';

export const pageRoutes = new Hono<AppEnv>();

pageRoutes.get('/:db/pages/:pgno', requireScope('read'), async (c) => {
  const name = dbName(c);
  const pgno = parsePgno(c.req.param('pgno'));
  const point = await queryPoint(c);
  const reads = new ReadService(c, name);
  return reads.answer(`page?pgno=${pgno}`, point, [pgno], async (r) => {
    if (pgno > r.plan.commit) throw new ApiError('NOT_FOUND', `page ${pgno} is beyond the database's ${r.plan.commit} pages`);
    const page = await r.source.readPage(r.plan, pgno, r.hints.get(pgno));
    const headers = readHeaders(r, pgno);
    headers.set('content-type', 'application/octet-stream');
    headers.set('content-length', String(page?.length ?? 0));
    return new Response(page, { status: 200, headers });
  });
});

pageRoutes.get('/:db/pages', requireScope('read'), async (c) => {
  const name = dbName(c);
  const pgnos = parsePgnoList(c.req.query('pgno'));
  const point = await queryPoint(c);
  const reads = new ReadService(c, name);
  return reads.answer(`batch?pgno=${formatPgnoList(pgnos)}`, point, pgnos, async (r) => {
    const pages = await r.source.readPages(r.plan, pgnos, r.hints);
    const body = encodePageBatch([...pages].sort((a, b) => a[0] - b[0]).map(([pgno, data]) => ({ pgno, data })));
    const headers = readHeaders(r);
    headers.set('content-type', 'application/octet-stream');
    headers.set('content-length', String(body.length));
    return new Response(body, { status: 200, headers });
  });
});

pageRoutes.get('/:db/changes', requireScope('read'), async (c) => {
  const name = dbName(c);
  const since = parseTXIDParam('since', c.req.query('since'));
  if (since === undefined) throw new ApiError('BAD_REQUEST', 'since (a TXID) is required');
  const point = await queryPoint(c);
  const answer: ChangesAnswer = unwrap(await c.env.DATABASE.getByName(name).changes(name, formatTXID(since), point));
  const { pos, all, pgnos, files } = answer;
  if (all) return c.json({ pos, pgnos: [], all: true });
  if (pgnos) return c.json({ pos, pgnos, all: false });
  // Before the head: the union of the level-0 files' page indexes, within the final commit.
  return new ReadService(c, name).read(point, undefined, async (r) => {
    const refs = files ?? [];
    const changed = new Set<number>();
    const commit = r.plan.commit;
    for (const f of refs) {
      const index = await r.source.indexOf(name, f);
      for (const pgno of index.pgnos) if (pgno <= commit) changed.add(pgno);
    }
    return c.json({ pos, pgnos: [...changed].sort((a, b) => a - b), all: false });
  });
});
