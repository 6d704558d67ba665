// No client or database holds another: a stalled push yields to a /tx within the idle deadline, and one database's maintenance at its size cap, past its time budget or hung, never holds the cron, the other databases or any route.

import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import { DEFAULT_MAINTENANCE_BUDGET_MS } from '../../src/config.ts';
import { runMaintenanceTick } from '../../src/cron.ts';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { RegistryDO } from '../../src/durable/registry.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import type { MultipartUpload } from '../../src/storage/object-store.ts';
import { withOverrides } from '../helpers/store-overrides.ts';
import { stalling } from '../helpers/bodies.ts';
import { SHARDS, allShards, homeOf } from '../helpers/registry-shards.ts';
import { buildChain } from '../helpers/chain.ts';
import { prng } from '../helpers/prng.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const PS = 4096;
const DAY = 86_400_000;

function send(path: string, init: RequestInit & { stream?: ReadableStream<Uint8Array> } = {}): Promise<Response> {
  const body = init.stream ?? init.body;
  return Promise.resolve(
    app.request(`${BASE}${path}`, { ...init, headers: AUTH, body, ...(init.stream ? { duplex: 'half' } : {}) } as RequestInit, env),
  );
}

function stub(name: string) {
  return env.DATABASE.getByName(name);
}

async function setLimits(name: string, set: (limits: DatabaseDO['limits']) => void): Promise<void> {
  await runInDurableObject(stub(name), (instance: DatabaseDO) => set(instance.limits));
}

/** Resolves once `name`'s DO is running a write (its queue is busy). */
async function busy(name: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const info = (await (await send(`/v1/databases/${name}`)).json()) as { pendingWrites: number };
    if (info.pendingWrites > 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${name} never got busy`);
}

const page = (seed: number) => new Uint8Array(PS).fill(seed & 0xff);

describe('a stalled body never holds the write queue', () => {
  const IDLE_MS = 1000;

  beforeAll(async () => {
    for (const name of ['fair-push', 'fair-tx']) {
      for (const f of (await buildChain({ seed: 77, count: 3 })).slice(0, 3)) {
        expect((await send(`/v1/databases/${name}/ltx`, { method: 'POST', body: f.bytes })).status).toBe(201);
      }
      await setLimits(name, (l) => void (l.upload = { idleMs: IDLE_MS, totalMs: 30_000 }));
    }
  });

  it('a /tx behind a push that stalled mid-page commits within the idle deadline', async () => {
    const next = (await buildChain({ seed: 77, count: 4 }))[3];
    const push = send('/v1/databases/fair-push/ltx', { method: 'POST', stream: stalling(next.bytes.slice(0, 130)) });
    await busy('fair-push');
    const t0 = Date.now();
    const tx = await send('/v1/databases/fair-push/tx?base=3', { method: 'POST', body: encodePageBatch([{ pgno: 1, data: page(5) }]) });
    const waited = Date.now() - t0;
    expect(tx.status, await tx.text()).toBe(201);
    expect(waited).toBeLessThanOrEqual(IDLE_MS + 250);
    const refused = await push;
    expect(refused.status).toBe(408);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('REQUEST_TIMEOUT');
  });

  it('a push goes ahead of a /tx whose body stalled (a /tx is read before it queues)', async () => {
    const order: string[] = [];
    const tx = send('/v1/databases/fair-tx/tx?base=3', {
      method: 'POST',
      stream: stalling(encodePageBatch([{ pgno: 1, data: page(6) }]).slice(0, 100)),
    }).then((r) => {
      order.push(`tx ${r.status}`);
    });
    const next = (await buildChain({ seed: 77, count: 4 }))[3];
    const push = await send('/v1/databases/fair-tx/ltx', { method: 'POST', body: next.bytes });
    order.push(`push ${push.status}`);
    await tx;
    expect(order).toEqual(['push 201', 'tx 408']);
  });
});

describe('one database at its cap, past its budget, or hung, while others are maintained', () => {
  /** HEAVY is exactly at its cap (32 MiB of incompressible pages): its first snapshot is the most a pass can cost it. */
  const HEAVY = 'fair-heavy';
  const CAP_PAGES = 8192;
  const LIGHT = ['fair-light-1', 'fair-light-2', 'fair-light-3'];
  const STUCK = 'fair-stuck';
  /** Each multipart part of HEAVY's uploads takes this long, so its snapshot outlasts its budget whatever the machine. */
  const PART_DELAY_MS = 250;
  const HEAVY_BUDGET_MS = 300;
  /** Parts HEAVY's uploads have started (polled, like stuckReleased). */
  let heavyParts = 0;
  /** Polled, not awaited as a promise: the DO's request may not wait on a promise of the test's. */
  let stuckReleased = false;

  beforeAll(async () => {
    // Only this file's databases in the shared registry: the ticks below see nothing else.
    for (const shard of allShards()) {
      await runInDurableObject(shard, (_r: RegistryDO, state) => {
        state.storage.sql.exec("DELETE FROM databases WHERE name NOT LIKE 'fair-light-%' AND name NOT IN ('fair-heavy', 'fair-stuck')");
      });
    }
    const r = prng(2026);
    const pages = Array.from({ length: CAP_PAGES }, (_, i) => ({ pgno: i + 1, data: Uint8Array.from({ length: PS }, () => r.int(256)) }));
    await setLimits(HEAVY, (l) => {
      l.maxDatabaseBytes = CAP_PAGES * PS;
      l.maintenanceBudgetMs = HEAVY_BUDGET_MS;
    });
    expect((await send(`/v1/databases/${HEAVY}/tx?base=0&page_size=4096`, { method: 'POST', body: encodePageBatch(pages) })).status).toBe(
      201,
    );
    await runInDurableObject(stub(HEAVY), (instance: DatabaseDO) => {
      const inner = instance.store;
      instance.store = withOverrides(inner, {
        createMultipart: async (key, opts): Promise<MultipartUpload> => {
          const upload = await inner.createMultipart(key, opts);
          return {
            key: upload.key,
            uploadId: upload.uploadId,
            uploadPart: async (n, body) => {
              heavyParts++;
              await new Promise((res) => setTimeout(res, PART_DELAY_MS));
              return upload.uploadPart(n, body);
            },
            complete: (parts) => upload.complete(parts),
            abort: () => upload.abort(),
          };
        },
      });
    });
    for (const name of [...LIGHT, STUCK]) {
      for (const f of await buildChain({ seed: name.length * 31, count: 6 })) {
        expect((await send(`/v1/databases/${name}/ltx`, { method: 'POST', body: f.bytes })).status).toBe(201);
      }
    }
    // STUCK's reads of R2 never answer until the end of the test: its pass hangs inside I/O.
    await runInDurableObject(stub(STUCK), (instance: DatabaseDO) => {
      const inner = instance.store;
      instance.store = withOverrides(inner, {
        get: async (key, range) => {
          while (!stuckReleased) await new Promise((res) => setTimeout(res, 50));
          return inner.get(key, range);
        },
      });
    });
  }, 120_000);

  afterAll(async () => {
    stuckReleased = true;
    await abortAllDurableObjects();
    for (const name of [HEAVY, ...LIGHT, STUCK]) await send(`/v1/databases/${name}`, { method: 'DELETE' });
  });

  it('the tick maintains the others, every route answers meanwhile, the heavy pass stops at its budget and backs off, the hung one is left behind', async () => {
    const planned = Date.now() + DAY; // every interval has passed: compactions and first snapshots due
    const tick = runMaintenanceTick(env, planned, SHARDS, { budgetMs: 1000, graceMs: 2000 });
    let tickSettled = false;
    void tick.then(
      () => (tickSettled = true),
      () => (tickSettled = true),
    );
    // Mid-pass once the heavy merge uploads a part; on a loaded machine its budget may run out first
    // (the pass then stops before any part), and the routes are asked after the tick instead.
    while (heavyParts === 0 && !tickSettled) await new Promise((res) => setTimeout(res, 5));
    const during = await Promise.all([
      send(`/v1/databases/${HEAVY}`),
      send(`/v1/databases/${HEAVY}/pages?pgno=1,4096,8192`),
      send(`/v1/databases/${HEAVY}/query`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT 1' }) }),
      send(`/v1/databases/${LIGHT[0]}/tx?base=6`, { method: 'POST', body: encodePageBatch([{ pgno: 1, data: page(9) }]) }),
      send(`/v1/databases/${LIGHT[1]}/snapshot?format=sqlite`),
      send('/v1/databases'),
    ]);
    expect(during.map((r) => r.status)).toEqual([200, 200, expect.any(Number), 201, 200, 200]);
    expect(during[2].status).toBeLessThan(500); // SELECT 1 on random bytes: answered, whatever SQLite makes of them
    for (const r of during) await r.body?.cancel();

    const summary = await tick;
    expect(summary).toMatchObject({ due: 5, maintained: 4, timedOut: 1, failed: 0 });
    const levels = async (name: string) =>
      ((await (await send(`/v1/databases/${name}`)).json()) as { levels: { level: number }[] }).levels.map((l) => l.level);
    for (const name of LIGHT) expect(await levels(name), name).toEqual(expect.arrayContaining([1, 9]));

    const info = (await (await send(`/v1/databases/${HEAVY}`)).json()) as {
      levels: { level: number }[];
      maintenance: { failures: number; retryAt: string; budgetExhausted: boolean; lastFailure: { action: string; error: string } };
    };
    expect(info.levels.map((l) => l.level)).toEqual([0]);
    expect(info.maintenance).toMatchObject({
      failures: 1,
      budgetExhausted: true,
      lastFailure: { action: 'snapshot level 9', error: expect.stringMatching(/^MAINTENANCE_BUDGET_EXCEEDED/) },
    });
    const retryAt = Date.parse(info.maintenance.retryAt);
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 60_000);
    const stats = (await (await send(`/v1/databases/${HEAVY}/stats`)).json()) as { counters: Record<string, number>; maintenance: unknown };
    expect(stats.counters).toMatchObject({ maintenanceFailures: 1, maintenanceBudgetExhausted: 1, snapshots: 0 });
    expect(stats.maintenance).toEqual(info.maintenance);
    // Nothing of the aborted snapshot is left in R2, and the registry holds HEAVY back until retryAt.
    expect((await env.LTX_BUCKET.list({ prefix: `db/${HEAVY}/9/` })).objects).toEqual([]);
    const due = await homeOf(HEAVY).due(Date.now(), 100);
    expect(due).not.toContain(HEAVY);
    expect(await homeOf(HEAVY).due(retryAt, 100)).toContain(HEAVY);
  });

  it('with the default budget, the snapshot of a database at its cap completes and the backoff clears', async () => {
    await setLimits(HEAVY, (l) => void (l.maintenanceBudgetMs = DEFAULT_MAINTENANCE_BUDGET_MS));
    const r = await stub(HEAVY).maintain(HEAVY, Date.now() + DAY, { kind: 'snapshot' });
    expect(r.ok && r.value.actions.map((a) => [a.kind, a.ok])).toEqual([['snapshot', true]]);
    const info = (await (await send(`/v1/databases/${HEAVY}`)).json()) as {
      levels: { level: number }[];
      maintenance: { failures: number; retryAt: null };
    };
    expect(info.levels.map((l) => l.level)).toEqual([0, 9]);
    expect(info.maintenance).toMatchObject({ failures: 0, retryAt: null });
  });
});
