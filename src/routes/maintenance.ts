// POST /v1/databases/:db/compact?level= and …/retention (admin): run maintenance on demand.

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { rpcResponse } from './rpc.ts';
import { COMPACT_LEVEL, dbName, parseIntQuery } from './params.ts';

export const maintenanceRoutes = new Hono<AppEnv>();

/** How far ahead an on-demand compaction pretends the clock is (past any level or snapshot interval). */
const ON_DEMAND_HORIZON_MS = 366 * 86_400_000;

maintenanceRoutes.post('/:db/compact', requireScope('admin'), async (c) => {
  const name = dbName(c);
  const level = parseIntQuery('level', c.req.query('level'), COMPACT_LEVEL);
  const only = level === 9 ? ({ kind: 'snapshot' } as const) : ({ kind: 'compact', level } as const);
  // On demand: as if every interval boundary had passed (retention keeps using the real clock).
  return rpcResponse(c, await c.env.DATABASE.getByName(name).maintain(name, Date.now() + ON_DEMAND_HORIZON_MS, only));
});

maintenanceRoutes.post('/:db/retention', requireScope('admin'), async (c) => {
  const name = dbName(c);
  return rpcResponse(c, await c.env.DATABASE.getByName(name).maintain(name, Date.now(), { kind: 'retention' }));
});
