// GET /v1/databases/:db/stats: counters move with pushes, re-pushes, rejections and maintenance.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };

describe('stats', () => {
  it('counts what the database did', async () => {
    const db = 'stats-db';
    const chain = await buildChain({ seed: 5, count: 4 });
    const push = (bytes: Uint8Array) =>
      exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: bytes });
    for (const f of chain) await (await push(f.bytes)).body?.cancel();
    await (await push(chain[1].bytes)).body?.cancel(); // identical re-push: 200
    await (await push(chain[0].bytes.slice(0, 120))).body?.cancel(); // rejected: a truncated copy of a committed file
    const compacted = await env.DATABASE.getByName(db).compact(db, { level: 1, minTXID: 2n, maxTXID: 4n });
    expect(compacted.ok).toBe(true);
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/stats`, { headers: AUTH });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { counters: Record<string, number>; lastError: { code: string } | null };
    expect(stats.counters.pushes).toBe(4);
    expect(stats.counters.pushBytes).toBe(chain.reduce((n, f) => n + f.bytes.length, 0));
    expect(stats.counters.repushes).toBe(1);
    expect(stats.counters.rejected).toBe(1);
    expect(stats.lastError?.code).toBe('INVALID_LTX');
    const missing = await exports.default.fetch(`${BASE}/v1/databases/never-written/stats`, { headers: AUTH });
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });
});
