// A push that declares a small Content-Length is read whole in the Worker: the same answers and files as a streamed one, bad framing a 4xx, a stalled body held in the Worker, not in the DO.

import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import { SMALL_PUSH_BYTES } from '../../src/routes/databases.ts';
import { stalling } from '../helpers/bodies.ts';
import { buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };

function push(db: string, body: Uint8Array | ReadableStream<Uint8Array>, declared?: number, on: typeof env = env): Promise<Response> {
  const headers = declared === undefined ? AUTH : { ...AUTH, 'content-length': String(declared) };
  const init = { method: 'POST', headers, body, duplex: 'half' } as RequestInit;
  return Promise.resolve(app.request(`${BASE}/v1/databases/${db}/ltx`, init, on));
}

async function head(db: string): Promise<string | undefined> {
  const res = await app.request(`${BASE}/v1/databases/${db}`, { headers: AUTH }, env);
  if (res.status === 404) return undefined;
  return ((await res.json()) as { pos: { txid: string } }).pos.txid;
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('a push with a small Content-Length', () => {
  it('answers and stores exactly what the same files streamed do, the large one streamed', async () => {
    const chain = await buildChain({ seed: 515, count: 6, big: { 3: 400 } });
    // A file past SMALL_PUSH_BYTES: declared, but too large to be read whole in the Worker.
    const big = chain.find((f) => f.bytes.length > SMALL_PUSH_BYTES);
    for (const f of chain) {
      const declared = await push('cl-declared', f.bytes, f.bytes.length);
      const streamed = await push('cl-streamed', f.bytes);
      expect(declared.status).toBe(201);
      expect(await declared.json()).toEqual(await streamed.json());
    }
    const listed = async (db: string) =>
      (await env.LTX_BUCKET.list({ prefix: `db/${db}/` })).objects.map((o) => o.key.split('/').slice(2).join('/'));
    expect(await listed('cl-declared')).toEqual(await listed('cl-streamed'));
    for (const key of await listed('cl-declared')) {
      const a = await env.LTX_BUCKET.get(`db/cl-declared/${key}`);
      const b = await env.LTX_BUCKET.get(`db/cl-streamed/${key}`);
      expect(new Uint8Array(await a!.arrayBuffer())).toEqual(new Uint8Array(await b!.arrayBuffer()));
    }
    expect(big, 'the chain has a file larger than SMALL_PUSH_BYTES').toBeDefined();
  });

  it('a body shorter than declared or empty answers what the streamed one does, a longer one is a 400; nothing changes', async () => {
    const [first, second] = await buildChain({ seed: 516, count: 2 });
    expect((await push('cl-bad', first.bytes, first.bytes.length)).status).toBe(201);
    const before = await head('cl-bad');
    const answer = async (res: Response) => [res.status, await errorCode(res)];
    const cut = second.bytes.slice(0, 200);
    expect(await answer(await push('cl-bad', cut, second.bytes.length))).toEqual(await answer(await push('cl-bad', cut)));
    const empty = new Uint8Array(0);
    const emptyAnswer = await answer(await push('cl-bad', empty, 0));
    expect(emptyAnswer[0]).toBeGreaterThanOrEqual(400);
    expect(emptyAnswer[0]).toBeLessThan(500);
    expect(await answer(await push('cl-bad', second.bytes, second.bytes.length - 1))).toEqual([400, 'BAD_REQUEST']);
    expect(await head('cl-bad')).toBe(before);
    expect((await env.LTX_BUCKET.list({ prefix: 'db/cl-bad/' })).objects).toHaveLength(1);
  });

  it('a stalled body times out in the Worker (408) while the next push to the same database goes ahead', async () => {
    const [first, second] = await buildChain({ seed: 517, count: 2 });
    expect((await push('cl-stall', first.bytes, first.bytes.length)).status).toBe(201);
    const quick = { ...env, LTX_EDGE_UPLOAD_IDLE_TIMEOUT: '300ms' } as typeof env;
    const order: string[] = [];
    // Pushed once someone reads the stalled body: the Worker now; the DO, from inside its write queue, were it streamed there.
    let reading!: () => void;
    const read = new Promise<void>((r) => (reading = r));
    const body = stalling(second.bytes.slice(0, 100));
    const watched = body.pipeThrough(
      new TransformStream({
        transform(chunk, c) {
          reading();
          c.enqueue(chunk);
        },
      }),
    );
    const stalled = push('cl-stall', watched, second.bytes.length, quick).then((r) => {
      order.push(`stalled ${r.status}`);
      return r;
    });
    await read;
    const t0 = Date.now();
    const next = await push('cl-stall', second.bytes, second.bytes.length);
    order.push(`next ${next.status}`);
    // Had the stalled body reached the DO, the next push would have queued behind it for the DO's idle deadline (10 s).
    expect(Date.now() - t0).toBeLessThan(5000);
    const refused = await stalled;
    expect(order).toEqual(['next 201', 'stalled 408']);
    expect(await errorCode(refused)).toBe('REQUEST_TIMEOUT');
    expect(await head('cl-stall')).toBe(second.maxTXID.toString(16).padStart(16, '0'));
  });
});
