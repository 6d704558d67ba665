// The `scale` benchmark inside workerd (run by bench/scale.ts): registry upserts per shard, databases one shard maintains per tick.
//
// Prints one `SCALE_BENCH_RESULT {json}` line. Not part of `npm test` (vitest.config.ts only includes test/**).

import { env, exports } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import type { RegistryEntry } from '../../src/durable/registry.ts';
import { registryShard } from '../../src/registry/registry-shards.ts';
import { shardOf } from '../../src/registry/shard-of.ts';
import { type ChainFile, buildChain } from '../../test/helpers/chain.ts';
import type { ScaleBenchParams, ScaleBenchResult, SnapshotStepMeasurement, TickMeasurement, UpsertMeasurement } from '../scale.ts';
import { runInDurableObject } from 'cloudflare:test';
import type { DatabaseDO } from '../../src/durable/database.ts';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, makeHeader } from '../../src/ltx/index.ts';
import { prng } from '../../test/helpers/prng.ts';

const BASE = 'https://ltx-edge.bench';
const AUTH = { authorization: 'Bearer dev-token' };
const PARAMS = inject('benchParams') as unknown as ScaleBenchParams;
const SHARDS = resolveConfig(env).registryShards;
const MINUTE = 60_000;

/** `count` names starting with `prefix` whose home shard is one of `shards`. */
function namesIn(prefix: string, shards: number[], count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (shards.includes(shardOf(`${prefix}${i}`, SHARDS))) out.push(`${prefix}${i}`);
  return out;
}

/** `calls` upserts of `names` (round robin, each into its home shard), `concurrency` at a time. */
async function upserts(names: string[], calls: number, concurrency: number): Promise<number> {
  const stubs = names.map((n) => registryShard(env, shardOf(n, SHARDS)));
  const updatedAt = new Date().toISOString();
  let next = 0;
  const t = performance.now();
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      const txid = (i + 1).toString(16).padStart(16, '0');
      const e: RegistryEntry = {
        name: names[i % names.length],
        nextDue: null,
        pos: { txid, postApplyChecksum: '0'.repeat(16) },
        pageSize: 4096,
        size: 4096,
        updatedAt,
      };
      await stubs[i % names.length].upsert(e);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - t;
}

async function measureUpserts(): Promise<UpsertMeasurement[]> {
  const variants = [
    { label: 'one shard, sequential', shards: 1, concurrency: 1, calls: Math.max(50, PARAMS.upserts / 10) },
    { label: 'one shard', shards: 1, concurrency: PARAMS.upsertConcurrency, calls: PARAMS.upserts },
    { label: `${PARAMS.spreadShards} shards`, shards: PARAMS.spreadShards, concurrency: PARAMS.upsertConcurrency, calls: PARAMS.upserts },
  ];
  const out: UpsertMeasurement[] = variants.map((v) => ({ ...v, ms: [] }));
  for (const [vi, v] of variants.entries()) {
    const names = namesIn(
      `bench-scale-up-${v.shards}-`,
      Array.from({ length: v.shards }, (_, i) => i),
      PARAMS.upsertDatabases,
    );
    await upserts(names, Math.min(200, v.calls), v.concurrency); // warm-up: rows exist, stubs and code warm
    for (let round = 0; round < PARAMS.upsertRounds; round++) out[vi].ms.push(await upserts(names, v.calls, v.concurrency));
  }
  return out;
}

async function push(db: string, f: ChainFile): Promise<void> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`push to ${db}: ${res.status} ${text}`);
}

/** Pushes files [from, to) of `chain` to every database, 8 databases at a time, and waits until `shard` holds them all due at `at`. */
async function pushAll(shard: number, dbs: string[], chain: ChainFile[], from: number, to: number, at: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < dbs.length) {
      const db = dbs[next++];
      for (let i = from; i < to; i++) await push(db, chain[i]);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // The DOs announce their heads without awaiting; the tick must find every one due.
  const want = new Set(dbs);
  for (let i = 0; i < 1000; i++) {
    const due = new Set(await registryShard(env, shard).due(at, 10_000));
    if ([...want].every((n) => due.has(n))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the registry never listed every database due');
}

async function tick(shard: number, label: string, now: number, concurrency: number): Promise<TickMeasurement> {
  const t = performance.now();
  const s = await registryShard(env, shard).tick(shard, SHARDS, now, { concurrency });
  const ms = performance.now() - t;
  if (s.failed || s.timedOut || s.actionsFailed) throw new Error(`${label}: ${JSON.stringify(s)}`);
  return { label, concurrency, ms, due: s.due, maintained: s.maintained, actions: s.actions };
}

/**
 * K small databases homed in one shard, three files each (buildChain: a snapshot and two 1–3 page changes), a tick of
 * that shard (the first pass: L1 + the first snapshot), three more files each, and a second tick (the steady pass: L1
 * of the new files + L0 retention) with `concurrency` calls in flight. Ticks at future minute boundaries, later than
 * every write's due time; their `now` is what the planner sees, while the files keep their real createdAt.
 */
async function measureTicks(shard: number, concurrency: number, first: number): Promise<TickMeasurement[]> {
  const dbs = namesIn(`bench-scale-db-${shard}-`, [shard], PARAMS.maintainDatabases);
  const chain = await buildChain({ seed: 4242, count: 6 });
  // Not a 5-minute boundary, nor the next: the second pass has no L2 compaction in the way.
  while ((first / MINUTE) % 5 !== 1) first += MINUTE;
  await tick(shard, 'rebalance scan (nothing due)', Date.now() - 86_400_000, concurrency);
  await pushAll(shard, dbs, chain, 0, 3, first);
  const a = await tick(shard, `shard ${shard}, first pass: L1 + the first snapshot`, first, PARAMS.concurrency);
  await pushAll(shard, dbs, chain, 3, 6, first + MINUTE);
  const b = await tick(shard, `shard ${shard}, steady pass: L1 + L0 retention`, first + MINUTE, concurrency);
  return [a, b];
}

/**
 * A chunked snapshot of PARAMS.snapshotPages incompressible 4 KiB pages (a snapshot file and one change
 * file), PARAMS.snapshotStepPages pages per step, driven by maintain calls (snapshot only), each timed.
 */
async function measureSnapshotSteps(): Promise<SnapshotStepMeasurement> {
  const db = 'bench-scale-snapshot';
  const pages = PARAMS.snapshotPages;
  const stub = env.DATABASE.getByName(db);
  await runInDurableObject(stub, (i: DatabaseDO) => {
    i.limits.maxDatabaseBytes = pages * 4096;
    i.chunkedSnapshotBytes = 1;
    i.snapshotLimits = { maxPages: PARAMS.snapshotStepPages, stepMs: 600_000 };
    i.snapshotPauseMs = 3_600_000; // the steps below are the only ones
  });
  const r = prng(1931);
  const file = (txid: number, pgnos: number[]) =>
    encodeLTX(
      makeHeader({
        pageSize: 4096,
        commit: pages,
        minTXID: BigInt(txid),
        maxTXID: BigInt(txid),
        timestamp: Date.now(),
        flags: HEADER_FLAG_NO_CHECKSUM,
      }),
      pgnos.map((pgno) => ({ pgno, data: r.bytes(4096) })),
    );
  for (const f of [
    file(
      1,
      Array.from({ length: pages }, (_, i) => i + 1),
    ),
    file(2, [1, 2, 3, pages]),
  ]) {
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f });
    if (res.status !== 201) throw new Error(`push: ${res.status} ${await res.text()}`);
  }
  const stepMs: number[] = [];
  let buffered = 0;
  const start = Date.now();
  for (let k = 0; k < 1000; k++) {
    const t = performance.now();
    const res = await runInDurableObject(stub, (i: DatabaseDO) => i.maintain(db, Date.now() + 2 * 86_400_000, { kind: 'snapshot' }));
    stepMs.push(performance.now() - t);
    if (!res.ok) throw new Error(`snapshot step: ${res.error.code} ${res.error.message}`);
    const a = res.value.actions.findLast((x) => x.kind === 'snapshot');
    if (!a?.ok) throw new Error(`snapshot step: ${a?.error}`);
    if (!a.progress) break;
    buffered = Math.max(buffered, a.progress.bufferedBytes);
  }
  const end = Date.now();
  const full = stepMs.slice(0, -1).sort((a, b) => a - b);
  const median = full.length > 0 ? full[full.length >> 1] : stepMs[0];
  const stepPages = Math.min(PARAMS.snapshotStepPages, pages);
  return {
    mbPerSec: (stepPages * 4096) / 1e6 / (median / 1000),
    peakMiB: 0,
    stepSeconds: median / 1000,
    bufferedMiB: buffered / 2 ** 20,
    steps: stepMs.length,
    what: `${(pages * 4096) / 2 ** 20} MiB, 4 KiB incompressible pages, ${stepPages} pages per step`,
    window: { start, end },
  };
}

it('scale: registry upserts per shard and databases maintained per tick', async () => {
  const started = Date.now();
  const upserts = await measureUpserts();
  // Two shards, two sets of databases: the steady pass with 32 calls in flight, and one at a time (ms per maintain call).
  const first = Math.ceil(Date.now() / MINUTE) * MINUTE + 10 * MINUTE;
  const ticks = [...(await measureTicks(0, PARAMS.concurrency, first)), ...(await measureTicks(1, 1, first + 10 * MINUTE))];
  const snapshotStep = await measureSnapshotSteps();
  const result: ScaleBenchResult = { params: PARAMS, shards: SHARDS, upserts, ticks, snapshotStep, started, ended: 0 };
  result.ended = Date.now();
  console.log(`SCALE_BENCH_RESULT ${JSON.stringify(result)}`);
});
