// A deleted database is never served, and one created again under its name serves only its own bytes — in every read route, at the head and at TXID 1, after the old one filled every cache.

import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { app } from '../../src/app.ts';
import { INCARNATION_CHECK_MS } from '../../src/read/read-service.ts';
import { decodePageBatch } from '../../src/replication/page-batch.ts';
import { bytesOf, pushWorkload } from '../helpers/workload-images.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const [first, second] = inject('queryWorkloads');
const NAME = 'incarnation';
const hex = (n: number): string => n.toString(16).padStart(16, '0');

const call = (path: string, init: RequestInit = {}): Promise<Response> =>
  Promise.resolve(app.request(`${BASE}${path}`, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } }, env));

/** Pushes a workload's chain under NAME; the database file at TXID 1 and at the head, as the codec rebuilds it. */
async function create(w: typeof first): Promise<{ txid1: Uint8Array; head: Uint8Array; headTXID: string; pageSize: number }> {
  const images = await pushWorkload(call, NAME, w);
  return { txid1: images[0], head: images.at(-1)!, headTXID: hex(images.length), pageSize: w.pageSize };
}

/** Every read route at one point, as bytes or JSON: what a client would see. */
async function readAll(point: string): Promise<Record<string, { status: number; body: Uint8Array }>> {
  const q = point ? `?${point}` : '';
  const amp = point ? `&${point}` : '';
  const routes: Record<string, [string, RequestInit?]> = {
    page1: [`/v1/databases/${NAME}/pages/1${q}`],
    batch: [`/v1/databases/${NAME}/pages?pgno=1-3${amp}`],
    snapshot: [`/v1/databases/${NAME}/snapshot${q}`],
    snapshotLtx: [`/v1/databases/${NAME}/snapshot?format=ltx${amp}`],
    changes: [`/v1/databases/${NAME}/changes?since=0000000000000001${amp}`],
    query: [
      `/v1/databases/${NAME}/query${q}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT type, name FROM sqlite_schema ORDER BY name' }),
      },
    ],
    ...(point ? {} : { litefsSnapshot: [`/litefs/db/snapshot?db=${NAME}&format=sqlite`] as [string] }),
  };
  const out: Record<string, { status: number; body: Uint8Array }> = {};
  for (const [name, [path, init]] of Object.entries(routes)) {
    const res = await call(path, init);
    out[name] = { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  }
  return out;
}

describe('delete and create again under the same name', () => {
  it("answers 404 after DELETE, then only the new database's bytes, in every route, at the head and at TXID 1", async () => {
    expect(first.pageSize).not.toBe(second.pageSize);
    const old = await create(first);
    // Fill every cache with the old database: plans at TXID 1 and the head, page indexes, shared pages.
    for (const point of ['', 'txid=0000000000000001', `txid=${old.headTXID}`]) {
      const r = await readAll(point);
      for (const [route, { status }] of Object.entries(r)) expect({ route, point, status }).toEqual({ route, point, status: 200 });
    }
    const del = await call(`/v1/databases/${NAME}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    for (const point of ['', 'txid=0000000000000001', `txid=${old.headTXID}`]) {
      const r = await readAll(point);
      for (const [route, { status, body }] of Object.entries(r)) {
        expect({ route, point, status }).toEqual({ route, point, status: 404 });
        const json = JSON.parse(new TextDecoder().decode(body)) as { error: { code: string } | string; code?: string };
        expect(route.startsWith('litefs') ? json.code : (json.error as { code: string }).code).toBe(
          route.startsWith('litefs') ? 'ENOTFOUND' : 'NOT_FOUND',
        );
      }
    }

    const now = await create(second);
    for (const [point, image] of [
      ['', now.head],
      ['txid=0000000000000001', now.txid1],
    ] as const) {
      const r = await readAll(point);
      for (const [route, { status }] of Object.entries(r)) expect({ route, point, status }).toEqual({ route, point, status: 200 });
      expect(r.snapshot.body).toEqual(image);
      if (r.litefsSnapshot) expect(r.litefsSnapshot.body).toEqual(image);
      expect(r.page1.body).toEqual(image.subarray(0, now.pageSize));
      const batch = decodePageBatch(r.batch.body, now.pageSize);
      if (!batch.ok) throw new Error(batch.message);
      for (const p of batch.pages) expect(p.data).toEqual(image.subarray((p.pgno - 1) * now.pageSize, p.pgno * now.pageSize));
      const schema = JSON.parse(new TextDecoder().decode(r.query.body)) as { rows: unknown[][]; pos: { txid: string } };
      expect(schema.pos.txid).toBe(point ? '0000000000000001' : now.headTXID);
    }
    // The old database's last TXID, if the new one has not reached it, is beyond the head now.
    if (BigInt('0x' + old.headTXID) > BigInt('0x' + now.headTXID)) {
      const res = await call(`/v1/databases/${NAME}/pages/1?txid=${old.headTXID}`);
      expect(res.status).toBe(409);
    }
  });
});

describe('a DELETE made through another isolate', () => {
  afterEach(() => vi.useRealTimers());

  it(`stops explicit-TXID reads within INCARNATION_CHECK_MS (${INCARNATION_CHECK_MS} ms), cached plan or not`, async () => {
    const name = 'incarnation-elsewhere';
    for (const b64 of first.ltx) {
      const res = await call(`/v1/databases/${name}/ltx`, { method: 'POST', body: bytesOf(b64) });
      expect(res.status).toBe(201);
    }
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    // This isolate plans TXID 1 and caches it.
    expect((await call(`/v1/databases/${name}/pages/1?txid=0000000000000001`)).status).toBe(200);
    // Another isolate deletes the database: straight to the DO, so this isolate is not told.
    const deleted = await env.DATABASE.getByName(name).destroy(name);
    expect(deleted.ok).toBe(true);
    vi.setSystemTime(t0 + INCARNATION_CHECK_MS);
    const res = await call(`/v1/databases/${name}/pages/1?txid=0000000000000001`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
