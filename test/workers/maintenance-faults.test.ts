// The cron under R2 faults: with 1–10 % of the DO's R2 calls failing during pushes and ticks, the
// catalog stays consistent and equal to the bucket, no TXID is lost except by retention's rules, and
// a re-run of the tick converges. Plus the failures retries cannot fix: R2 deletes that never
// succeed after retention's catalog commit, and a DO that dies between an R2 write and its commit.

import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { FileJSON } from '../../src/durable/info.ts';
import { checkLevelConsistency } from '../../src/replication/maintenance.ts';
import { resetReadCaches } from '../../src/read/read-caches.ts';
import { FaultyObjectStore } from '../../src/storage/faulty-store.ts';
import { type ObjectStore, StorageError } from '../../src/storage/object-store.ts';
import { buildChain, type ChainFile } from '../helpers/chain.ts';
import { withOverrides } from '../helpers/store-overrides.ts';
import {
  AUTH,
  BASE,
  ChainModel,
  MINUTE,
  bucketFiles,
  checkCompactedFile,
  clock,
  entries,
  fileId,
  forgetInRegistry,
  hex,
  listing,
  push,
  reachableTXIDs,
  registrySettled,
  restoreAt,
  tick,
} from '../helpers/cron-sim.ts';

const START = Date.UTC(2031, 0, 1, 23, 0);

afterEach(() => clock.stop());
// Later files' ticks must not find this file's databases due (the registry is shared).
afterAll(() => forgetInRegistry('cron-faults-%', 'retention-orphans-%', 'compaction-output-crash'));

/** Pushes until the DO answers 201/200; under faults only 503 is acceptable in between. */
async function pushUntilDone(db: string, f: ChainFile): Promise<number> {
  for (let attempt = 1; attempt <= 40; attempt++) {
    const status = await push(db, f);
    if (status === 201 || status === 200) return attempt - 1;
    expect(status, `push ${f.name}`).toBe(503);
  }
  throw new Error(`gave up pushing ${f.name}`);
}

/**
 * TXIDs lost other than by the retention rules: every TXID up to the head must restore, unless it
 * lies strictly inside a level-1 file (its L0 files go once L1 covers them, DESIGN §2) or below the
 * oldest snapshot (retention by TXID drops what only older files held, as Litestream does).
 */
function lostTXIDs(files: readonly FileJSON[], head: number): number[] {
  const reach = reachableTXIDs(files);
  const l1 = files.filter((f) => f.level === 1).map((f) => [parseInt(f.minTXID, 16), parseInt(f.maxTXID, 16)]);
  const floor = Math.min(...files.filter((f) => f.level === 9).map((f) => parseInt(f.maxTXID, 16)));
  const lost: number[] = [];
  for (let t = 1; t <= head; t++) if (!reach.has(t) && t >= floor && !l1.some(([a, b]) => a <= t && t < b)) lost.push(t);
  return lost;
}

/** The files of `level` as [min, max] pairs, in order. */
const ranges = (files: readonly FileJSON[], level: number) =>
  files.filter((f) => f.level === level).map((f) => [parseInt(f.minTXID, 16), parseInt(f.maxTXID, 16)]);

/** True when the ranges are contiguous up to the head (from TXID 1, or from where retention left them). */
const tiles = (rs: number[][], head: number) =>
  rs.length > 0 && rs[rs.length - 1][1] === head && rs.every((r, i) => i === 0 || r[0] === rs[i - 1][1] + 1);

describe('cron under R2 faults', () => {
  it.each([
    [0.01, 11],
    [0.05, 22],
    [0.1, 33],
    // Far beyond the brief's 10 %: enough to exhaust the 5 attempts of a retry now and then, so
    // compactions, snapshots and deletes really fail mid-pass.
    [0.4, 44],
  ])(
    '%s of the DO R2 calls failing (seed %i): catalog = bucket, nothing lost, a re-run converges',
    async (rate, seed) => {
      const t0 = performance.now();
      const db = `cron-faults-${seed}`;
      const FILES = 300;
      const PER_MINUTE = 15;
      const PUSH_MINUTES = FILES / PER_MINUTE;
      const TICKS = 70;
      const chain = await buildChain({ seed, count: FILES });
      const model = new ChainModel(chain);
      clock.start(START);
      const faulty = await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
        const store = new FaultyObjectStore(instance.store, { seed, failureRate: rate, timeoutRate: rate / 4 });
        instance.store = store;
        instance.retryDelayMs = 0;
        return store;
      });
      const checked = new Set<string>();
      const problems: string[] = [];
      /** DO visits that threw, plus actions that reported a failure. */
      let failedVisits = 0;
      let pushRetries = 0;
      let pushed = 0;
      for (let k = 1; k <= TICKS; k++) {
        for (; pushed < Math.min(k, PUSH_MINUTES) * PER_MINUTE; pushed++) {
          clock.set(START + (k - 1) * MINUTE + (pushed % PER_MINUTE) * 4000);
          pushRetries += await pushUntilDone(db, chain[pushed]);
        }
        if (k <= PUSH_MINUTES) await registrySettled(db, BigInt(pushed));
        const { visit } = await tick(START + k * MINUTE, db);
        if (visit) failedVisits += (visit.failed ? 1 : 0) + visit.actionsFailed;
        const files = await listing(db);
        expect(checkLevelConsistency(entries(files)), `consistency after tick ${k}`).toEqual([]);
        expect(lostTXIDs(files, pushed), `lost after tick ${k}`).toEqual([]);
        for (const f of files) {
          if (f.level === 0 || checked.has(fileId(f))) continue;
          checked.add(fileId(f));
          const problem = await checkCompactedFile(db, f, model);
          if (problem) problems.push(`tick ${k}: ${problem}`);
        }
      }
      const stats = await runInDurableObject(env.DATABASE.getByName(db), () => ({ ...faulty.stats, byOp: undefined }));

      // Faults off; the last tick's pass again (directly: failed passes back off in the registry) until
      // nothing is left to do at that time, then ten more minutes of ticks so L0 retention can catch up
      // with compactions the faults delayed.
      faulty.enabled = false;
      const end = START + TICKS * MINUTE;
      const reruns: number[] = [];
      for (let i = 0; i < 3; i++) {
        const rerun = await env.DATABASE.getByName(db).maintain(db, end);
        reruns.push(rerun.ok ? rerun.value.actions.length : -1);
      }
      expect(reruns[2]).toBe(0);
      for (let k = 1; k <= 10; k++) expect((await tick(end + k * MINUTE, db)).visit?.failed ?? false).toBe(false);

      const files = await listing(db);
      const listed = new Set(files.map(fileId));
      const stored = await bucketFiles(db);
      const orphans = stored.filter((id) => !listed.has(id));
      const missing = [...listed].filter((id) => !stored.includes(id));
      expect({ orphans, missing }).toEqual({ orphans: [], missing: [] });
      expect(problems).toEqual([]);
      expect(ranges(files, 0)).toEqual([[FILES, FILES]]);
      expect(tiles(ranges(files, 1), FILES)).toBe(true);
      expect(ranges(files, 9).at(-1)).toEqual([1, FILES]);
      // Every fault absorbed by retries: the very catalog of the fault-free schedule (one L1 file per
      // minute, L2 per 5 minutes, L3 at the hour, snapshots at the first tick and at midnight).
      // Otherwise failed passes merged minutes into fewer, larger files, and a late first snapshot let
      // retention drop the level-1 files below it (the levels stay gap-free: checked after every tick).
      const per = (n: number) => Array.from({ length: FILES / n }, (_, i) => [i * n + 1, (i + 1) * n]);
      if (failedVisits === 0)
        expect([1, 2, 3, 9].map((l) => ranges(files, l))).toEqual([
          per(PER_MINUTE),
          per(5 * PER_MINUTE),
          [[1, FILES]],
          [
            [1, PER_MINUTE],
            [1, FILES],
          ],
        ]);
      // Every TXID: 200 with the model's bytes exactly where the listing reaches, else 410.
      resetReadCaches();
      const reach = reachableTXIDs(files);
      for (let t = 1; t <= FILES; t++) {
        const res = await restoreAt(db, t, model);
        expect(res.problem).toBeUndefined();
        expect(res.status, `TXID ${t}`).toBe(reach.has(t) ? 200 : 410);
      }
      expect(lostTXIDs(files, FILES)).toEqual([]);
      console.log(
        `rate ${rate} seed ${seed}: faults ${JSON.stringify(stats)}, push retries ${pushRetries}, failed visits/actions ${failedVisits}, ` +
          `re-run actions ${reruns.join('/')}, ${files.length} files, ${reach.size} TXIDs restorable, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    },
    90_000,
  );
});

/** Batch deletes (retention's; compaction deletes single keys) fail: `retryable` as R2 would, else as a dying DO. */
function failingBatchDeletes(inner: ObjectStore, retryable: boolean): ObjectStore {
  return withOverrides(inner, {
    delete: async (keys) => {
      if (!Array.isArray(keys)) return inner.delete(keys);
      throw retryable ? new StorageError('STORAGE_UNAVAILABLE', 'injected: delete failed') : new Error('injected: the DO died here');
    },
  });
}

describe('objects without a catalog row after failures retries cannot fix', () => {
  // Through the admin routes (a crash inside a direct RPC would surface as an unhandled error), on a
  // fake clock so retention may run an hour later.
  const admin = async (db: string, what: string): Promise<{ status: number; body: string }> => {
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/${what}`, { method: 'POST', headers: AUTH });
    return { status: res.status, body: await res.text() };
  };
  const setup = async (db: string, count: number) => {
    clock.start(Date.now());
    const chain = await buildChain({ seed: 9, count });
    for (const f of chain.slice(0, 20)) expect(await push(db, f)).toBe(201);
    return chain;
  };
  const converged = async (db: string) => expect(await bucketFiles(db)).toEqual((await listing(db)).map(fileId).sort());

  it.each([
    ['R2 keeps failing the delete', true],
    ['the DO dies before the delete', false],
  ])('retention after its catalog commit, %s: the next pass deletes the objects', async (_what, retryable) => {
    const db = `retention-orphans-${retryable ? 'r2' : 'crash'}`;
    await setup(db, 20);
    expect((await admin(db, 'compact?level=1')).status).toBe(200);
    expect((await admin(db, 'compact?level=9')).status).toBe(200);
    clock.set(Date.now() + 3_600_000);
    await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      instance.retryDelayMs = 0;
      instance.store = failingBatchDeletes(instance.store, retryable);
    });
    const retention = await admin(db, 'retention');
    if (retryable) {
      expect(retention.status).toBe(200);
      const body = JSON.parse(retention.body) as { actions: { kind: string; ok: boolean; error?: string }[]; nextDue: number };
      expect(body.actions.map((a) => [a.kind, a.ok, a.error?.split(':')[0]])).toEqual([['delete', false, 'STORAGE_UNAVAILABLE']]);
      expect(body.nextDue).toBeLessThanOrEqual(Date.now() + MINUTE); // comes back for them soon
    } else {
      expect(retention.status).toBe(500);
      await abortAllDurableObjects();
    }
    // The catalog let them go; R2 still has them.
    expect((await listing(db)).filter((f) => f.level === 0).length).toBe(1);
    expect((await bucketFiles(db)).filter((id) => id.startsWith('0/')).length).toBe(20);
    if (retryable) {
      await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
        instance.store = (instance.store as ObjectStore & { inner: ObjectStore }).inner;
      });
    }
    const next = await env.DATABASE.getByName(db).maintain(db, Date.now());
    expect(next.ok && next.value.swept).toBe(19);
    await converged(db);
  });

  it('a DO that dies after a compaction output reached R2, before its catalog commit: the next pass deletes it', async () => {
    const db = 'compaction-output-crash';
    const chain = await setup(db, 25);
    await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      const inner = instance.store;
      instance.store = withOverrides(inner, {
        put: async (key, body, opts) => {
          const info = await inner.put(key, body, opts);
          if (key.includes('/0001/')) throw new Error('injected: the DO died after the put');
          return info;
        },
      });
    });
    expect((await admin(db, 'compact?level=1')).status).toBe(500);
    expect(await bucketFiles(db)).toContain(`1/${hex(1)}-${hex(20)}`);
    await abortAllDurableObjects();
    // More pushes first, so the next compaction covers another range and never rewrites that key.
    for (const f of chain.slice(20)) expect(await push(db, f)).toBe(201);
    const r = JSON.parse((await admin(db, 'compact?level=1')).body) as { actions: { kind: string; maxTXID: string }[]; swept: number };
    expect(r.actions.map((a) => [a.kind, a.maxTXID])).toEqual([['compact', hex(25)]]);
    expect(r.swept).toBe(1);
    await converged(db);
  });
});
