// Every read route over an R2 that fails (each get, head and list throws, as R2 does when it is down): a typed 503 STORAGE_UNAVAILABLE with Retry-After, never a 500.

import { env } from 'cloudflare:workers';
import { beforeAll, expect, inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { resetReadCaches } from '../../src/read/read-caches.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const [workload] = inject('queryWorkloads');
const DB = 'read-faults';

/** env with an R2 binding whose reads all fail the way a down R2 answers. */
function failingEnv(): typeof env {
  const bucket = new Proxy(env.LTX_BUCKET, {
    get(target, prop) {
      if (prop === 'get' || prop === 'head' || prop === 'list') {
        return async () => {
          throw new Error('get: We encountered an internal error. Please try again. (10001)');
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ...env, LTX_BUCKET: bucket };
}

beforeAll(async () => {
  for (const b64 of workload.ltx) {
    const body = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const res = await app.request(`${BASE}/v1/databases/${DB}/ltx`, { method: 'POST', headers: AUTH, body }, env);
    expect(res.status).toBe(201);
  }
});

const query = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ sql: 'SELECT count(*) FROM users' }),
};
const ROUTES: [string, string, RequestInit?][] = [
  ['page', `/v1/databases/${DB}/pages/1`],
  ['page at TXID 1', `/v1/databases/${DB}/pages/1?txid=0000000000000001`],
  ['batch', `/v1/databases/${DB}/pages?pgno=1-8`],
  ['snapshot', `/v1/databases/${DB}/snapshot`],
  ['snapshot ltx at TXID 2', `/v1/databases/${DB}/snapshot?format=ltx&txid=0000000000000002`],
  ['changes before the head', `/v1/databases/${DB}/changes?since=0000000000000001&txid=0000000000000003`],
  ['query', `/v1/databases/${DB}/query`, query],
  ['query at TXID 2', `/v1/databases/${DB}/query?txid=0000000000000002`, query],
  ['litefs page', `/litefs/db/page?db=${DB}&pos=0000000000000001/0000000000000000&pgno=1`],
  ['litefs snapshot', `/litefs/db/snapshot?db=${DB}&format=sqlite`],
];

it.each(ROUTES)('%s: 503 STORAGE_UNAVAILABLE with Retry-After, not 500', async (_what, path, init) => {
  resetReadCaches(); // cold: every byte must come from R2
  const res = await app.request(
    `${BASE}${path}`,
    { ...init, headers: { ...AUTH, ...(init?.headers as Record<string, string>) } },
    failingEnv(),
  );
  const text = await res.text();
  expect(res.status, text).not.toBe(500);
  if (path.startsWith('/litefs')) {
    // LiteFS's own error shape; a 409 EPOSMISMATCH is what LiteFS retries on for a position it cannot read.
    expect([409, 503], text).toContain(res.status);
    return;
  }
  expect(res.status, text).toBe(503);
  expect(JSON.parse(text).error.code).toBe('STORAGE_UNAVAILABLE');
  expect(res.headers.get('retry-after')).toBe('1');
});
