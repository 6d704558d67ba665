// What a read costs: R2 gets and DO calls per request, counted at the bindings (DESIGN §1 "Reads scale out").

import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import { resetReadCaches } from '../../src/read/read-caches.ts';
import { buildChain } from '../helpers/chain.ts';
import { countingNamespace } from '../helpers/counting-env.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };

interface Counts {
  r2Gets: number;
  doCalls: number;
}

/** env with the R2 bucket and the DO namespace wrapped to count calls. */
function countingEnv(counts: Counts): typeof env {
  const bucket = new Proxy(env.LTX_BUCKET, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (prop === 'get' || prop === 'head') {
        return (...args: unknown[]) => {
          counts.r2Gets++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const namespace = countingNamespace(env.DATABASE, () => counts.doCalls++);
  return { ...env, LTX_BUCKET: bucket, DATABASE: namespace } as typeof env;
}

async function read(path: string): Promise<{ status: number; counts: Counts; body: Uint8Array; edge: string | null }> {
  const counts = { r2Gets: 0, doCalls: 0 };
  const res = await app.request(`${BASE}${path}`, { headers: AUTH }, countingEnv(counts));
  return { status: res.status, counts, body: new Uint8Array(await res.arrayBuffer()), edge: res.headers.get('x-ltx-edge-cache') };
}

describe('read costs', () => {
  beforeEach(() => resetReadCaches());

  it('cold page read at the head: ≤ 2 R2 reads and 1 DO call, whichever file holds the page', async () => {
    const db = 'costs-head';
    const chain = await buildChain({ seed: 31, count: 12 });
    for (const f of chain) {
      const res = await app.request(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes }, env);
      expect(res.status).toBe(201);
    }
    const info = (await (await app.request(`${BASE}/v1/databases/${db}`, { headers: AUTH }, env)).json()) as { commit: number };
    for (let pgno = 1; pgno <= info.commit; pgno++) {
      resetReadCaches();
      const r = await read(`/v1/databases/${db}/pages/${pgno}`);
      expect(r.status).toBe(200);
      expect(r.counts.doCalls).toBe(1);
      expect(r.counts.r2Gets).toBeLessThanOrEqual(2);
    }
  });

  it('warm read at an explicit TXID: 0 R2 reads and 0 DO calls (the edge cache); a fresh isolate: 1 DO call, 0 R2 reads', async () => {
    const db = 'costs-txid';
    const chain = await buildChain({ seed: 32, count: 6 });
    for (const f of chain) await app.request(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes }, env);
    const cold = await read(`/v1/databases/${db}/pages/2?txid=0000000000000004`);
    expect(cold.counts.doCalls).toBe(1);
    expect(cold.edge).toBeNull();
    const warm = await read(`/v1/databases/${db}/pages/2?txid=0000000000000004`);
    expect(warm.counts).toEqual({ r2Gets: 0, doCalls: 0 });
    expect(warm.edge).toBe('hit');
    expect(warm.body).toEqual(cold.body);
    // Another spelling of the TXID and a junk parameter are the same answer, not new cache entries.
    const respelled = await read(`/v1/databases/${db}/pages/2?junk=${'x'.repeat(100)}&txid=4`);
    expect({ edge: respelled.edge, counts: respelled.counts }).toEqual({ edge: 'hit', counts: { r2Gets: 0, doCalls: 0 } });
    expect(respelled.body).toEqual(cold.body);
    // Another page of the same, now planned, TXID: still no DO call.
    const other = await read(`/v1/databases/${db}/pages/1?txid=0000000000000004`);
    expect(other.counts.doCalls).toBe(0);
    // A new isolate (no plan, no incarnation, no page index) at the same location: one plan, then the edge cache.
    resetReadCaches();
    const fresh = await read(`/v1/databases/${db}/pages/2?txid=0000000000000004`);
    expect(fresh.counts).toEqual({ r2Gets: 0, doCalls: 1 });
    expect(fresh.body).toEqual(cold.body);
    // Ranges too: a batch nobody asked for yet, in a new isolate, reads its page indexes from the edge cache.
    resetReadCaches();
    const batch = await read(`/v1/databases/${db}/pages?pgno=1-2&txid=0000000000000004`);
    expect(batch.status).toBe(200);
    expect(batch.counts.r2Gets).toBe(0);
  });
});
